"""PagerDuty text written into Jira (wiki markup, REST v2) and into Slack notices stays text."""

import re

from bot.jira_sync import rules
from tests.unit.test_jira_sync_rules import incident

BROWSE = "https://acme.atlassian.net/browse/"


def slack_link_targets(text: str) -> list[str]:
    return [token.split("|", 1)[0] for token in re.findall(r"<([^<>]*)>", text)]


def test_the_description_escapes_pagerduty_text_and_keeps_its_link():
    hostile = incident(title="[~admin] {code}x{code} [click|https://evil.example]", service_name="*Pay* [~ops]")
    description = rules.issue_description(hostile)
    assert description.splitlines()[:4] == [
        r"PagerDuty incident #7: \[\~admin\] \{code\}x\{code\} \[click\|https://evil.example\]",
        "https://acme.pagerduty.com/incidents/PABC123",
        "",
        r"Service: \*Pay\* \[\~ops\]",
    ]
    assert rules.issue_description(incident(account="eu_west")).splitlines()[-3] == r"PagerDuty account: eu\_west"


def test_a_link_that_is_not_a_plain_url_is_escaped_in_jira():
    assert rules.jira_url("https://acme.pagerduty.com/incidents/PABC123?x=1#y") == (
        "https://acme.pagerduty.com/incidents/PABC123?x=1#y"
    )
    assert rules.jira_url("https://x.example/a|https://evil.example]") == r"https://x.example/a\|https://evil.example\]"
    assert rules.jira_url("ftp://x.example/[a]") == r"ftp://x.example/\[a\]"


def test_a_note_and_its_author_stay_text_in_the_comment():
    note = {"user": {"summary": "[~root]"}, "content": "{noformat}\n[click|https://evil.example] !x.png!"}
    assert rules.note_comment(note) == (
        r"PagerDuty note by \[\~root\]: \{noformat\}" + "\n" + r"\[click\|https://evil.example\] \!x.png\!"
    )
    assert rules.note_comment({"content": "Rolled back"}) == "PagerDuty note by someone: Rolled back"


def test_the_slack_notice_links_only_the_issue_and_the_incident():
    text = rules.created_notice(
        BROWSE, "OPS-1", "https://acme.pagerduty.com/incidents/P1", 7, "<!channel> <https://evil.example|x> @here", "P1"
    )
    assert text.startswith(
        f":ticket: Jira <{BROWSE}OPS-1|OPS-1> opened for PagerDuty <https://acme.pagerduty.com/incidents/P1|#7> "
    )
    assert slack_link_targets(text) == [f"{BROWSE}OPS-1", "https://acme.pagerduty.com/incidents/P1"]
    assert "&lt;!channel&gt; &lt;https://evil.example|x&gt;" in text and "@here" not in text
    assert text.endswith("(P1)")


def test_a_misleading_incident_link_is_never_a_disguised_slack_link():
    spoof = rules.created_notice(BROWSE, "OPS-1", "https://evil.example|https://sso.acme.com", 7, "t", None)
    assert slack_link_targets(spoof) == [f"{BROWSE}OPS-1"]
    assert "#7 (https://evil.example|https://sso.acme.com) t (no priority)" in spoof
    assert "opened for PagerDuty #7 t (no priority)" in rules.created_notice(BROWSE, "OPS-1", "", 7, "t", None)
