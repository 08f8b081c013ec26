import threading
import time

import pytest

from bot.scheduler import Scheduler


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@pytest.fixture
def scheduler(store):
    s = Scheduler(store)
    yield s
    s.stop(timeout=5)


def runs(store, job):
    return store.query("SELECT * FROM job_runs WHERE job = ? ORDER BY id", [job])


def test_failing_job_is_recorded_and_keeps_its_interval(scheduler, store):
    def explode():
        raise RuntimeError("vendor down")

    scheduler.every("flaky", 0.3, explode)
    scheduler.start()
    wait_until(lambda: len(runs(store, "flaky")) >= 3)
    rows = runs(store, "flaky")
    assert all(r["ok"] == 0 and r["error"] == "RuntimeError: vendor down" for r in rows)
    # Rescheduled at its interval, not re-run on every tick: over its first ~0.9 s (the catch-up run plus about
    # three intervals) a hot failure loop would have run it dozens of times.
    span = rows[-1]["started_at"] - rows[0]["started_at"]
    assert len(rows) <= 2 + span / 0.3 + 1
    assert scheduler._thread.is_alive()
    status = {s.name: s for s in scheduler.status()}["flaky"]
    assert status.last_error == "RuntimeError: vendor down" and status.last_success_at is None
    assert status.failures >= 3 and status.next_run_at is not None


def test_job_never_overlaps_itself_and_slow_job_does_not_block_others(scheduler, store):
    release = threading.Event()
    started = []

    def slow():
        started.append(time.time())
        release.wait(5)

    scheduler.every("slow", 0.05, slow)
    scheduler.every("quick", 0.05, lambda: None)
    scheduler.start()
    wait_until(lambda: len(runs(store, "quick")) >= 5)
    assert len(started) == 1  # every later tick found it running and skipped
    assert scheduler.run_now("slow") is False
    release.set()
    wait_until(lambda: runs(store, "slow") and runs(store, "slow")[0]["ok"] == 1)


def test_run_at_runs_a_job_at_the_given_moment(scheduler, store):
    ran_at = []
    scheduler.add("handoff", lambda: ran_at.append(time.time()))
    scheduler.start()
    when = time.time() + 0.4
    scheduler.run_at("handoff", when)
    assert {s.name: s for s in scheduler.status()}["handoff"].next_run_at == pytest.approx(when)
    wait_until(lambda: ran_at)
    assert ran_at[0] >= when
    assert ran_at[0] - when < 0.5  # the loop wakes for it rather than waiting for a coarse tick


def test_stop_lets_the_running_job_finish(store):
    scheduler = Scheduler(store)
    finished = threading.Event()
    entered = threading.Event()

    def job():
        entered.set()
        threading.Event().wait(0.3)  # a job that takes a while
        finished.set()

    scheduler.add("work", job)
    scheduler.start()
    scheduler.run_now("work")
    entered.wait(5)
    scheduler.stop(timeout=5)
    assert finished.is_set()
    assert runs(store, "work")[0]["ok"] == 1


def test_successful_run_is_recorded(scheduler, store):
    scheduler.every("fine", 60, lambda: None)
    scheduler.start()
    wait_until(lambda: runs(store, "fine") and runs(store, "fine")[0]["finished_at"])
    status = {s.name: s for s in scheduler.status()}["fine"]
    assert status.last_success_at is not None and status.last_error is None
    assert status.next_run_at > time.time() + 50


def test_a_busy_job_satisfies_a_one_off_only_if_its_run_began_after_the_moment(scheduler, store):
    release = threading.Event()
    scheduler.add("sync", lambda: release.wait(5))
    scheduler.start()
    scheduler.run_now("sync")  # began now
    wait_until(lambda: scheduler._jobs["sync"].started_at)
    began = scheduler._jobs["sync"].started_at
    scheduler.run_at("sync", began - 1)  # asked for a moment before the running run began: already satisfied
    scheduler.run_at("sync", time.time() + 0.2)  # a hand-off after it began: must run again once it is free
    wait_until(lambda: not scheduler._one_offs or scheduler._one_offs[0][0] > time.time() + 0.1)
    release.set()
    wait_until(lambda: len(runs(store, "sync")) == 2 and runs(store, "sync")[1]["finished_at"])
    assert len(runs(store, "sync")) == 2
