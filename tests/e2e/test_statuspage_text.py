"""PagerDuty text on the status page's paths: shown inert in Slack (escaped, links built by the bot), never sent to
Statuspage (its templates know only the page's own component name and id)."""

from __future__ import annotations

import re

from sandbox.scenes.statuspage import SERVICE
from sandbox.world import World
from tests.e2e.test_statuspage import poll, start, unresolved

# A PagerDuty title written to fool a reader: a trusted-looking URL, a Slack link whose label shows another URL, and
# broadcasts.
SPOOF_TITLE = "https://sso.acme.com/login <https://evil.example|https://sso.acme.com> <!channel> @here"


def slack_link_targets(text: str) -> list[str]:
    """Where each `<…>` token of a Slack message points (what a click or a mention would reach)."""
    return [token.split("|", 1)[0] for token in re.findall(r"<([^<>]*)>", text)]


def test_a_spoofing_title_is_inert_in_the_notice_and_never_reaches_statuspage(world: World, make_bot):
    pd = world.pagerduty
    bot = start(make_bot, STATUSPAGE_NOTIFY_CHANNEL="C0OPS")
    incident = pd.trigger_incident(SERVICE, SPOOF_TITLE, tags="env:prod,component:sp0api")
    pd.acknowledge(incident["id"])
    poll(world, bot)
    opened = unresolved(world)["sp0api"]

    notice = world.slack.wait_for_message("C0OPS", lambda m: "Statuspage incident opened" in m["text"])["text"]
    assert slack_link_targets(notice) == [opened["shortlink"], incident["html_url"]], notice
    assert "&lt;https://evil.example|https://sso.acme.com&gt; &lt;!channel&gt;" in notice  # shown, not working
    assert "@here" not in notice, "a plain @here is kept from pinging"

    sent = [request.body.decode() for request in world.statuspage.requests if request.method in ("POST", "PATCH")]
    assert sent, "the incident was opened"
    leaked = ("sso.acme.com", "evil.example", "!channel", "@here")
    assert not [body for body in sent if any(text in body for text in leaked)], "no PagerDuty text in any write"
    assert opened["name"] == "Investigating Errors in Public API"

    status = bot.command_reply("U0BOB", "C0OPS", "/statuspage", "status")
    assert slack_link_targets(status) == [opened["shortlink"]], status


def test_pagerduty_service_names_stay_text_in_the_command_answers(world: World, make_bot):
    pd = world.pagerduty
    pd.add_service("PEVIL01", "<!channel> <https://evil.example|Checkout>")
    bot = start(make_bot)
    mapped = bot.command_reply("U0ALICE", "C0OPS", "/statuspage", "map PEVIL01 sp0web")
    assert mapped.startswith("Mapped PagerDuty service *&lt;!channel&gt; &lt;https://evil.example|Checkout&gt;* ")
    listed = bot.command_reply("U0BOB", "C0OPS", "/statuspage", "map")
    assert "• &lt;!channel&gt; &lt;https://evil.example|Checkout&gt; (`PEVIL01`, default) → Website" in listed
    for answer in (mapped, listed):
        assert slack_link_targets(answer) == [], answer
