"""Incident-aware support desk: a request in a support channel mapped to a PagerDuty service while an incident is
open on it gets a note (with the status page incident), the ticket a tag and an internal note; the resolve is told
once. The real bot against the Slack, Zendesk, PagerDuty and Statuspage fakes; PagerDuty is polled on demand."""

from __future__ import annotations

from typing import Any

from sandbox.scenes.statuspage import SERVICE
from sandbox.world import World
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_support import CHANNEL, bot_replies, open_request, settled, wait_reply

NOTE = "PagerDuty incident"


def start(make_bot: Any, **env: str) -> BotUnderTest:
    return make_bot(INCIDENT_POLL_SECONDS="3600", **env)


def poll_pagerduty(bot: BotUnderTest) -> None:
    bot.runtime.scheduler.run_and_wait("incidents.poll")
    bot.drain_outbox()


def internal_notes(world: World, ticket_id: int) -> list[str]:
    return [c["body"] for c in world.zendesk.comments(ticket_id) if not c["public"]]


def test_request_during_an_open_incident_and_after_its_resolve(make_bot, world):
    pd = world.pagerduty
    bot = start(make_bot, SUPPORT_SERVICE_MAP=f"{CHANNEL}={SERVICE}")
    incident = pd.trigger_incident(SERVICE, "Public API 5xx rate high", tags="env:prod,component:sp0api", priority="P2")
    pd.acknowledge(incident["id"])
    poll_pagerduty(bot)  # the status page opens its incident; the poller's snapshot holds the PagerDuty one
    number, url = incident["incident_number"], incident["html_url"]

    ts, ticket = open_request(world, "The public API answers 500 to every call")
    replies = wait_reply(world, ts, NOTE)
    assert replies[0].startswith("Hello, your new support request is")  # the ticket's link comes first
    note = next(text for text in replies if NOTE in text)
    assert f"<{url}|#{number} Public API 5xx rate high>" in note and "Public API monitors" in note
    shortlink = world.statuspage.incidents(unresolved_only=True)[0]["shortlink"]
    assert f"Status page: <{shortlink}|Public API incident>" in note
    settled(bot)
    ticket = world.zendesk.ticket(ticket["id"])
    assert f"pd-incident-{number}" in ticket["tags"]
    [opened_note] = internal_notes(world, ticket["id"])
    assert url in opened_note and f"#{number} Public API 5xx rate high" in opened_note and shortlink in opened_note

    pd.resolve(incident["id"])
    poll_pagerduty(bot)
    replies = wait_reply(world, ts, "is resolved")
    assert f"✅ The incident <{url}|#{number} Public API 5xx rate high> is resolved." in replies
    settled(bot)
    assert len(internal_notes(world, ticket["id"])) == 2 and "is resolved" in internal_notes(world, ticket["id"])[1]

    poll_pagerduty(bot)  # told once
    settled(bot)
    assert sum("is resolved" in text for text in bot_replies(world, ts)) == 1
    assert len(internal_notes(world, ticket["id"])) == 2

    later, later_ticket = open_request(world, "Still broken?")  # after the resolve: nothing open to link
    settled(bot)
    assert not any(NOTE in text for text in bot_replies(world, later))
    assert not any(tag.startswith("pd-incident-") for tag in world.zendesk.ticket(later_ticket["id"])["tags"])


def test_only_mapped_channels_and_services_get_the_note(make_bot, world):
    pd = world.pagerduty
    pd.add_service("PSUPOTH", "Something else")
    bot = start(make_bot, SUPPORT_SERVICE_MAP=f"{CHANNEL}={SERVICE}")
    incident = pd.trigger_incident("PSUPOTH", "Unrelated outage")
    poll_pagerduty(bot)
    ts, ticket = open_request(world, "Printer on fire")
    settled(bot)
    assert not any(NOTE in text for text in bot_replies(world, ts))
    assert internal_notes(world, ticket["id"]) == []
    pd.resolve(incident["id"])


def test_admins_map_and_unmap_channels(make_bot, world):
    pd = world.pagerduty
    bot = start(make_bot)
    assert bot.command_reply("U0ALICE", CHANNEL, "/support", "map").startswith("No support channel watches")
    refused = bot.command_reply("U0BOB", CHANNEL, "/support", f"map <#{CHANNEL}|support> {SERVICE}")
    assert refused.startswith("Only Switchboard admins") and "`/support map`" in refused
    assert "is not a support channel" in bot.command_reply("U0ALICE", CHANNEL, "/support", f"map C0OPS {SERVICE}")
    done = bot.command_reply("U0ALICE", CHANNEL, "/support", f"map <#{CHANNEL}|support> {SERVICE}")
    assert done.startswith(f"Done: a request in <#{CHANNEL}>")
    assert f"<#{CHANNEL}> → {SERVICE}" in bot.command_reply("U0BOB", CHANNEL, "/support", "map")

    incident = pd.trigger_incident(SERVICE, "Latency")
    poll_pagerduty(bot)
    ts, _ = open_request(world, "Slow API")
    wait_reply(world, ts, NOTE)

    unmapped = bot.command_reply("U0ALICE", CHANNEL, "/support", f"unmap <#{CHANNEL}|support>")
    assert unmapped.startswith(f"Done: <#{CHANNEL}> no longer watches")
    other, _ = open_request(world, "Still slow")
    settled(bot)
    assert not any(NOTE in text for text in bot_replies(world, other))
    pd.resolve(incident["id"])


def test_the_setting_and_the_stored_map_combine(make_bot, world):
    world.pagerduty.add_service("PSUPTWO", "Second service")
    bot = start(make_bot, SUPPORT_SERVICE_MAP=f"{CHANNEL}={SERVICE}")
    bot.command_reply("U0ALICE", CHANNEL, "/support", f"map {CHANNEL} PSUPTWO")
    listed = bot.command_reply("U0ALICE", CHANNEL, "/support", "map")
    assert f"<#{CHANNEL}> → {SERVICE} (SUPPORT_SERVICE_MAP)" in listed and f"<#{CHANNEL}> → PSUPTWO" in listed
    unmapped = bot.command_reply("U0ALICE", CHANNEL, "/support", f"unmap {CHANNEL}")
    assert f"SUPPORT_SERVICE_MAP still maps it to {SERVICE}" in unmapped
    assert bot.runtime.services["support"].service_map.services_of(CHANNEL) == {SERVICE}
