"""Text rules of the support desk: Slack → Zendesk plain text, Zendesk → safe Slack mrkdwn, commands, links."""

import pytest

from bot.support.rules import thread_command
from bot.support.text import (
    comment_from_slack,
    help_text,
    markdown_to_mrkdwn,
    parse_permalink,
    permalink,
    slack_to_plain,
    subject_from,
    ticket_description,
    trim_email,
    zendesk_to_slack,
)

NAMES = {"U0ALICE": "Alice Archer"}


@pytest.mark.parametrize(
    "text", ["resolve", "Resolve", "  resolve ticket ", "RESOLVE   TICKET", "✅", "🆗", ":white_check_mark:", ":ok:"]
)
def test_resolve_commands_in_every_spelling(text):
    assert thread_command(text) == "resolve"


@pytest.mark.parametrize("text", ["help", " HELP "])
def test_help_command(text):
    assert thread_command(text) == "help"


@pytest.mark.parametrize("text", ["please resolve this", "resolved", "✅ done", "helpful", ""])
def test_ordinary_text_is_not_a_command(text):
    assert thread_command(text) is None


def test_help_text_names_the_ticket_and_the_status():
    text = help_text("https://z/agent/tickets/7", "solved")
    assert "`resolve`, `resolve ticket`, ✅ or 🆗 — mark ticket https://z/agent/tickets/7 solved" in text
    assert "the ticket" in help_text(None, "closed")


def test_slack_markup_becomes_plain_text():
    text = (
        "Hi <@U0ALICE>, see <https://example.com/a?b=1&amp;c=2|the runbook> and <https://example.com> "
        "in <#C0OPS|ops>; <!here> <!subteam^S1|@oncall> mail <mailto:a@b.example|a@b.example> 1 &lt; 2 &amp; 3 &gt; 2"
    )
    assert slack_to_plain(text, NAMES.get) == (
        "Hi @Alice Archer, see the runbook (https://example.com/a?b=1&c=2) and https://example.com "
        "in #ops; @here @oncall mail a@b.example 1 < 2 & 3 > 2"
    )


def test_subject_is_the_first_line_shortened_at_a_word():
    assert subject_from("\n  VPN is down\nsince 9am") == "VPN is down"
    long = "The production database has been refusing connections from the reporting service since the deploy"
    subject = subject_from(long)
    assert len(subject) <= 80 and subject.endswith("…") and long.startswith(subject[:-1])
    assert subject_from("   ") == "Support request from Slack"


def test_description_and_comments_keep_file_links():
    files = [{"name": "trace.log", "permalink": "https://x.slack.com/files/U1/F1/trace.log"}]
    description = ticket_description("It broke", "Bob Baker", "https://x.slack.com/archives/C1/p1", files)
    assert description.startswith("It broke\n\nAttachments:\n- trace.log: https://x.slack.com/files/U1/F1/trace.log")
    assert description.endswith("Posted in Slack by Bob Baker: https://x.slack.com/archives/C1/p1")
    assert comment_from_slack("Bob Baker", " more ", [], edited=False) == "Bob Baker (Slack): more"
    assert comment_from_slack("Bob Baker", "fixed typo", [], edited=True) == "Bob Baker (Slack, edited): fixed typo"


def test_permalinks_both_ways():
    link = permalink("https://sandbox.slack.com/", "C0SUPPORT", "1614771038.052300")
    assert link == "https://sandbox.slack.com/archives/C0SUPPORT/p1614771038052300"
    assert parse_permalink(link) == ("C0SUPPORT", "1614771038.052300")
    assert parse_permalink(f"<{link}>") == ("C0SUPPORT", "1614771038.052300")
    reply = "https://sandbox.slack.com/archives/C0SUPPORT/p1614771099000100?thread_ts=1614771038.052300&cid=C0SUPPORT"
    assert parse_permalink(reply) == ("C0SUPPORT", "1614771038.052300")
    assert parse_permalink("https://example.com/nothing") is None


def test_email_signature_and_quoted_history_are_trimmed():
    body = "Thanks, that fixed it.\n\n--\nZoe Zendesk\nSupport lead\n\nOn Mon, 1 Jan 2024, Bob wrote:\n> old"
    assert trim_email(body) == "Thanks, that fixed it."
    assert trim_email("Yes.\n\nOn Tue, 2 Jan 2024 at 10:00, Bob <bob@x> wrote:\n> earlier") == "Yes."
    assert trim_email("Done\r\n-----Original Message-----\r\nFrom: Bob <bob@x>") == "Done"
    assert trim_email("Use --force here, and -- as a separator") == "Use --force here, and -- as a separator"
    assert trim_email("Sure\n> quoted reply\n> more") == "Sure"


def test_markdown_becomes_mrkdwn():
    text = "# Steps\n**Restart** the *agent*, then ~~wait~~ read [the docs](https://example.com/docs)\n- one\n* two"
    assert markdown_to_mrkdwn(text) == (
        "*Steps*\n*Restart* the _agent_, then ~wait~ read the docs (<https://example.com/docs>)\n• one\n• two"
    )


def test_a_markdown_link_always_shows_its_real_target():
    spoof = zendesk_to_slack("Log in at [https://sso.acme.com/login](https://evil.example/login)", "https://z/t/1")
    assert spoof == "Log in at https://sso.acme.com/login (<https://evil.example/login>)"
    assert "|" not in spoof  # never a Slack link whose label is chosen by the comment's author
    assert zendesk_to_slack("[https://a.example/x](https://a.example/x)", "u") == "<https://a.example/x>"
    assert zendesk_to_slack("[a & <b>](https://a.example/?q=1&r=2)", "u") == (
        "a &amp; &lt;b&gt; (<https://a.example/?q=1&amp;r=2>)"
    )
    assert zendesk_to_slack("[@here](https://a.example)", "u") == "@\u2060here (<https://a.example>)"
    assert zendesk_to_slack("[x](javascript:alert(1))", "u") == "[x](javascript:alert(1))"


def test_formatting_never_edits_a_link_target():
    assert zendesk_to_slack("[x](https://a.example/*b*/__c__/~~d~~)", "u") == "x (<https://a.example/*b*/__c__/~~d~~>)"
    assert zendesk_to_slack("[see [docs](https://d.example)]", "u") == "[see docs (<https://d.example>)]"
    assert zendesk_to_slack("\x01" + "0\x01 **b**", "u") == "0 *b*"  # the converter's own markers are dropped
    assert markdown_to_mrkdwn("## Steps ##\n#\tTab\n#none\n  * item") == "*Steps*\n*Tab*\n#none\n  • item"


def test_help_in_an_emailed_tickets_thread_explains_internal_notes():
    text = help_text("https://z/agent/tickets/7", "solved", emailed=True)
    assert text.endswith("added to the ticket as an internal note; start it with `reply:` to send it to the requester.")
    assert help_text(None, "solved").endswith("added to the ticket as a comment.")


def test_zendesk_text_cannot_broadcast_or_inject_links():
    text = zendesk_to_slack("<!channel> @here look [x](!everyone) <https://evil|click>", "https://z/t/1")
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "@\u2060here" in text
    assert "<!everyone" not in text and "[x](!everyone)" in text
    assert "<https://evil|click>" not in text


def test_long_zendesk_comments_point_to_the_rest():
    text = zendesk_to_slack("word " * 1000, "https://z/agent/tickets/9", limit=100)
    assert len(text) < 200 and text.endswith("(the rest is in Zendesk: https://z/agent/tickets/9)")
