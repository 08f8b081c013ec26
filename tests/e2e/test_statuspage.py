"""The status page end to end: the real bot polls the PagerDuty fake(s) and drives the Statuspage fake."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.scenes.statuspage import SERVICE
from sandbox.world import World
from tests.e2e.harness import BotUnderTest

MARKER = "⛈"
WAIT = 15.0


def start(make_bot: Any, **env: str) -> BotUnderTest:
    """Only the status page (Jira off), polled on demand."""
    return make_bot(INCIDENT_POLL_SECONDS="3600", JIRA_PROJECT="", **env)




def poll(world: World, bot: BotUnderTest) -> None:
    bot.runtime.scheduler.run_and_wait("incidents.poll")
    bot.drain_outbox()


def page(world: World, component: str, title: str = "", priority: str | None = None, ack: bool = True) -> str:
    incident = world.pagerduty.trigger_incident(
        SERVICE, title or f"errors on {component}", tags=f"env:prod,component:{component}", priority=priority
    )
    if ack:
        world.pagerduty.acknowledge(incident["id"])
    return str(incident["id"])


def unresolved(world: World) -> dict[str, dict[str, Any]]:
    """Unresolved Statuspage incidents carrying the marker, by component id."""
    found = {}
    for incident in world.statuspage.incidents(unresolved_only=True):
        if MARKER in incident["incident_updates"][-1]["body"]:
            found[incident["components"][0]["id"]] = incident
    return found


def status_of(world: World, component: str) -> str:
    return str(world.statuspage.component(component)["status"])




def test_tag_forms_open_one_incident_per_component(world, make_bot):
    pd = world.pagerduty
    bot = start(make_bot, STATUSPAGE_NOTIFY_CHANNEL="C0OPS")
    datadog = pd.trigger_incident(SERVICE, "API latency", tags="env:prod,component:sp0api")
    pingdom = pd.trigger_incident(
        SERVICE, "Website down", tags=["env:prod", "component_sp0web"], channel_type="pingdom"
    )
    email = pd.trigger_incident(SERVICE, "DB alarm", channel_type="email", body="db-1 is down\nComponent: sp0db\n")
    second_on_api = pd.trigger_incident(SERVICE, "API 5xx", tags=["component:sp0api"])
    untagged = pd.trigger_incident(SERVICE, "Disk 80% full", tags="env:prod")
    for incident in (datadog, pingdom, email, second_on_api, untagged):
        pd.acknowledge(incident["id"])
    world.statuspage.add_component("sp0search", "Search")
    page(world, "sp0search", ack=False)  # triggered only: pagerstatus's rule is "acknowledged"
    poll(world, bot)

    opened = unresolved(world)
    assert sorted(opened) == ["sp0api", "sp0db", "sp0web"]
    assert opened["sp0web"]["name"] == "Investigating Errors in Website"
    body = opened["sp0db"]["incident_updates"][-1]["body"]
    assert body == (
        "Automated monitoring has determined that Database is experiencing errors, and the on-call engineer is "
        f"beginning to investigate.\n{MARKER}"
    )
    assert [status_of(world, c) for c in ("sp0api", "sp0db", "sp0web", "sp0search")] == [
        "partial_outage",
        "partial_outage",
        "partial_outage",
        "operational",
    ]
    texts = [m["text"] for m in world.slack.messages("C0OPS")]
    assert sum("Statuspage incident opened for *Database* (partial outage)" in t for t in texts) == 1
    assert len([t for t in texts if "Statuspage incident opened" in t]) == 3

    calls = len(world.statuspage.requests)
    poll(world, bot)  # nothing changed: not a single Statuspage request
    assert len(world.statuspage.requests) == calls
    assert len(world.statuspage.calls("POST", r"/incidents$")) == 3


def test_triggered_setting_opens_on_triggered_incidents(world, make_bot):
    bot = start(make_bot, STATUSPAGE_OPEN_ON="triggered")
    page(world, "sp0web", ack=False)
    poll(world, bot)
    assert sorted(unresolved(world)) == ["sp0web"]


def test_resolved_when_no_incident_affects_the_component(world, make_bot):
    bot = start(make_bot, STATUSPAGE_NOTIFY_CHANNEL="C0OPS")
    first, second = page(world, "sp0api"), page(world, "sp0api", "API 5xx")
    poll(world, bot)
    incident_id = unresolved(world)["sp0api"]["id"]
    world.pagerduty.resolve(first)
    poll(world, bot)
    assert "sp0api" in unresolved(world), "the second PagerDuty incident still affects it"
    world.pagerduty.resolve(second)
    poll(world, bot)
    assert unresolved(world) == {}
    resolved = world.statuspage.incident(incident_id)
    assert resolved["status"] == "resolved"
    assert resolved["incident_updates"][0]["body"] == "This incident has been resolved."
    assert status_of(world, "sp0api") == "operational"
    assert any("resolved: no PagerDuty incident affects it" in m["text"] for m in world.slack.messages("C0OPS"))


def test_union_of_accounts_and_a_failing_account_degrades_only_itself(world, make_bot, account_b):
    bot = start(make_bot, PAGERDUTY_ACCOUNT_B="pd-b", PAGERDUTY_ACCOUNT_B_URL=account_b.base_url)
    in_a = page(world, "sp0api")
    in_b = account_b.trigger_incident("PBMON01", "B sees API errors", tags="component:sp0api")
    db_b = account_b.trigger_incident("PBMON01", "B database", tags="component:sp0db")
    account_b.acknowledge(in_b["id"])
    account_b.acknowledge(db_b["id"])
    poll(world, bot)
    assert sorted(unresolved(world)) == ["sp0api", "sp0db"]
    assert len(world.statuspage.calls("POST", r"/incidents$")) == 2  # one per component, not per account

    world.pagerduty.resolve(in_a)
    poll(world, bot)
    assert "sp0api" in unresolved(world), "account A's resolve must not close a component account B still has down"

    account_b.inject_fault(r"^/incidents$", 500, method="GET", times=-1)
    account_b.resolve(db_b["id"])
    with pytest.raises(RuntimeError, match="b: "):
        bot.runtime.scheduler.run_and_wait("incidents.poll")
    bot.drain_outbox()
    assert sorted(unresolved(world)) == ["sp0api", "sp0db"], "a failing account keeps its last known state"
    counts = bot.runtime.home.counts()["statuspage"]
    assert counts["PagerDuty accounts failing"] == 1 and counts["PagerDuty accounts polled"] == 1
    status = bot.command_reply("U0BOB", "C0OPS", "/statuspage", "status")
    assert "• b: failing since" in status and "• default: OK" in status

    account_b.clear_faults()
    poll(world, bot)
    assert sorted(unresolved(world)) == ["sp0api"]
    account_b.resolve(in_b["id"])
    poll(world, bot)
    assert unresolved(world) == {}
    assert status_of(world, "sp0api") == status_of(world, "sp0db") == "operational"


def test_open_incidents_are_read_past_the_first_page(world, make_bot):
    bot = start(make_bot)
    for n in range(104):
        world.pagerduty.trigger_incident(SERVICE, f"noise {n}", tags="env:prod")
    page(world, "sp0db", "the 105th incident")
    poll(world, bot)
    assert sorted(unresolved(world)) == ["sp0db"]
    offsets = [r.q("offset") for r in world.pagerduty.calls("GET", r"^/incidents$")]
    assert "100" in offsets


def test_human_incidents_are_never_touched_and_a_human_resolution_is_not_reopened(world, make_bot):
    sp = world.statuspage
    bot = start(make_bot, STATUSPAGE_NOTIFY_CHANNEL="C0OPS")
    human = sp.create_incident_as_human("Database maintenance", ["sp0db"], "We are upgrading the database.")
    first = page(world, "sp0db")
    poll(world, bot)
    ours = unresolved(world)["sp0db"]
    assert ours["id"] != human["id"]
    assert len(sp.incidents(unresolved_only=True)) == 2

    sp.resolve_as_human(ours["id"], "Fixed, closing by hand.")
    page(world, "sp0web")  # any change makes the bot look at the page again
    poll(world, bot)
    assert sorted(unresolved(world)) == ["sp0web"], "not reopened while the same PagerDuty incident is open"
    assert any("resolved on Statuspage by hand" in m["text"] for m in world.slack.messages("C0OPS"))
    assert bot.runtime.home.counts()["statuspage"]["resolved by hand"] == 1

    second = page(world, "sp0db", "a new database problem")
    poll(world, bot)
    assert "sp0db" in unresolved(world), "a new PagerDuty incident opens a new status incident"
    for incident_id in (first, second):
        world.pagerduty.resolve(incident_id)
    poll(world, bot)
    assert "sp0db" not in unresolved(world)
    assert sp.incident(human["id"])["status"] == "investigating"
    assert not [r for r in sp.requests if human["id"] in r.path], "no request ever touched the human's incident"


def test_impact_follows_priority(world, make_bot):
    bot = start(make_bot, STATUSPAGE_NOTIFY_CHANNEL="C0OPS")
    incident = page(world, "sp0api", priority="P2")
    poll(world, bot)
    assert status_of(world, "sp0api") == "partial_outage"
    world.pagerduty.set_priority(incident, "P1")
    poll(world, bot)
    assert status_of(world, "sp0api") == "major_outage"
    assert any("*Public API* is now at major outage" in m["text"] for m in world.slack.messages("C0OPS"))
    world.pagerduty.set_priority(incident, "P3")
    poll(world, bot)
    assert status_of(world, "sp0api") == "partial_outage"
    assert len(world.statuspage.calls("POST", r"/incidents$")) == 1


def test_custom_templates_marker_and_impact_table(world, make_bot):
    bot = start(
        make_bot,
        STATUSPAGE_INCIDENT_NAME="{{component_name}} is degraded",
        STATUSPAGE_INCIDENT_BODY="We are looking into {{ component_name }} ({{component_id}}).",
        STATUSPAGE_MARKER="[auto]",
        STATUSPAGE_IMPACT="P1=major_outage,P2=partial_outage,*=degraded_performance",
    )
    page(world, "sp0web", priority="P4")
    poll(world, bot)
    incident = world.statuspage.incidents(unresolved_only=True)[0]
    assert incident["name"] == "Website is degraded"
    assert incident["incident_updates"][-1]["body"] == "We are looking into Website (sp0web).\n[auto]"
    assert status_of(world, "sp0web") == "degraded_performance"


def test_marked_incidents_are_adopted_and_a_duplicate_is_resolved(world, make_bot):
    """Incidents left by pagerstatus (or a lost database) carry the marker: adopted, never duplicated."""
    sp = world.statuspage
    left_over = sp.create_incident_as_human("Investigating Errors in Public API", ["sp0api"], f"Old tool\n{MARKER}")
    twin_a = sp.create_incident_as_human("Investigating Errors in Website", ["sp0web"], f"Old tool\n{MARKER}")
    twin_b = sp.create_incident_as_human("Investigating Errors in Website", ["sp0web"], f"Old tool\n{MARKER}")
    bot = start(make_bot)
    incident = page(world, "sp0api")
    poll(world, bot)
    assert sp.calls("POST", r"/incidents$") == [], "the marked incident was adopted, not duplicated"
    # One twin was resolved as a duplicate, the other because nothing in PagerDuty affects the Website.
    assert all(sp.incident(i["id"])["status"] == "resolved" for i in (twin_a, twin_b))
    assert sp.incident(left_over["id"])["status"] == "investigating"
    world.pagerduty.resolve(incident)
    poll(world, bot)
    assert sp.incident(left_over["id"])["status"] == "resolved"


def test_a_bad_setting_stops_startup_with_its_name(world):
    from bot.settings import SettingsError
    from bot.wiring import build

    with pytest.raises(SettingsError, match="STATUSPAGE_OPEN_ON must be acknowledged or triggered"):
        build(world.settings(STATUSPAGE_OPEN_ON="resolved", SWITCHBOARD_RETRY_PROFILE="test"))


def test_a_tag_naming_an_unknown_component_is_reported_once(world, make_bot, caplog):
    bot = start(make_bot)
    page(world, "nosuchcomponent")
    with caplog.at_level("WARNING", logger="bot.statuspage.reconcile"):
        poll(world, bot)
        calls = len(world.statuspage.requests)
        poll(world, bot)
    assert unresolved(world) == {}
    assert len(world.statuspage.requests) == calls, "not retried every poll"
    warnings = [r.getMessage() for r in caplog.records if "'nosuchcomponent'" in r.getMessage()]
    assert len(warnings) == 1
