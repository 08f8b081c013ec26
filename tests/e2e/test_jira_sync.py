"""The Jira sync end to end: the real bot polls the PagerDuty and Jira fakes and writes to both, without echoes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sandbox.fakes.pagerduty import PagerDutyFake
from sandbox.scenes.jira_sync import SERVICE
from sandbox.world import World
from tests.e2e.harness import BotUnderTest

WAIT = 15.0
PD_WRITES = r"^/incidents/[^/]+(/notes)?$"


def start(make_bot: Any, **env: str) -> BotUnderTest:
    """Only the Jira sync (the status page off), both pollers on demand."""
    return make_bot(INCIDENT_POLL_SECONDS="3600", JIRA_POLL_SECONDS="3600", STATUSPAGE_API_KEY="", **env)




def poll_pd(world: World, bot: BotUnderTest) -> None:
    bot.runtime.scheduler.run_and_wait("incidents.poll")
    bot.drain_outbox()


def poll_jira(world: World, bot: BotUnderTest) -> None:
    bot.runtime.scheduler.run_and_wait("jira_sync.poll")
    bot.drain_outbox()


def issues(world: World) -> list[dict[str, Any]]:
    return world.jira.issues()


def only_issue(world: World) -> dict[str, Any]:
    found = issues(world)
    assert len(found) == 1, [i["key"] for i in found]
    return found[0]


def pd_writes(fake: PagerDutyFake) -> list[Any]:
    return [r for r in fake.requests if r.method in ("PUT", "POST") and r.path.startswith("/incidents")]


def jira_writes(world: World) -> list[Any]:
    return [r for r in world.jira.requests if r.method in ("PUT", "POST") and "/search/" not in r.path]




def test_a_p1_incident_gets_one_issue_with_link_priority_and_label(world, make_bot):
    bot = start(make_bot, JIRA_NOTIFY_CHANNEL="C0OPS")
    incident = world.pagerduty.trigger_incident(SERVICE, "Card payments failing", priority="P1")
    world.pagerduty.trigger_incident(SERVICE, "Slow reports", priority="P3")
    poll_pd(world, bot)
    issue = only_issue(world)
    fields = issue["fields"]
    assert fields["summary"] == f"[PD #{incident['incident_number']}] Card payments failing"
    assert incident["html_url"] in fields["description"]
    assert fields["priority"]["name"] == "Highest"
    assert fields["issuetype"]["name"] == "Incident"
    assert fields["labels"] == [f"pagerduty-{incident['incident_number']}"]
    assert fields["project"]["key"] == "OPS"
    link = world.slack.wait_for_message("C0OPS", lambda m: "opened for PagerDuty" in m["text"])
    assert f"/browse/{issue['key']}|{issue['key']}>" in link["text"]
    assert "Card payments failing (P1)" in link["text"]

    poll_pd(world, bot)  # the window overlaps the last one: still one issue
    bot.stop()
    again = start(make_bot)  # and after a restart, from the persisted cursor
    poll_pd(world, again)
    assert len(issues(world)) == 1
    assert len(world.jira.calls("POST", r"/issue$")) == 1


def test_a_p2_raised_to_p1_gets_an_issue(world, make_bot):
    bot = start(make_bot)
    incident = world.pagerduty.trigger_incident(SERVICE, "Checkout errors", priority="P2")
    poll_pd(world, bot)
    assert issues(world) == []
    world.pagerduty.set_priority(incident["id"], "P1", agent_user_id="PBOBXXX")
    poll_pd(world, bot)
    assert only_issue(world)["fields"]["priority"]["name"] == "Highest"


def test_priority_status_and_notes_flow_to_jira_without_echo(world, make_bot):
    pd = world.pagerduty
    bot = start(make_bot)
    incident = pd.trigger_incident(SERVICE, "Ledger out of sync", priority="P1")
    poll_pd(world, bot)
    key = only_issue(world)["key"]
    pd.acknowledge(incident["id"], "PBOBXXX")
    pd.set_priority(incident["id"], "P3", "PBOBXXX")
    pd.add_note(incident["id"], "Rolled back release 42", "PBOBXXX")
    poll_pd(world, bot)
    issue = world.jira.issue(key)
    assert issue["fields"]["status"]["name"] == "In Progress"
    assert issue["fields"]["priority"]["name"] == "Medium"
    assert [c["body"] for c in world.jira.comments(key)] == ["PagerDuty note by Bob Baker: Rolled back release 42"]

    pd.resolve(incident["id"], "PBOBXXX")
    poll_pd(world, bot)
    poll_pd(world, bot)
    assert world.jira.issue(key)["fields"]["status"]["name"] == "Done"
    assert len(world.jira.comments(key)) == 1, "each note is forwarded once"
    poll_jira(world, bot)
    poll_jira(world, bot)
    assert pd_writes(pd) == [], "Jira saw only the bot's own changes: nothing went back to PagerDuty"


def test_jira_done_resolves_pagerduty_and_nothing_bounces_back(world, make_bot):
    pd = world.pagerduty
    bot = start(make_bot)
    incident = pd.trigger_incident(SERVICE, "Search down", priority="P1")
    pd.acknowledge(incident["id"])
    poll_pd(world, bot)
    key = only_issue(world)["key"]
    assert world.jira.issue(key)["fields"]["status"]["name"] == "In Progress"
    before = len(jira_writes(world))

    world.jira.transition_as_human(key, "Done", author="Carol Chen")
    poll_jira(world, bot)
    assert pd.incident(incident["id"])["status"] == "resolved"
    resolve = [r for r in pd_writes(pd) if r.method == "PUT"]
    assert len(resolve) == 1 and resolve[0].header("from") == "alice@sandbox.example"

    poll_pd(world, bot)  # PagerDuty now says resolved: the issue is already done, no transition, no error
    poll_jira(world, bot)
    assert len(jira_writes(world)) == before
    assert len(pd_writes(pd)) == 1
    assert bot.runtime.store.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'failed'") == 0


def test_moving_back_from_done_adds_a_note_and_reopens_nothing(world, make_bot):
    pd = world.pagerduty
    bot = start(make_bot)
    incident = pd.trigger_incident(SERVICE, "Queue stuck", priority="P1")
    poll_pd(world, bot)
    key = only_issue(world)["key"]
    pd.resolve(incident["id"])
    poll_pd(world, bot)
    assert world.jira.issue(key)["fields"]["status"]["name"] == "Done"

    world.jira.transition_as_human(key, "In Progress", author="Carol Chen")
    poll_jira(world, bot)
    notes = [e["summary"] for e in pd.log_entries(incident["id"]) if e["type"] == "annotate_log_entry"]
    assert notes == [
        f"Jira issue {key} was moved back to “In Progress”. A resolved PagerDuty incident cannot be re-opened: "
        "trigger a new one if the problem is back."
    ]
    assert pd.incident(incident["id"])["status"] == "resolved"
    poll_pd(world, bot)  # the bot's own note is not copied back into Jira
    assert world.jira.comments(key) == []
    assert world.jira.issue(key)["fields"]["status"]["name"] == "In Progress"


def test_jira_priority_changes_pagerduty_priority_once(world, make_bot):
    pd = world.pagerduty
    bot = start(make_bot)
    incident = pd.trigger_incident(SERVICE, "Mail delayed", priority="P1")
    poll_pd(world, bot)
    key = only_issue(world)["key"]
    world.jira.set_priority_as_human(key, "High", author="Carol Chen")
    poll_jira(world, bot)
    assert pd.incident(incident["id"])["priority"]["name"] == "P2"
    jira_before = len(jira_writes(world))
    poll_pd(world, bot)
    poll_jira(world, bot)
    assert len(jira_writes(world)) == jira_before, "PagerDuty's P2 is the bot's own write: no echo to Jira"
    assert len([r for r in pd_writes(pd) if r.method == "PUT"]) == 1


def test_log_entries_are_read_past_the_first_page(world, make_bot):
    """A P1 incident opened and resolved between polls is only in the log, here behind 100 newer entries."""
    pd = world.pagerduty
    bot = start(make_bot)
    brief = pd.trigger_incident(SERVICE, "Short outage", priority="P1")
    pd.resolve(brief["id"])
    for n in range(110):
        pd.trigger_incident(SERVICE, f"noise {n}", priority="P4")
    poll_pd(world, bot)
    issue = only_issue(world)
    assert "Short outage" in issue["fields"]["summary"]
    assert issue["fields"]["status"]["name"] == "Done"
    assert "100" in [r.q("offset") for r in pd.calls("GET", r"^/log_entries$")]


def test_missing_transition_is_reported_once_and_not_retried(world, make_bot, caplog):
    pd = world.pagerduty
    bot = start(make_bot, JIRA_TRANSITIONS="acknowledged=Investigating,resolved=Done")
    first = pd.trigger_incident(SERVICE, "API errors", priority="P1")
    second = pd.trigger_incident(SERVICE, "DB errors", priority="P1")
    poll_pd(world, bot)
    pd.acknowledge(first["id"])
    pd.acknowledge(second["id"])
    with caplog.at_level("WARNING", logger="bot.jira_sync.effects"):
        poll_pd(world, bot)
        poll_pd(world, bot)
    warnings = [r.getMessage() for r in caplog.records if "has no transition 'Investigating'" in r.getMessage()]
    assert len(warnings) == 1
    counts = bot.runtime.home.counts()["jira_sync"]
    assert counts["issues missing transition “Investigating”"] == 2
    transition_posts = world.jira.calls("POST", r"/transitions$")
    assert transition_posts == []
    store = bot.runtime.store
    assert store.scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'jira_transition' AND state != 'done'") == 0
    pd.resolve(first["id"])
    poll_pd(world, bot)
    assert len(world.jira.calls("POST", r"/transitions$")) == 1, "the other transitions still work"


def test_a_second_account_syncs_through_its_own_client(world, make_bot, account_b):
    bot = start(make_bot, PAGERDUTY_ACCOUNT_B="pd-b", PAGERDUTY_ACCOUNT_B_URL=account_b.base_url)
    incident = account_b.trigger_incident("PBPAY01", "EU payments failing", priority="P1")
    poll_pd(world, bot)
    issue = only_issue(world)
    assert issue["fields"]["labels"] == [f"pagerduty-b-{incident['incident_number']}"]
    assert issue["fields"]["summary"].startswith("[PD b #")
    world.jira.transition_as_human(issue["key"], "Done")
    poll_jira(world, bot)
    assert account_b.incident(incident["id"])["status"] == "resolved"
    assert pd_writes(world.pagerduty) == []


def test_restart_between_poll_and_write_creates_exactly_one_issue(world, make_bot):
    bot = start(make_bot)
    world.jira.inject_fault(r"/issue$", 503, method="POST", times=-1)
    world.pagerduty.trigger_incident(SERVICE, "Storage full", priority="P1")
    bot.runtime.scheduler.run_and_wait("incidents.poll")
    world.jira.wait_for(lambda: world.jira.calls("POST", r"/issue$"), WAIT, "the first attempt")
    bot.stop()
    world.jira.clear_faults()
    again = start(make_bot)
    world.jira.wait_for(lambda: issues(world), WAIT, "the issue after the restart")
    poll_pd(world, again)
    assert len(issues(world)) == 1


def test_a_create_whose_answer_was_lost_is_not_repeated(world, make_bot):
    bot = start(make_bot)
    world.jira.inject_fault(r"/issue$", 0, method="POST", delay=5.3)  # made after the client's 5 s timeout
    world.pagerduty.trigger_incident(SERVICE, "Cache cluster down", priority="P1")
    bot.runtime.scheduler.run_and_wait("incidents.poll")
    store = bot.runtime.store
    world.jira.wait_for(lambda: store.scalar("SELECT issue_key FROM jira_links"), 20, "the issue adopted")
    bot.drain_outbox()
    assert len(issues(world)) == 1
    assert len(world.jira.calls("POST", r"/issue$")) == 1


def test_the_cursor_moves_only_after_a_window_is_handled(world, make_bot):
    pd = world.pagerduty
    bot = start(make_bot)
    poll_pd(world, bot)
    store = bot.runtime.store
    cursor = store.scalar("SELECT log_cursor FROM pd_accounts WHERE name = 'default'")
    handled = store.scalar("SELECT COUNT(*) FROM pd_log_entries")
    pd.trigger_incident(SERVICE, "Replica lag", priority="P1")
    pd.inject_fault(r"^/log_entries$", 500, times=1)
    with pytest.raises(RuntimeError, match="default: "):
        bot.runtime.scheduler.run_and_wait("incidents.poll")
    assert store.scalar("SELECT log_cursor FROM pd_accounts WHERE name = 'default'") == cursor
    assert store.scalar("SELECT COUNT(*) FROM pd_log_entries") == handled
    assert store.scalar("SELECT COUNT(*) FROM jira_links") == 0
    poll_pd(world, bot)
    poll_pd(world, bot)  # the next window overlaps: its entries are deduplicated, nothing happens twice
    assert len(issues(world)) == 1
    assert store.scalar("SELECT log_cursor FROM pd_accounts WHERE name = 'default'") > cursor
    assert store.scalar("SELECT COUNT(*) FROM pd_log_entries") == handled + len(pd.log_entries())


def test_an_issue_closed_in_jira_is_not_pulled_back_by_a_late_acknowledge(world, make_bot):
    pd = world.pagerduty
    bot = start(make_bot)
    incident = pd.trigger_incident(SERVICE, "Backups failing", priority="P1")
    poll_pd(world, bot)
    key = only_issue(world)["key"]
    world.jira.transition_as_human(key, "Done", author="Carol Chen")
    pd.acknowledge(incident["id"], "PBOBXXX")  # before Switchboard has seen the Jira change
    poll_pd(world, bot)
    assert world.jira.issue(key)["fields"]["status"]["name"] == "Done"
    poll_jira(world, bot)
    assert pd.incident(incident["id"])["status"] == "resolved"


def test_a_human_change_back_to_a_value_the_bot_wrote_earlier_is_carried_over(world, make_bot):
    """The echo guard recognises the bot's latest write only until someone else changes that field."""
    pd = world.pagerduty
    bot = start(make_bot)
    incident = pd.trigger_incident(SERVICE, "Login errors", priority="P1")
    pd.acknowledge(incident["id"])
    poll_pd(world, bot)
    key = only_issue(world)["key"]  # created at Highest and moved to In Progress by the bot

    world.jira.set_priority_as_human(key, "High", author="Carol Chen")
    poll_jira(world, bot)
    assert pd.incident(incident["id"])["priority"]["name"] == "P2"
    world.jira.set_priority_as_human(key, "Highest", author="Carol Chen")  # she changes her mind
    poll_jira(world, bot)
    assert pd.incident(incident["id"])["priority"]["name"] == "P1"

    world.jira.transition_as_human(key, "Done", author="Carol Chen")
    poll_jira(world, bot)
    assert pd.incident(incident["id"])["status"] == "resolved"
    world.jira.transition_as_human(key, "In Progress", author="Carol Chen")  # back to where the bot had put it
    poll_jira(world, bot)
    notes = [e["summary"] for e in pd.log_entries(incident["id"]) if e["type"] == "annotate_log_entry"]
    assert len(notes) == 1 and f"Jira issue {key} was moved back to “In Progress”" in notes[0]


def test_jira_is_polled_through_the_v3_search_jql_endpoint(world, make_bot):
    bot = start(make_bot)
    world.jira.reset_requests()
    poll_jira(world, bot)
    assert world.jira.calls(None, r"^/rest/api/3/search/jql$")
    assert not world.jira.calls(None, r"^/rest/api/2/search")


# A PagerDuty title written to fool a reader: a trusted-looking URL, a Slack link whose label shows another URL, and
# broadcasts; and a note written in Jira's wiki markup: a mention, a macro and a link.
SPOOF_TITLE = "https://sso.acme.com/login <https://evil.example|https://sso.acme.com> <!channel> @here"
MARKUP_NOTE = "[~admin] {code}x{code} [click|https://evil.example]"


def slack_link_targets(text: str) -> list[str]:
    """Where each `<…>` token of a Slack message points (what a click or a mention would reach)."""
    return [token.split("|", 1)[0] for token in re.findall(r"<([^<>]*)>", text)]


def test_pagerduty_text_stays_text_in_the_slack_notice_and_in_jira(world, make_bot):
    pd = world.pagerduty
    bot = start(make_bot, JIRA_NOTIFY_CHANNEL="C0OPS")
    incident = pd.trigger_incident(SERVICE, SPOOF_TITLE, priority="P1")
    poll_pd(world, bot)
    issue = only_issue(world)
    number = incident["incident_number"]

    notice = world.slack.wait_for_message("C0OPS", lambda m: "opened for PagerDuty" in m["text"])["text"]
    targets = slack_link_targets(notice)
    assert len(targets) == 2, notice  # the Jira issue and the PagerDuty incident, nothing the title brought
    assert targets[0].endswith(f"/browse/{issue['key']}") and targets[1] == incident["html_url"]
    assert "&lt;https://evil.example|https://sso.acme.com&gt; &lt;!channel&gt;" in notice  # shown, not working
    assert "@here" not in notice, "a plain @here is kept from pinging"

    # Jira's summary is plain text; the description (wiki markup through REST v2) has PagerDuty's text escaped.
    assert issue["fields"]["summary"] == f"[PD #{number}] {SPOOF_TITLE}"
    assert (
        f"PagerDuty incident #{number}: "
        r"https://sso.acme.com/login <https://evil.example\|https://sso.acme.com> <\!channel> @here"
    ) in issue["fields"]["description"]
    assert world.jira.calls("POST", r"^/rest/api/2/issue$")

    pd.add_note(incident["id"], MARKUP_NOTE, "PBOBXXX")
    poll_pd(world, bot)
    assert [c["body"] for c in world.jira.comments(issue["key"])] == [
        r"PagerDuty note by Bob Baker: \[\~admin\] \{code\}x\{code\} \[click\|https://evil.example\]"
    ]
    assert world.jira.calls("POST", r"^/rest/api/2/issue/[^/]+/comment$"), "a wiki-markup (v2) body"
    poll_pd(world, bot)
    assert len(world.jira.comments(issue["key"])) == 1
