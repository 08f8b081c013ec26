"""The Jira incident process end to end: severity, question sub-tasks, links to the incident manager's and the
stakeholders' issues, and PagerDuty's log as a timeline, against the PagerDuty and Jira fakes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sandbox.fakes.jira_model import SEVERITY_FIELD
from sandbox.world import World
from tests.e2e.harness import BotUnderTest

WAIT = 15.0
BOB = "PBOBXXX"  # Bob Baker, as World.seed makes him
SERVICE = "PJPROC1"  # a service whose incidents are assigned to Bob (level 1 of its escalation policy)
QUESTIONS = ["Who is affected?", "What changed?", "Is there a workaround?"]
STAMP = re.compile(r"^PagerDuty, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: ")


def seed(world: World, tmp_path: Path) -> dict[str, str]:
    """People's issues, Bob's service and the questions file; returns the settings that turn every part on."""
    world.pagerduty.add_escalation_policy("PJPROEP", "Process", [[BOB]])
    world.pagerduty.add_service(SERVICE, "Process", escalation_policy_id="PJPROEP")
    world.jira.add_project("PERSON", "People")
    world.jira.create_issue_as_human("PERSON", "Bob Baker Jr")  # Jira's text search finds him too: not Bob
    bob = world.jira.create_issue_as_human("PERSON", "Bob Baker")["key"]
    carol = world.jira.create_issue_as_human("PERSON", "Carol Chen")["key"]
    dave = world.jira.create_issue_as_human("PERSON", "Dave Diaz")["key"]
    questions = tmp_path / "questions.txt"
    questions.write_text("# asked on every P1\n\n" + "\n".join(QUESTIONS) + "\n")
    return {
        "bob": bob,
        "JIRA_SEVERITY_VALUE": "SEV-0",
        "JIRA_QUESTIONS_FILE": str(questions),
        "JIRA_LINK_TYPE": "Relates",
        "JIRA_ISSUE_STAKEHOLDERS": f"{carol},{dave}",
        "JIRA_PERSON_PROJECT": "PERSON",
    }


def start(make_bot: Any, **env: str) -> BotUnderTest:
    """Only the Jira sync (the status page off), both pollers on demand."""
    return make_bot(INCIDENT_POLL_SECONDS="3600", JIRA_POLL_SECONDS="3600", STATUSPAGE_API_KEY="", **env)


def poll_pd(bot: BotUnderTest) -> None:
    bot.runtime.scheduler.run_and_wait("incidents.poll")
    bot.drain_outbox()


def incident_issue(world: World) -> dict[str, Any]:
    found = [i for i in world.jira.issues() if i["fields"]["issuetype"]["name"] == "Incident"]
    assert len(found) == 1, [i["key"] for i in found]
    return found[0]


def timeline(world: World, key: str) -> list[str]:
    """The issue's timeline comments without their time stamps (and its other comments as they are)."""
    return [STAMP.sub("", c["body"]) for c in world.jira.comments(key)]


def opened_first(comments: list[str], opened: list[str]) -> list[str]:
    """The trigger and assignment entries share a second: PagerDuty's log does not order them, so neither does this."""
    assert sorted(comments[: len(opened)]) == sorted(opened), comments
    return comments[len(opened) :]


def comment_posts(world: World, key: str) -> int:
    return len(world.jira.calls("POST", rf"/issue/{key}/comment$"))


@pytest.mark.parametrize(("mode", "severity_field"), [("comments", "Severity"), ("issue", SEVERITY_FIELD)])
def test_the_jira_process_with_every_option_on(world, make_bot, tmp_path, mode, severity_field):
    pd = world.pagerduty
    env = seed(world, tmp_path)
    bob = env.pop("bob")
    env.update(JIRA_TIMELINE=mode, JIRA_SEVERITY_FIELD=severity_field)
    bot = start(make_bot, **env)
    incident = pd.trigger_incident(SERVICE, "Card payments failing", priority="P1")
    pd.trigger_incident(SERVICE, "Slow reports", priority="P3")  # no issue, no process
    poll_pd(bot)

    issue = incident_issue(world)
    key = issue["key"]
    assert issue["fields"][SEVERITY_FIELD]["value"] == "SEV-0"
    assert [s["fields"]["summary"] for s in world.jira.subtasks(key)] == QUESTIONS
    assert all(s["fields"]["issuetype"]["name"] == "Sub-task" for s in world.jira.subtasks(key))
    timeline_issues = [i for i in world.jira.issues() if i["fields"]["summary"].startswith("Timeline of")]
    expected_links = {("Relates", key, other) for other in (bob, env["JIRA_ISSUE_STAKEHOLDERS"].split(",")[0])}
    expected_links |= {("Relates", key, env["JIRA_ISSUE_STAKEHOLDERS"].split(",")[1])}
    if mode == "issue":
        assert [i["fields"]["summary"] for i in timeline_issues] == [
            f"Timeline of {key}: [PD #{incident['incident_number']}] Card payments failing"
        ]
        target = timeline_issues[0]["key"]
        expected_links.add(("Relates", key, target))
    else:
        assert timeline_issues == []
        target = key
    assert {(link["type"], link["inward"], link["outward"]) for link in world.jira.links()} == expected_links
    opened = ["Triggered through the API (Process)", "Assigned to Bob Baker (Process)"]
    assert opened_first(timeline(world, target), opened) == []

    pd.acknowledge(incident["id"], BOB)
    poll_pd(bot)
    pd.add_note(incident["id"], "Rolled back [release|https://evil.example] {code}", BOB)
    poll_pd(bot)
    pd.resolve(incident["id"], BOB)
    poll_pd(bot)
    note = r"Rolled back \[release\|https://evil.example\] \{code\}"
    if mode == "issue":
        assert opened_first(timeline(world, target), opened) == [
            "Acknowledged by Bob Baker",
            f"note by Bob Baker: {note}",
            "Resolved by Bob Baker",
        ]
        assert timeline(world, key) == [f"PagerDuty note by Bob Baker: {note}"]  # the note, on the issue as ever
    else:  # on the issue, the forwarded note is the note's timeline entry
        assert opened_first(timeline(world, target), opened) == [
            "Acknowledged by Bob Baker",
            f"PagerDuty note by Bob Baker: {note}",
            "Resolved by Bob Baker",
        ]
    assert world.jira.issue(key)["fields"]["status"]["name"] == "Done"
    posted = {k: comment_posts(world, k) for k in {key, target}}
    assert posted == {k: len(world.jira.comments(k)) for k in {key, target}}, "one request per comment"

    # The poll window replayed (entries forgotten, cursor moved back) and a restart: nothing is posted twice.
    store = bot.runtime.store
    store.execute("DELETE FROM pd_log_entries")
    store.execute("UPDATE pd_accounts SET log_cursor = log_cursor - 3600")
    poll_pd(bot)
    bot.stop()
    again = start(make_bot, **env)
    poll_pd(again)
    assert {k: comment_posts(world, k) for k in {key, target}} == posted
    assert len(world.jira.subtasks(key)) == len(QUESTIONS)
    assert len(world.jira.links()) == len(expected_links)
    assert len(world.jira.calls("POST", r"/issue$")) == 1 + len(QUESTIONS) + (mode == "issue")
    assert again.runtime.store.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'failed'") == 0


def test_each_part_stays_off_until_configured(world, make_bot):
    pd = world.pagerduty
    bot = start(make_bot)
    incident = pd.trigger_incident("PJIRAPY", "Ledger out of sync", priority="P1")
    poll_pd(bot)
    pd.acknowledge(incident["id"], BOB)
    poll_pd(bot)
    issue = incident_issue(world)
    assert issue["fields"][SEVERITY_FIELD] is None
    assert world.jira.subtasks(issue["key"]) == [] and world.jira.links() == []
    assert world.jira.comments(issue["key"]) == []
    assert len(world.jira.issues()) == 1


def test_a_wrong_severity_is_logged_and_the_issue_still_created(world, make_bot, caplog):
    bot = start(make_bot, JIRA_SEVERITY_FIELD="Severity", JIRA_SEVERITY_VALUE="Critical")
    world.pagerduty.trigger_incident("PJIRAPY", "Checkout errors", priority="P1")
    with caplog.at_level("ERROR", logger="bot.jira_sync.effects"):
        poll_pd(bot)
    issue = incident_issue(world)
    assert issue["fields"][SEVERITY_FIELD] is None and issue["fields"]["priority"]["name"] == "Highest"
    assert [r.getMessage() for r in caplog.records if "Jira refused 'Severity'='Critical'" in r.getMessage()]
    assert bot.runtime.store.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'failed'") == 0


def test_the_timeline_issue_comes_for_an_incident_linked_before_the_timeline_was_on(world, make_bot):
    pd = world.pagerduty
    bot = start(make_bot)
    incident = pd.trigger_incident("PJIRAPY", "Queue stuck", priority="P1")
    poll_pd(bot)
    key = incident_issue(world)["key"]
    bot.stop()
    again = start(make_bot, JIRA_TIMELINE="issue")
    pd.acknowledge(incident["id"], BOB)
    poll_pd(again)
    [timeline_issue] = [i for i in world.jira.issues() if i["key"] != key]
    assert timeline(world, timeline_issue["key"]) == ["Acknowledged by Bob Baker"]
    assert world.jira.links() == [{"type": "Relates", "inward": key, "outward": timeline_issue["key"]}]


def test_a_timeline_comment_whose_answer_was_lost_is_not_posted_again(world, make_bot):
    pd = world.pagerduty
    bot = start(make_bot, JIRA_TIMELINE="comments")
    incident = pd.trigger_incident("PJIRAPY", "Cache cluster down", priority="P1")
    poll_pd(bot)
    key = incident_issue(world)["key"]
    before = comment_posts(world, key)
    world.jira.inject_fault(r"/comment$", 0, method="POST", delay=5.3)  # made after the client's 5 s timeout
    pd.acknowledge(incident["id"], BOB)
    bot.runtime.scheduler.run_and_wait("incidents.poll")
    world.jira.wait_for(lambda: "Acknowledged by Bob Baker" in timeline(world, key), 20, "the comment")
    bot.drain_outbox(20)
    assert timeline(world, key).count("Acknowledged by Bob Baker") == 1
    assert comment_posts(world, key) == before + 1
