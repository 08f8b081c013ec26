from bot.incidents.model import LogEntry, PdIncident, format_time, parse_time

INCIDENT = {
    "id": "PABC123",
    "incident_number": 42,
    "title": "API errors",
    "status": "acknowledged",
    "priority": {"id": "PPRIO1", "summary": "P1", "name": "P1"},
    "service": {"id": "PSVC001", "summary": "Checkout"},
    "html_url": "https://acme.pagerduty.com/incidents/PABC123",
    "first_trigger_log_entry": {
        "type": "trigger_log_entry",
        "channel": {"type": "api", "details": {"tags": ["env:prod", "component:api01"]}},
    },
}


def test_incident_from_the_api_and_back_through_sqlite():
    incident = PdIncident.from_api("default", INCIDENT)
    assert (incident.ref, incident.number, incident.priority, incident.service_name) == (
        "default/PABC123",
        42,
        "P1",
        "Checkout",
    )
    assert incident.trigger_channel == {"type": "api", "tags": ["env:prod", "component:api01"], "body": None}
    assert PdIncident.from_row(incident.row()) == incident


def test_trigger_channel_reads_email_bodies_and_details_sent_as_json_text():
    email = {**INCIDENT, "first_trigger_log_entry": {"channel": {"type": "email", "body": "x" * 5000}}}
    assert len(PdIncident.from_api("a", email).trigger_channel["body"]) == 4000
    as_text = {**INCIDENT, "first_trigger_log_entry": {"channel": {"details": '{"tags": "component:db"}'}}}
    assert PdIncident.from_api("a", as_text).trigger_channel["tags"] == "component:db"
    unrendered = {**INCIDENT, "first_trigger_log_entry": {"id": "R1", "type": "trigger_log_entry_reference"}}
    assert PdIncident.from_api("a", unrendered).trigger_channel == {"type": None, "tags": None, "body": None}
    assert PdIncident.from_api("a", {"id": "P1", "priority": None}).priority is None


def test_log_entry_fields():
    entry = LogEntry.from_api(
        {
            "id": "R1",
            "type": "priority_change_log_entry",
            "created_at": "2026-01-02T03:04:05Z",
            "summary": 'Priority changed from "P2" to "P1"',
            "agent": {"summary": "Bob Baker"},
            "channel": {"type": "website", "new_priority": {"summary": "P1"}},
            "incident": {"id": "PABC123", "type": "incident_reference"},
        }
    )
    assert (entry.incident_id, entry.new_priority, entry.agent) == ("PABC123", "P1", "Bob Baker")
    assert format_time(entry.created_at) == "2026-01-02T03:04:05Z"


def test_times():
    assert parse_time("2026-01-02T03:04:05+01:00") == parse_time("2026-01-02T02:04:05Z")
    assert parse_time("2026-01-02T03:04:05") == parse_time("2026-01-02T03:04:05Z")
    assert parse_time("yesterday") is None and parse_time(None) is None
