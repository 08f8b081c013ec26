from bot.incidents.model import PdIncident
from bot.statuspage.plan import Desired, Managed, audit_changes, desired_components, plan_changes
from bot.statuspage.rules import parse_impact

IMPACT = parse_impact("P1=major_outage,*=partial_outage")
ACK = ("acknowledged",)


def incident(account: str, incident_id: str, tags: str | None, status: str = "acknowledged", **kw) -> PdIncident:
    return PdIncident(
        account=account,
        id=incident_id,
        number=1,
        title="t",
        status=status,
        priority=kw.get("priority"),
        service_id=kw.get("service", "PSVC001"),
        service_name="s",
        html_url="",
        trigger_channel={"type": "api", "tags": tags},
    )


def test_desired_is_the_union_of_accounts():
    incidents = [
        incident("a", "P1", "component:api"),
        incident("b", "P2", "component:api", priority="P1"),
        incident("b", "P3", "component:db"),
        incident("a", "P4", "component:web", status="triggered"),
        incident("a", "P5", None, service="PMAPPED"),
    ]
    desired = desired_components(incidents, ACK, {"PMAPPED": "search"}, IMPACT, set())
    assert desired == {
        "api": Desired("api", "major_outage", frozenset({"a/P1", "b/P2"})),
        "db": Desired("db", "partial_outage", frozenset({"b/P3"})),
        "search": Desired("search", "partial_outage", frozenset({"a/P5"})),
    }
    with_triggered = desired_components(incidents, ("triggered", "acknowledged"), {}, IMPACT, set())
    assert sorted(with_triggered) == ["api", "db", "web"]


def test_suppressed_incidents_do_not_keep_a_component_down():
    incidents = [incident("a", "P1", "component:api"), incident("a", "P2", "component:db")]
    desired = desired_components(incidents, ACK, {}, IMPACT, {("api", "a/P1")})
    assert sorted(desired) == ["db"]


def managed(row_id: int, component: str, refs: set[str], state: str = "open", impact: str = "partial_outage"):
    return Managed(row_id, component, state, impact, frozenset(refs))


def test_plan_opens_resolves_and_updates():
    desired = {
        "api": Desired("api", "major_outage", frozenset({"a/P1"})),
        "db": Desired("db", "partial_outage", frozenset({"a/P2", "a/P3"})),
        "new": Desired("new", "partial_outage", frozenset({"a/P9"})),
    }
    current = [
        managed(1, "api", {"a/P1"}),
        managed(2, "db", {"a/P2"}),
        managed(3, "old", {"a/P7"}),
        managed(4, "closing", {"a/P8"}, state="resolving"),
    ]
    plan = plan_changes(desired, current, set())
    assert [d.component_id for d in plan.open] == ["new"]
    assert [m.component_id for m in plan.resolve] == ["old"]
    assert [(m.component_id, impact) for m, impact in plan.impact] == [("api", "major_outage")]
    assert [(m.component_id, refs) for m, refs in plan.refs] == [("db", frozenset({"a/P2", "a/P3"}))]
    assert plan.touches_statuspage


def test_nothing_is_resolved_on_the_word_of_a_failing_account():
    current = [managed(1, "api", {"b/P1"}), managed(2, "db", {"a/P2"}), managed(3, "adopted", set())]
    plan = plan_changes({}, current, {"b"})
    assert [m.component_id for m in plan.resolve] == ["db"]
    assert sorted(m.component_id for m in plan.held) == ["adopted", "api"]
    assert [m.component_id for m in plan_changes({}, current, set()).resolve] == ["api", "db", "adopted"]


def test_no_change_means_no_statuspage_call():
    desired = {"api": Desired("api", "partial_outage", frozenset({"a/P1"}))}
    plan = plan_changes(desired, [managed(1, "api", {"a/P1"})], set())
    assert not plan.touches_statuspage and not plan.refs


def row(row_id: int, component: str, incident_id: str | None, opened_at: float | None = 10.0) -> dict:
    return {"id": row_id, "component_id": component, "incident_id": incident_id, "opened_at": opened_at}


def marked(incident_id: str, component: str) -> dict:
    return {
        "id": incident_id,
        "metadata": {},
        "incident_updates": [{"body": "Errors.\n⛈"}],
        "components": [{"id": component}],
    }


def test_the_audit_finds_hand_resolutions_adoptions_and_duplicates():
    rows = [
        row(1, "api", "SP1"),  # still on the page
        row(2, "db", "SP2"),  # gone from the page: resolved by hand
        row(3, "web", None),  # our open in flight: owns its component
        row(4, "cdn", "SP4", opened_at=200.0),  # opened after the audit read the page
    ]
    unresolved = [
        {"id": "SP1", "incident_updates": []},
        marked("SP5", "api"),  # a second marked incident for api
        marked("SP6", "queue"),  # nobody manages queue: adopted
        marked("SP7", "queue"),  # and this one is then the duplicate
        marked("SP8", "web"),  # left alone while our open may still find its own incident
        {"id": "SP9", "incident_updates": [{"body": "a human's incident"}], "components": [{"id": "dns"}]},
    ]
    audit = audit_changes(rows, unresolved, "⛈", started=100.0)
    assert [r["id"] for r in audit.resolved_elsewhere] == [2]
    assert [(i["id"], c) for i, c in audit.adopt] == [("SP6", "queue")]
    assert [(i["id"], c, kept) for i, c, kept in audit.duplicates] == [("SP5", "api", "SP1"), ("SP7", "queue", "SP6")]
