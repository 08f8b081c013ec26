"""The poller's incident history: when each incident opened and resolved, as the digest counts them."""

from bot.incidents.history import digest_lines, figures, record_window
from bot.incidents.model import LogEntry, PdIncident, Window

DAY = 86400.0
T0 = 1_700_000_000.0  # the scripted day starts here


def incident(incident_id: str, created_at: float | None = None) -> PdIncident:
    return PdIncident(
        "default", incident_id, 1, f"title {incident_id}", "triggered", None, "PSVC001", "s", "", created_at=created_at
    )


def entry(incident_id: str, kind: str, at: float) -> LogEntry:
    return LogEntry(f"{incident_id}-{kind}", kind, at, "", incident_id, "", None)


def poll(store, open_now: list[PdIncident], at: float, entries: list[LogEntry] = ()) -> None:
    window = Window("default", open_now, list(entries), {i.id: i for i in open_now})
    with store.write() as db:
        record_window(db, window, at)


def test_a_scripted_day_counts_opened_resolved_and_still_open(store):
    early = incident("PEARLY", created_at=T0 - 3600)  # opened the day before, resolved during the day
    poll(store, [early], T0 - 3000)
    a, b = incident("PA", created_at=T0 + 600), incident("PB", created_at=T0 + 1200)
    poll(store, [early, a, b], T0 + 1800)
    poll(store, [b], T0 + 7200, [entry("PEARLY", "resolve_log_entry", T0 + 6000)])  # PA gone: resolved now
    # opened and resolved between two polls: only the log tells
    poll(
        store,
        [b],
        T0 + 9000,
        [entry("PFLASH", "trigger_log_entry", T0 + 8000), entry("PFLASH", "resolve_log_entry", T0 + 8500)],
    )
    found = figures(store, T0, T0 + DAY)
    assert (found.opened, found.resolved, found.open_now) == (3, 3, 1)
    rows = {r["incident_id"]: r for r in store.query("SELECT * FROM pd_incident_history")}
    assert rows["PEARLY"]["resolved_at"] == T0 + 6000, "the resolve entry's moment, not the poll's"
    assert rows["PA"]["resolved_at"] == T0 + 7200
    assert rows["PFLASH"]["opened_at"] == T0 + 8000
    assert digest_lines(store, T0, T0 + DAY) == ["PagerDuty incidents: 3 opened, 3 resolved, 1 still open"]
    assert digest_lines(store, T0 + 2 * DAY, T0 + 3 * DAY) == [
        "PagerDuty incidents: 0 opened, 0 resolved, 1 still open"
    ]
    assert digest_lines(store, T0 - 3 * DAY, T0 - 2 * DAY) == []


def test_an_incident_is_opened_once_whatever_the_polls(store):
    first = incident("PONE")  # no created_at: first seen open
    poll(store, [first], T0)
    poll(store, [first], T0 + 60)
    poll(store, [], T0 + 120)
    assert figures(store, T0, T0 + DAY).opened == 1
    assert store.scalar("SELECT opened_at FROM pd_incident_history") == T0
