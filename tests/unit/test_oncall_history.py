"""The hand-off history behind the digest's on-call changes."""

from __future__ import annotations

from bot.oncall.history import MAX_DIGEST_CHANGES, digest_lines, prune_handoffs, record_handoffs
from bot.oncall.rules import Handoff, TakenOver

DAY = 86400.0


def handoff(user_id: str, person: str, *shifts: tuple[str, str, float]) -> Handoff:
    return Handoff(
        "line",
        None,
        "dm",
        f"key:{user_id}",
        user_id=user_id,
        person=person,
        shifts=tuple(TakenOver(*shift) for shift in shifts),
    )


def test_one_line_per_person_and_moment_naming_every_schedule_then_taken_over(store):
    store.execute("INSERT INTO oncall_links (schedules, created_at, updated_at) VALUES ('PA', 0, 0)")
    with store.write() as db:
        record_handoffs(
            db,
            [handoff("PBOB", "Bob <B>", ("PA", "Primary", 100.0), ("PB", "DB", 100.0), ("PC", "Nights", 50.0))],
            now=200.0,
        )
        record_handoffs(db, [handoff("PBOB", "Bob <B>", ("PA", "Primary", 100.0))], now=300.0)  # seen again
    lines = digest_lines(store, 0.0, DAY)
    assert lines[0] == "On-call changes: 2"
    assert lines[1].startswith("• <!date^50^") and lines[1].endswith(": Bob &lt;B&gt; took over Nights")
    assert lines[2].startswith("• <!date^100^") and lines[2].endswith(": Bob &lt;B&gt; took over Primary and DB")
    assert digest_lines(store, 101.0, DAY) == ["No on-call changes."]
    assert prune_handoffs(store, 60.0) == 1


def test_a_busy_day_is_summed_up_past_the_listed_changes(store):
    with store.write() as db:
        record_handoffs(db, [handoff(f"P{n}", f"P{n}", ("PA", "A", float(n))) for n in range(60)], now=100.0)
    lines = digest_lines(store, 0.0, DAY)
    assert lines[0] == "On-call changes: 60" and len(lines) == 1 + MAX_DIGEST_CHANGES + 1
    assert lines[-1] == "• … and 10 more"


def test_nothing_linked_and_nothing_changed_is_no_section(store):
    assert digest_lines(store, 0.0, DAY) == []
