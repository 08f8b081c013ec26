"""The hooks of the incident capabilities for the rest of the bot, against the PagerDuty, Statuspage and Jira fakes:
the digest's incidents and status-page minutes, the doctor's unknown components and missing Jira transitions, and
the status incident linked from a PagerDuty incident."""

from __future__ import annotations

import time
from typing import Any

from sandbox.scenes.statuspage import SERVICE
from sandbox.world import World
from tests.e2e.harness import BotUnderTest

DAY = 86400.0
T0 = 1_700_000_000.0  # the scripted day


def start(make_bot: Any, **env: str) -> BotUnderTest:
    """The status page and the Jira sync, both polled on demand."""
    return make_bot(INCIDENT_POLL_SECONDS="3600", JIRA_POLL_SECONDS="3600", **env)


def poll(bot: BotUnderTest) -> None:
    bot.runtime.scheduler.run_and_wait("incidents.poll")
    bot.drain_outbox()


def page(world: World, component: str, title: str, priority: str | None = None) -> dict[str, Any]:
    incident = world.pagerduty.trigger_incident(
        SERVICE, title, tags=f"env:prod,component:{component}", priority=priority
    )
    world.pagerduty.acknowledge(incident["id"])
    return incident


def test_the_digest_of_a_scripted_day(world, make_bot):
    bot = start(make_bot)
    statuspage, jira_sync = bot.runtime.services["statuspage"], bot.runtime.services["jira_sync"]
    started = time.time()
    api = page(world, "sp0api", "API 5xx")
    web = page(world, "sp0web", "Website down")
    page(world, "sp0db", "DB slow")
    poll(bot)
    world.pagerduty.resolve(api["id"])
    world.pagerduty.resolve(web["id"])
    poll(bot)

    # PagerDuty's side, as the poller saw it: three opened, two resolved, one still open; reported once.
    lines = statuspage.digest(started - 1, time.time() + 1)
    assert lines[0] == "PagerDuty incidents: 3 opened, 2 resolved, 1 still open"
    assert jira_sync.digest(started - 1, time.time() + 1) == [], "the status page reports the incidents already"

    # The status page's minutes, over a scripted day: the api was down 09:00-09:45, the website 23:30 to past
    # midnight, the database since 23:50 and still.
    moments = {"sp0api": (9 * 3600, 9.75 * 3600), "sp0web": (23.5 * 3600, 24.5 * 3600), "sp0db": (23.83 * 3600, None)}
    for component, (opened, resolved) in moments.items():
        bot.runtime.store.execute(
            "UPDATE statuspage_incidents SET opened_at = ?, resolved_at = ? WHERE component_id = ?",
            [T0 + opened, T0 + resolved if resolved else None, component],
        )
    assert statuspage.digest(T0, T0 + DAY) == [
        "Status page minutes: Public API 45 min, Website 30 min, Database 10 min"
    ]
    assert statuspage.digest(T0 - DAY, T0) == []
    assert bot.runtime.digest_now().count("PagerDuty incidents:") == 1


def test_without_the_status_page_the_jira_sync_reports_the_incidents(world, make_bot):
    bot = start(make_bot, STATUSPAGE_API_KEY="")
    started = time.time()
    incident = world.pagerduty.trigger_incident(SERVICE, "Checkout errors", priority="P1")
    poll(bot)
    world.pagerduty.resolve(incident["id"])
    poll(bot)
    lines = bot.runtime.services["jira_sync"].digest(started - 1, time.time() + 1)
    assert lines == ["PagerDuty incidents: 1 opened, 1 resolved, 0 still open"]


def test_the_doctor_finds_nothing_on_a_clean_world(world, make_bot):
    bot = start(make_bot)
    page(world, "sp0api", "API 5xx", priority="P1")  # a known component, and a Jira issue whose transitions are read
    poll(bot)
    assert bot.runtime.store.scalar("SELECT COUNT(*) FROM jira_links WHERE issue_key IS NOT NULL") == 1
    assert bot.runtime.services["statuspage"].doctor() == []
    assert bot.runtime.services["jira_sync"].doctor() == []


def test_the_doctor_finds_an_unknown_component_and_a_missing_transition(world, make_bot):
    bot = start(make_bot, JIRA_TRANSITIONS="acknowledged=Investigating,resolved=Done")
    page(world, "sp0ghost", "Ghost errors")
    poll(bot)
    [unknown] = bot.runtime.services["statuspage"].doctor()
    assert unknown.capability == "Status page"
    assert "component `sp0ghost` is unknown to Statuspage" in unknown.problem and "Ghost errors" in unknown.problem
    assert unknown.fix.startswith("create component `sp0ghost` on Statuspage; or correct the monitor's")
    assert "`sp0api` (Public API)" in unknown.fix

    bot.runtime.store.execute(
        "INSERT INTO statuspage_mappings (service_id, service_name, account, component_id, component_name, "
        "mapped_at) VALUES ('PRETIRE', 'Legacy API', 'default', 'sp0old', 'Old API', 0)"
    )
    mapped = bot.runtime.services["statuspage"].doctor()[1]
    assert "*Legacy API*" in mapped.problem
    assert 'map the service to an existing component with `/statuspage map "Legacy API" <component>`' in mapped.fix

    [missing] = bot.runtime.services["jira_sync"].doctor()
    assert missing.capability == "Jira sync"
    assert "“Investigating” when a PagerDuty incident is acknowledged" in missing.problem
    assert missing.fix.startswith("add a transition “Investigating” to the workflow, or use one of ")
    assert "“In Progress”" in missing.fix
    assert {f.problem for f in bot.runtime.doctor()} >= {unknown.problem, mapped.problem, missing.problem}


def test_related_links_give_the_status_incident_of_a_pagerduty_incident(world, make_bot):
    bot = start(make_bot)
    incident = page(world, "sp0api", "API 5xx")
    other = world.pagerduty.trigger_incident(SERVICE, "Untagged disk alarm")
    poll(bot)
    shortlink = next(iter(world.statuspage.incidents(unresolved_only=True)))["shortlink"]
    links = bot.runtime.related_links([f"default/{incident['id']}"])
    assert links == [f"Status page: <{shortlink}|Public API incident>"]
    assert bot.runtime.services["statuspage"].related_links([f"default/{other['id']}"]) == []
    world.pagerduty.resolve(incident["id"])
    poll(bot)
    assert bot.runtime.services["statuspage"].related_links([f"default/{incident['id']}"]) == []
