"""`/statuspage` over Socket Mode: help, status, and the service → component mapping table."""

from __future__ import annotations

from sandbox.world import World
from tests.e2e.test_statuspage import page, poll, start, unresolved


def test_help_and_unknown_words(world: World, make_bot):
    bot = start(make_bot)
    assert "/statuspage map <PagerDuty service> <component>" in bot.command_reply("U0BOB", "C0OPS", "/statuspage")
    assert bot.command_reply("U0BOB", "C0OPS", "/statuspage", "frobnicate").startswith("I don't know `frobnicate`.")
    assert "a quote is not closed" in bot.command_reply("U0BOB", "C0OPS", "/statuspage", 'map "Checkout')


def test_status_lists_managed_incidents_and_accounts(world: World, make_bot):
    bot = start(make_bot)
    page(world, "sp0api")
    poll(world, bot)
    text = bot.command_reply("U0BOB", "C0OPS", "/statuspage", "status")
    assert "*Managed incidents (1)*" in text
    assert "• *Public API* (`sp0api`): partial outage since" in text
    assert "https://stspg.io/" in text and "PagerDuty: default/" in text
    assert "• default: OK" in text and "1 open incidents" in text
    assert "last reconcile" in text and "acknowledged" in text


def test_mapping_covers_a_service_without_tags(world: World, make_bot):
    pd = world.pagerduty
    pd.add_service("PCHKOUT", "Checkout API")
    bot = start(make_bot, STATUSPAGE_NOTIFY_CHANNEL="C0OPS")
    untagged = pd.trigger_incident("PCHKOUT", "checkout is slow")
    pd.acknowledge(untagged["id"])
    poll(world, bot)
    assert unresolved(world) == {}

    refused = bot.command_reply("U0BOB", "C0OPS", "/statuspage", 'map "Checkout API" sp0web')
    assert refused.startswith("Only Switchboard admins can change mappings")
    missing = bot.command_reply("U0ALICE", "C0OPS", "/statuspage", "map Billing sp0web")
    assert missing == "I couldn't find a PagerDuty service called 'Billing' in any account."
    no_component = bot.command_reply("U0ALICE", "C0OPS", "/statuspage", 'map "Checkout API" nope')
    assert no_component.startswith("Statuspage has no component 'nope'. Components: ")
    assert "Website (`sp0web`)" in no_component
    assert bot.runtime.store.scalar("SELECT COUNT(*) FROM statuspage_mappings") == 0

    done = bot.command_reply("U0ALICE", "C0OPS", "/statuspage", 'map "Checkout API" Website')
    assert done.startswith("Mapped PagerDuty service *Checkout API* (`PCHKOUT`, default) to Statuspage component ")
    world.statuspage.wait_for(lambda: "sp0web" in unresolved(world), 15, "the mapped component's incident")
    assert bot.runtime.store.scalar("SELECT mapped_by FROM statuspage_mappings") == "U0ALICE"
    listed = bot.command_reply("U0BOB", "C0OPS", "/statuspage", "map")
    assert "• Checkout API (`PCHKOUT`, default) → Website (`sp0web`)" in listed

    by_id = bot.command_reply("U0ALICE", "C0OPS", "/statuspage", "map PCHKOUT sp0db")
    assert "*Database* (`sp0db`)" in by_id
    world.statuspage.wait_for(lambda: sorted(unresolved(world)) == ["sp0db"], 15, "the mapping moved")

    gone = bot.command_reply("U0ALICE", "C0OPS", "/statuspage", 'unmap "checkout api"')
    assert gone == "Removed the mapping of Checkout API."
    world.statuspage.wait_for(lambda: unresolved(world) == {}, 15, "the incident resolved")
    assert "no mapping" in bot.command_reply("U0ALICE", "C0OPS", "/statuspage", "unmap Checkout")


def test_tags_win_over_a_mapping(world: World, make_bot):
    bot = start(make_bot)
    bot.command_reply("U0ALICE", "C0OPS", "/statuspage", "map PSPAPI1 sp0db")
    page(world, "sp0web")  # the scene's service, mapped to sp0db, but this alert is tagged sp0web
    poll(world, bot)
    assert sorted(unresolved(world)) == ["sp0web"]
