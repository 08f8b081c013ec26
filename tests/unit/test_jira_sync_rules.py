from datetime import timezone
from zoneinfo import ZoneInfo

from bot.incidents.model import LogEntry, PdIncident
from bot.jira_sync import rules
from bot.jira_sync.config import load as load_jira_config
from bot.settings import load_settings

CONFIG = load_jira_config(
    load_settings(
        {"JIRA_PROJECT": "ops", "JIRA_URL": "https://acme.atlassian.net", "PAGERDUTY_API_TOKEN": "x"}, dotenv_path=None
    )
)


def incident(**kw) -> PdIncident:
    values = {
        "account": "default",
        "id": "PABC123",
        "number": 7,
        "title": "Payments\nfailing",
        "status": "triggered",
        "priority": "P1",
        "service_id": "PSVC",
        "service_name": "Payments",
        "html_url": "https://acme.pagerduty.com/incidents/PABC123",
    }
    values.update(kw)
    return PdIncident(**values)


def never(field, value):
    return False


def test_issue_fields():
    fields = rules.issue_fields(CONFIG, incident(), "Highest")
    assert fields["project"] == {"key": "OPS"} and fields["issuetype"] == {"name": "Incident"}
    assert fields["summary"] == "[PD #7] Payments failing"
    assert "https://acme.pagerduty.com/incidents/PABC123" in fields["description"]
    assert fields["priority"] == {"name": "Highest"} and fields["labels"] == ["pagerduty-7"]
    other = rules.issue_fields(CONFIG, incident(account="eu", title="x" * 300), None)
    assert other["labels"] == ["pagerduty-eu-7"] and "priority" not in other
    assert other["summary"].startswith("[PD eu #7] ") and len(other["summary"]) == 255


def test_jql_in_the_users_time_zone_with_minute_resolution():
    since = 1795600000.0  # 2026-11-25 09:46:40 UTC
    assert rules.jql_since("OPS", since, timezone.utc) == (
        'project = "OPS" AND updated >= "2026-11-25 09:46" ORDER BY updated ASC'
    )
    assert '"2026-11-25 10:46"' in rules.jql_since("OPS", since, ZoneInfo("Europe/Berlin"))
    assert rules.user_zone("Not/AZone") == timezone.utc
    assert rules.jira_time("2026-11-25T09:46:40.000+0000") == since


def link(**kw):
    values = {"issue_key": "OPS-1", "pd_status": "triggered", "pd_priority": "P1", "jira_priority": "Highest"}
    values.update(jira_category="new", jira_status="To Do", jira_updated="t0")
    values.update(kw)
    return values


def test_pagerduty_changes_become_jira_changes():
    decision = rules.pagerduty_changed(link(), incident(status="acknowledged", priority="P3"), CONFIG, never)
    assert decision.updates == {"pd_priority": "P3", "jira_priority": "Medium", "pd_status": "acknowledged"}
    assert decision.effects == [
        ("jira_priority", {"priority": "Medium"}),
        ("jira_transition", {"pd_status": "acknowledged"}),
    ]
    unchanged = rules.pagerduty_changed(link(), incident(), CONFIG, never)
    assert unchanged.updates == {} and unchanged.effects == []


def test_before_the_issue_exists_only_the_row_changes():
    decision = rules.pagerduty_changed(link(issue_key=None), incident(status="resolved", priority="P2"), CONFIG, never)
    assert decision.updates["jira_priority"] == "High" and decision.effects == []


def test_an_unmapped_status_changes_nothing_in_jira():
    decision = rules.pagerduty_changed(link(pd_status="acknowledged"), incident(status="triggered"), CONFIG, never)
    assert decision.updates == {"pd_status": "triggered"} and decision.effects == []


def snapshot(**kw) -> rules.IssueSnapshot:
    values = {"key": "OPS-1", "id": "10001", "status": "To Do", "category": "new", "priority": "Highest"}
    values.update(updated="t1")
    values.update(kw)
    return rules.IssueSnapshot(**values)


def test_jira_done_resolves_and_leaving_done_notes():
    done = rules.jira_changed(link(), snapshot(status="Done", category="done"), CONFIG, never)
    assert done.effects == [("pd_resolve", {})] and done.updates["pd_status"] == "resolved"
    already = rules.jira_changed(link(pd_status="resolved"), snapshot(status="Done", category="done"), CONFIG, never)
    assert already.effects == []
    back = rules.jira_changed(link(jira_category="done", pd_status="resolved"), snapshot(), CONFIG, never)
    assert back.effects == [("pd_note", {"content": rules.reopened_note(snapshot())})]


def test_jira_priority_maps_back_to_pagerduty():
    decision = rules.jira_changed(link(), snapshot(priority="Low"), CONFIG, never)
    assert decision.effects == [("pd_priority", {"priority": "P4"})]
    assert decision.updates["pd_priority"] == "P4" and decision.updates["jira_priority"] == "Low"
    unknown = rules.jira_changed(link(), snapshot(priority="Blocker"), CONFIG, never)
    assert unknown.effects == [] and unknown.updates["jira_priority"] == "Blocker"


def test_the_bots_own_writes_never_bounce_back():
    def own(field, value):
        return (field, value) in {("status", "done"), ("priority", "Low"), ("priority", "P2"), ("status", "resolved")}

    jira_side = rules.jira_changed(link(), snapshot(category="done", priority="Low"), CONFIG, own)
    assert jira_side.effects == [] and jira_side.updates["jira_category"] == "done"
    pd_side = rules.pagerduty_changed(link(), incident(priority="P2", status="resolved"), CONFIG, own)
    assert pd_side.effects == [] and pd_side.updates == {"pd_priority": "P2", "pd_status": "resolved"}
    assert jira_side.seen == [] and pd_side.seen == []


def test_changes_made_by_others_are_reported_as_seen():
    jira_side = rules.jira_changed(link(), snapshot(category="done", priority="Low"), CONFIG, never)
    assert jira_side.seen == [("status", "done"), ("priority", "Low")]
    pd_side = rules.pagerduty_changed(link(), incident(priority="P2", status="acknowledged"), CONFIG, never)
    assert pd_side.seen == [("priority", "P2"), ("status", "acknowledged")]


def test_snapshot_and_note_text():
    issue = {
        "key": "OPS-9",
        "id": "10009",
        "fields": {
            "status": {"name": "Done", "statusCategory": {"key": "done"}},
            "priority": {"name": "High"},
            "updated": "2026-11-25T08:26:40.000+0000",
        },
    }
    assert rules.IssueSnapshot.from_api(issue) == rules.IssueSnapshot(
        "OPS-9", "10009", "Done", "done", "High", "2026-11-25T08:26:40.000+0000"
    )
    assert (
        rules.note_comment({"user": {"summary": "Bob"}, "content": "Rolled back"})
        == "PagerDuty note by Bob: Rolled back"
    )


def test_an_incident_qualifies_at_or_when_raised_to_a_listed_priority():
    raised_to_p1 = LogEntry("E1", "priority_change_log_entry", 1.0, "", "PRAISED", "Ann", "P1")
    other = LogEntry("E2", "annotate_log_entry", 2.0, "", "POTHER", "Ann", None)
    raised = rules.raised_to([raised_to_p1, other], CONFIG.priorities)
    assert raised == {"PRAISED"}
    assert rules.qualifies(incident(priority="P1"), CONFIG.priorities, set())
    assert rules.qualifies(incident(id="PRAISED", priority="P2"), CONFIG.priorities, raised)
    assert not rules.qualifies(incident(id="POTHER", priority="P2"), CONFIG.priorities, raised)
