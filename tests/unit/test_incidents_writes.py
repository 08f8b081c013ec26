import time

from bot.incidents.writes import ECHO_SECONDS, is_own_write, recently_written, record_seen, record_write


def test_only_the_latest_recent_write_counts_as_our_own(store):
    with store.write() as db:
        record_write(db, "jira", "OPS-1", "status", "indeterminate")
        record_write(db, "jira", "OPS-1", "status", "done")
    assert is_own_write(store, "jira", "OPS-1", "status", "done")
    assert not is_own_write(store, "jira", "OPS-1", "status", "indeterminate")  # a human moved it back
    assert not is_own_write(store, "jira", "OPS-2", "status", "done")
    assert not is_own_write(store, "pagerduty", "OPS-1", "status", "done")
    store.execute("UPDATE incident_sync_writes SET at = ?", [time.time() - ECHO_SECONDS - 1])
    assert not is_own_write(store, "jira", "OPS-1", "status", "done")


def test_a_change_seen_from_someone_else_ends_the_echo_guard(store):
    with store.write() as db:
        record_write(db, "jira", "OPS-1", "priority", "Highest")
        record_seen(db, "jira", "OPS-1", "priority", "High")  # a human lowered it
    assert not is_own_write(store, "jira", "OPS-1", "priority", "Highest"), "her raising it back is a real change"
    with store.write() as db:
        record_write(db, "jira", "OPS-1", "priority", "High")
    assert is_own_write(store, "jira", "OPS-1", "priority", "High")
    assert recently_written(store, "jira", 60) == ["OPS-1"]


def test_recently_written_refs_newest_first(store):
    with store.write() as db:
        for key in ("OPS-1", "OPS-2", "OPS-1"):
            record_write(db, "jira", key, "priority", "High")
    assert recently_written(store, "jira", 60) == ["OPS-1", "OPS-2"]
    assert recently_written(store, "pagerduty", 60) == []
