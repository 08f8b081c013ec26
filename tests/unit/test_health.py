from bot.clients.slack import ReconnectBackoff
from bot.health import Heartbeat, JobBeat, check, check_file, reconnects_last_day, record_reconnect, write_heartbeat


def beat(at: float = 1000.0, connected: bool = True, jobs: list[JobBeat] | None = None) -> Heartbeat:
    return Heartbeat(at=at, pid=42, started_at=900.0, connected=connected, interval=15.0, jobs=jobs or [])


def test_health_needs_a_fresh_heartbeat_a_connection_and_jobs_on_time(store):
    assert check(store, now=1000.0) == (
        False,
        "no heartbeat in the database: is the bot running with this DATABASE_PATH?",
    )
    jobs = [JobBeat("support.poll", 60.0, False, 990.0), JobBeat("core.outbox", 1.0, True, 0.0)]
    write_heartbeat(store, beat(jobs=jobs))
    assert check(store, now=1005.0) == (True, "ok: connected, 2 jobs on time, heartbeat 5s ago")
    assert check(store, now=1046.0) == (False, "no heartbeat for 46s (pid 42): the bot is stopped or stuck")
    write_heartbeat(store, beat(connected=False))
    assert check(store, now=1001.0) == (False, "not connected to Slack (Socket Mode is reconnecting)")
    write_heartbeat(store, beat(at=1160.0, jobs=[JobBeat("support.poll", 60.0, False, 1000.0)]))
    assert check(store, now=1160.0) == (True, "ok: connected, 1 jobs on time, heartbeat 0s ago")  # 100 s late
    write_heartbeat(store, beat(at=1200.0, jobs=[JobBeat("support.poll", 30.0, False, 1000.0)]))
    assert check(store, now=1200.0) == (False, "job support.poll is overdue by 170s")
    write_heartbeat(store, beat(at=1000.0, jobs=[JobBeat("core.outbox", 1.0, False, 999.5)]))
    assert check(store, now=1020.0)[0]  # a 20 s old snapshot of a 1 s job is not an overdue job


def test_the_probe_reads_without_creating_a_database(tmp_path):
    missing = tmp_path / "none.db"
    assert check_file(missing) == (False, f"no database at {missing}: is the bot running with this DATABASE_PATH?")
    assert not missing.exists()


def test_reconnects_are_counted_over_the_last_day(store):
    for at in (0.0, 50_000.0, 90_000.0):
        record_reconnect(store, now=at)
    assert reconnects_last_day(store, now=90_001.0) == 2


def test_reconnect_waits_grow_exponentially_to_a_cap_and_reset_after_a_stable_connection():
    now = [0.0]
    backoff = ReconnectBackoff(base=1.0, cap=60.0, stable=60.0, clock=lambda: now[0], jitter=lambda: 1.0)
    for _ in range(8):
        backoff.failed()
    assert backoff.delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert not backoff.allowed()
    now[0] += 60
    assert backoff.allowed()
    backoff.connected()
    now[0] += 5
    backoff.dropped()  # up for 5 s only: Slack drops us repeatedly, keep backing off
    assert backoff.delays[-1] == 60.0
    backoff.connected()
    now[0] += 600
    backoff.dropped()  # a stable connection ended: start over
    backoff.failed()
    assert backoff.delays[-1] == 1.0


def test_jitter_spreads_a_wait_between_half_and_all_of_it():
    backoff = ReconnectBackoff(base=8.0, jitter=lambda: 0.0)
    backoff.failed()
    assert backoff.delays == [4.0]
