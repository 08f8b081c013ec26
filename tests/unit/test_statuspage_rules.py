import pytest

from bot.statuspage import rules


@pytest.mark.parametrize(
    ("channel", "components"),
    [
        ({"type": "api", "tags": "env:prod,component:api01"}, ["api01"]),  # Datadog: a string
        ({"type": "pingdom", "tags": ["env:prod", "component_web01"]}, ["web01"]),  # Pingdom: a list
        ({"type": "email", "body": "Host db-1 down.\nComponent: db01\nThanks"}, ["db01"]),  # email body
        ({"type": "api", "tags": ["Component:a1", "component: b2", "component:a1"]}, ["a1", "b2"]),
        ({"type": "api", "tags": "env:prod"}, []),
        ({"type": "api", "tags": None, "body": None}, []),
        ({}, []),
    ],
)
def test_components_of_every_tag_form(channel, components):
    assert rules.components_of(channel) == components


def test_impact_table():
    table = rules.parse_impact(rules.DEFAULT_IMPACT)
    assert [table.status_for(p) for p in ("P1", "P2", None)] == ["major_outage", "partial_outage", "partial_outage"]
    custom = rules.parse_impact("P1=major_outage, P2=partial_outage, *=degraded_performance")
    assert custom.status_for("P5") == "degraded_performance"
    assert rules.worst(["partial_outage", "major_outage", "degraded_performance"]) == "major_outage"
    with pytest.raises(ValueError, match="STATUS one of"):
        rules.parse_impact("P1=down")


def test_templates_and_the_marker():
    assert rules.render(rules.DEFAULT_NAME, "api01", "API") == "Investigating Errors in API"
    assert rules.render("{{ component_name }} ({{component_id}})", "api01", "API") == "API (api01)"
    body = rules.incident_body("Errors in {{component_name}}.", "⛈", "api01", "API")
    assert body == "Errors in API.\n⛈"


def test_managed_incidents_are_recognised_by_the_oldest_update():
    marked = {
        "incident_updates": [
            {"body": "Resolved.", "affected_components": [{"code": "api01"}]},
            {"body": "Investigating.\n⛈", "affected_components": [{"code": "web01"}, {"code": "api01"}]},
        ],
        "components": [{"id": "api01"}],
    }
    assert rules.is_managed(marked, "⛈")
    assert rules.managed_component(marked) == "api01"
    human = {"incident_updates": [{"body": "⛈ in a later update"}, {"body": "We are investigating."}]}
    assert not rules.is_managed(human, "⛈")
    ours = {"metadata": {"switchboard": {"component_id": "db01"}}, "incident_updates": []}
    assert rules.managed_component(ours) == "db01"
    assert rules.managed_component({"components": [{"id": "x1"}]}) == "x1"
    assert rules.managed_component({}) is None


def test_an_adopted_incident_keeps_the_impact_the_page_shows():
    incident = {"components": [{"id": "api01", "name": "API", "status": "major_outage"}, {"id": "web01"}]}
    assert rules.adopted_state(incident, "api01") == ("major_outage", "API")
    assert rules.adopted_state(incident, "web01") == ("partial_outage", None)
    assert rules.adopted_state({}, "db01") == ("partial_outage", None)
