"""The status page's digest minutes and its doctor's unknown components (pure parts)."""

from bot.incidents.model import PdIncident
from bot.statuspage.outage_minutes import minutes_per_component
from bot.statuspage.unknown_components import findings, unknown_components

T0 = 1_700_000_000.0
HOUR = 3600.0


def row(component: str, opened: float | None, resolved: float | None, name: str | None = None) -> dict:
    return {"component_id": component, "component_name": name, "opened_at": opened, "resolved_at": resolved}


def test_minutes_are_clipped_to_the_period_and_summed_per_component():
    rows = [
        row("api", T0 - HOUR, T0 + 0.5 * HOUR, "Public API"),  # 30 min inside the period
        row("api", T0 + 2 * HOUR, T0 + 2.25 * HOUR, "Public API"),  # 15 more
        row("web", T0 + 23 * HOUR, None, "Website"),  # still open: counted to the period's end
        row("db", None, None),  # never opened on the page
        row("old", T0 - 2 * HOUR, T0 - HOUR),  # over before the period
    ]
    assert minutes_per_component(rows, T0, T0 + 24 * HOUR) == {"Public API": 45.0, "Website": 60.0}


def incident(number: int, tags: str, service: str = "PSVC001") -> PdIncident:
    return PdIncident(
        "default",
        f"P{number}",
        number,
        f"errors {number}",
        "acknowledged",
        None,
        service,
        "Checkout",
        f"https://pd.example/incidents/P{number}",
        trigger_channel={"type": "api", "tags": tags},
    )


def test_unknown_components_come_from_tags_and_mappings():
    known = {"api": "Public API"}
    mappings = [{"service_id": "PMAP", "service_name": "Billing", "component_id": "gone"}]
    unknown = unknown_components([incident(1, "component:api"), incident(2, "component:ghost")], mappings, known)
    assert [(u.component_id, [i.number for i in u.incidents], len(u.services)) for u in unknown] == [
        ("ghost", [2], 0),
        ("gone", [], 1),
    ]
    ghost, gone = findings(unknown, known)
    assert "`ghost`" in ghost.problem and "#2" in ghost.problem
    assert "create component `ghost`" in ghost.fix and "tag" in ghost.fix
    assert '/statuspage map "Billing" <component>' in gone.fix and "`api` (Public API)" in gone.fix


def test_nothing_unknown_nothing_found():
    assert unknown_components([incident(1, "component:api")], [], {"api": "Public API"}) == []
