import sqlite3
import threading

import pytest

from bot.store import Migration, Store
from bot.wiring import MIGRATIONS


def test_wal_and_busy_timeout(store):
    assert store.scalar("PRAGMA journal_mode") == "wal"
    assert store.scalar("PRAGMA busy_timeout") >= 5000


def test_migrations_apply_once_and_forward(tmp_path):
    path = tmp_path / "m.db"
    Store(path, MIGRATIONS).close()
    extra = Migration(99, "test table", lambda db: db.execute("CREATE TABLE extra (id INTEGER PRIMARY KEY)"))
    reopened = Store(path, [*MIGRATIONS, extra])
    assert reopened.schema_version == 99
    assert reopened.migrate() == []  # nothing left to apply
    assert "extra" in reopened.db.table_names()
    reopened.close()


def test_failed_migration_leaves_no_trace(tmp_path):
    def broken(db):
        db.execute("CREATE TABLE half (id INTEGER)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        Store(tmp_path / "b.db", [*MIGRATIONS, Migration(50, "broken", broken)])
    reopened = Store(tmp_path / "b.db", MIGRATIONS)
    assert "half" not in reopened.db.table_names()
    assert reopened.schema_version == MIGRATIONS[-1].version
    reopened.close()


def test_write_rolls_back_on_error(store):
    with pytest.raises(ValueError), store.write() as db:
        db.execute("INSERT INTO state (key, value, updated_at) VALUES ('a', '1', 0)")
        raise ValueError
    assert store.get_state("a") is None


def test_insert_ignore_dedupes(store):
    assert store.insert_ignore("slack_events", {"event_id": "Ev1", "received_at": 1})
    assert not store.insert_ignore("slack_events", {"event_id": "Ev1", "received_at": 2})


def test_parallel_writers_never_see_locked_and_lose_nothing(tmp_path):
    """Bolt worker threads and the scheduler write at once; every row must land and no 'database is locked'."""
    store = Store(tmp_path / "stress.db", MIGRATIONS)
    writers, rows_each = 8, 150
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def writer(n: int) -> None:
        start.wait()
        try:
            for i in range(rows_each):
                with store.write() as db:
                    # read-then-write inside one transaction: the case that deadlocks with deferred BEGIN
                    count = db.execute("SELECT COUNT(*) FROM state").fetchone()[0]
                    db.execute("INSERT INTO state (key, value, updated_at) VALUES (?, ?, 0)", [f"{n}-{i}", str(count)])
                store.set_state(f"cursor-{n}", str(i))
        except sqlite3.OperationalError as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.scalar("SELECT COUNT(*) FROM state WHERE key NOT LIKE 'cursor-%'") == writers * rows_each
    assert all(store.get_state(f"cursor-{n}") == str(rows_each - 1) for n in range(writers))
    store.close()


def test_the_database_and_its_wal_are_private_to_this_user(tmp_path):
    path = tmp_path / "private" / "switchboard.db"
    store = Store(path, MIGRATIONS)
    store.set_state("test.key", "value")  # a write, so the -wal and -shm files exist
    modes = {p.name: p.stat().st_mode & 0o777 for p in path.parent.iterdir()}
    store.close()
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert modes == {"switchboard.db": 0o600, "switchboard.db-wal": 0o600, "switchboard.db-shm": 0o600}


def test_an_existing_database_is_tightened_on_open(tmp_path):
    path = tmp_path / "old.db"
    Store(path, MIGRATIONS).close()
    path.chmod(0o644)
    Store(path, MIGRATIONS).close()
    assert path.stat().st_mode & 0o777 == 0o600
