"""The PagerDuty fake, driven through the real `pagerduty` 7.x clients over loopback TLS."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pagerduty
import pytest

from sandbox.fakes.base import iso
from sandbox.fakes.pagerduty import PagerDutyFake
from sandbox.fakes.tls import LoopbackCA

ROUTING_KEY = "R" * 32
SERVICE_KEY = "S" * 32
HOUR = 3600


@pytest.fixture(scope="module")
def ca() -> LoopbackCA:
    return LoopbackCA()


@pytest.fixture(scope="module")
def server(ca: LoopbackCA) -> Iterator[PagerDutyFake]:
    fake = PagerDutyFake(ca)  # one server per module (stopping one costs ~0.5 s); reset() isolates the tests
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server: PagerDutyFake) -> PagerDutyFake:
    server.reset()
    server.add_user("PALICE1", "Alice Example", "alice@example.com")
    server.add_user("PBOB002", "Bob Example", "bob@example.com")
    server.add_user("PBOT003", "Switchboard Bot", "bot@example.com")
    return server


@pytest.fixture
def opened() -> Iterator[list[pagerduty.ApiClient]]:
    clients: list[pagerduty.ApiClient] = []
    yield clients
    for client in clients:
        client.close()


@pytest.fixture
def connect(fake: PagerDutyFake, ca: LoopbackCA, opened: list) -> Callable[..., pagerduty.RestApiV2Client]:
    """A REST client configured like the bot's (default From, short retries) with the test retry profile."""

    def connect(token: str = "pd-sandbox", **kwargs: Any) -> pagerduty.RestApiV2Client:
        kwargs.setdefault("default_from", "bot@example.com")
        client = pagerduty.RestApiV2Client(token, base_url=fake.base_url, verify=ca.client_context(), **kwargs)
        client.sleep_timer = 0.01
        client.max_network_attempts = 0
        client.retry[429] = 1
        client.timeout = 5
        opened.append(client)
        return client

    return connect


@pytest.fixture
def client(connect: Callable[..., pagerduty.RestApiV2Client]) -> pagerduty.RestApiV2Client:
    return connect()


@pytest.fixture
def events(fake: PagerDutyFake, ca: LoopbackCA, opened: list) -> Callable[..., pagerduty.EventsApiV2Client]:
    def events(key: str = SERVICE_KEY) -> pagerduty.EventsApiV2Client:
        client = pagerduty.EventsApiV2Client(key, base_url=fake.base_url, verify=ca.client_context())
        client.sleep_timer = 0.01
        client.max_network_attempts = 0
        client.timeout = 5
        opened.append(client)
        return client

    return events


def whole_now(fake: PagerDutyFake) -> int:
    return int(fake.now())  # whole seconds, so rendered timestamps compare exactly


def add_rotation(fake: PagerDutyFake, schedule_id: str, name: str, start: int, hours: int) -> None:
    """Alice and Bob alternate one-hour shifts from `start`."""
    users = ("PALICE1", "PBOB002")
    shifts = [(users[i % 2], start + i * HOUR, start + (i + 1) * HOUR) for i in range(hours)]
    fake.add_schedule(schedule_id, name, shifts=shifts)


def error_of(excinfo: pytest.ExceptionInfo[pagerduty.HttpError]) -> dict:
    return excinfo.value.response.json()["error"]


def test_schedules_are_found_by_case_insensitive_query(fake: PagerDutyFake, client: pagerduty.RestApiV2Client) -> None:
    for schedule_id, name in [("PSCHED1", "Core Infrastructure"), ("PSCHED2", "Core Platform"), ("PSCHED3", "Support")]:
        fake.add_schedule(schedule_id, name)

    assert [s["id"] for s in client.rget("/schedules", params={"query": "core"})] == ["PSCHED1", "PSCHED2"]
    assert client.find("schedules", "support")["id"] == "PSCHED3"
    assert client.rget("/schedules/PSCHED2")["name"] == "Core Platform"
    with pytest.raises(pagerduty.HttpError) as excinfo:
        client.rget("/schedules/PNOPE00")
    assert excinfo.value.response.status_code == 404
    assert error_of(excinfo) == {"message": "Not Found", "code": 2100}


def test_oncall_follows_the_clock_across_a_handoff(fake: PagerDutyFake, client: pagerduty.RestApiV2Client) -> None:
    now = whole_now(fake)
    fake.add_schedule("PSCHED1", "Core", shifts=[("PALICE1", now - HOUR, now + 30), ("PBOB002", now + 30, now + HOUR)])
    fake.add_escalation_policy("PEP0001", "Core EP", [["PSCHED1"], ["PBOT003"]])

    oncalls = client.rget("/oncalls", params={"schedule_ids[]": ["PSCHED1"]})
    assert [(o["user"]["id"], o["escalation_level"]) for o in oncalls] == [("PALICE1", 1)]
    assert oncalls[0]["end"] == iso(now + 30)  # the bot schedules its next hand-off from this
    assert oncalls[0]["schedule"]["id"] == "PSCHED1"
    assert oncalls[0]["escalation_policy"]["id"] == "PEP0001"
    window = {"since": iso(now - 60), "until": iso(now)}
    assert [u["email"] for u in client.rget("/schedules/PSCHED1/users", params=window)] == ["alice@example.com"]

    fake.advance(31)

    policy_oncalls = client.rget("/oncalls", params={"escalation_policy_ids[]": ["PEP0001"]})
    assert [(o["user"]["summary"], o["escalation_level"]) for o in policy_oncalls] == [
        ("Bob Example", 1),
        ("Switchboard Bot", 2),
    ]
    assert policy_oncalls[1]["schedule"] is None and policy_oncalls[1]["end"] is None  # a direct user target
    assert fake.oncall_users("PSCHED1") == ["PBOB002"]


def test_escalation_policies_by_id_and_name_and_their_oncalls_over_a_window(
    fake: PagerDutyFake, client: pagerduty.RestApiV2Client
) -> None:
    """What an on-call link to a policy reads: the policy's name, then every level's on-calls over the coming days
    (shift by shift, with the users' emails); the caller keeps the first level."""
    now = whole_now(fake)
    shifts = [("PALICE1", now - HOUR, now + HOUR), ("PBOB002", now + HOUR, now + 9 * HOUR)]
    fake.add_schedule("PSCHED1", "Core", shifts=shifts)
    fake.add_escalation_policy("PEP0001", "Payments", [["PSCHED1", "PBOT003"], ["PBOB002"]])
    fake.add_escalation_policy("PEP0002", "Platform", [["PBOB002"]])

    assert client.rget("/escalation_policies/PEP0001")["name"] == "Payments"
    assert [p["id"] for p in client.rget("/escalation_policies", params={"query": "pay"})] == ["PEP0001"]
    with pytest.raises(pagerduty.HttpError) as excinfo:
        client.rget("/escalation_policies/PNOPE00")
    assert excinfo.value.response.status_code == 404
    window = {"since": iso(now), "until": iso(now + 14 * 24 * HOUR), "include[]": ["users"]}
    rows = client.rget("/oncalls", params={**window, "escalation_policy_ids[]": ["PEP0001"]})
    assert [(o["escalation_level"], o["user"]["email"], o["start"]) for o in rows] == [
        (1, "alice@example.com", iso(now - HOUR)),
        (1, "bob@example.com", iso(now + HOUR)),
        (1, "bot@example.com", None),
        (2, "bob@example.com", None),
    ]


def test_gaps_and_deactivated_users(fake: PagerDutyFake, client: pagerduty.RestApiV2Client) -> None:
    now = whole_now(fake)
    fake.add_user("PGONE04", "Gone Person", "gone@example.com", deleted=True)
    fake.add_schedule("PSCHED1", "Gappy", shifts=[("PALICE1", now + HOUR, now + 2 * HOUR)])
    fake.add_schedule("PSCHED2", "Orphaned", shifts=[("PGONE04", now - HOUR, now + HOUR)])
    window = {"since": iso(now - 60), "until": iso(now)}

    assert client.rget("/schedules/PSCHED1/users", params=window) == []
    [ghost] = client.rget("/schedules/PSCHED2/users", params=window)
    assert "name" not in ghost and ghost["summary"] == "Gone Person" and ghost["deleted_at"]
    with pytest.raises(pagerduty.HttpError):
        client.rget("/users/PGONE04")


def test_override_is_reported_only_while_it_overlaps(fake: PagerDutyFake, client: pagerduty.RestApiV2Client) -> None:
    now = whole_now(fake)
    fake.add_schedule(
        "PSCHED1",
        "Core",
        shifts=[("PALICE1", now - 2 * HOUR, now + 2 * HOUR)],
        overrides=[("PBOT003", now - 2 * HOUR, now - HOUR)],  # long over
    )
    fake.add_override("PSCHED1", "PBOB002", now - 600, now + 600)
    window = {"since": iso(now - 60), "until": iso(now)}

    [override] = client.rget("/schedules/PSCHED1/overrides", params=window)
    assert (override["user"]["id"], override["start"], override["end"]) == ("PBOB002", iso(now - 600), iso(now + 600))
    schedule = client.rget("/schedules/PSCHED1", params=window)
    assert [e["user"]["id"] for e in schedule["final_schedule"]["rendered_schedule_entries"]] == ["PBOB002"]
    assert len(schedule["overrides_subschedule"]["rendered_schedule_entries"]) == 1
    assert [u["id"] for u in client.rget("/schedules/PSCHED1/users", params=window)] == ["PBOB002"]

    fake.advance(601)
    later = {"since": iso(now + 601 - 60), "until": iso(now + 601)}
    assert [o["user"]["id"] for o in client.rget("/schedules/PSCHED1/overrides", params=later)] == ["PBOB002"]
    after = {"since": iso(now + 601), "until": iso(now + 602)}
    assert client.rget("/schedules/PSCHED1/overrides", params=after) == []
    assert [u["id"] for u in client.rget("/schedules/PSCHED1/users", params=after)] == ["PALICE1"]


def test_oncalls_for_two_schedules_paginate_past_100(fake: PagerDutyFake, client: pagerduty.RestApiV2Client) -> None:
    start = whole_now(fake)
    add_rotation(fake, "PSCHED1", "Primary", start, hours=60)
    add_rotation(fake, "PSCHED2", "Secondary", start, hours=60)
    fake.add_escalation_policy("PEP0001", "Primary EP", [["PSCHED1"]])
    fake.add_escalation_policy("PEP0002", "Secondary EP", [["PSCHED2"]])
    params = {
        "schedule_ids[]": ["PSCHED1", "PSCHED2"],
        "since": iso(start),
        "until": iso(start + 60 * HOUR),
        "include[]": ["users"],
    }

    oncalls = client.list_all("/oncalls", params=params)

    assert len(oncalls) == 120
    assert {o["schedule"]["id"] for o in oncalls} == {"PSCHED1", "PSCHED2"}
    assert oncalls[0]["user"]["email"] == "alice@example.com"
    pages = fake.calls("GET", r"^/oncalls$")
    assert [p.q("offset") for p in pages] == ["0", "100"]
    earliest = client.list_all("/oncalls", params={**params, "earliest": "true"})
    assert [(o["schedule"]["id"], o["user"]["id"], o["start"]) for o in earliest] == [
        ("PSCHED1", "PALICE1", iso(start)),
        ("PSCHED1", "PBOB002", iso(start + HOUR)),
        ("PSCHED2", "PALICE1", iso(start)),
        ("PSCHED2", "PBOB002", iso(start + HOUR)),
    ]


def test_incidents_filter_by_status_and_paginate(fake: PagerDutyFake, client: pagerduty.RestApiV2Client) -> None:
    fake.add_service("PSVC001", "API")
    ids = [fake.trigger_incident("PSVC001", f"Alarm {n}", tags="component:abc123,env:prod")["id"] for n in range(30)]
    for incident_id in ids[:12]:
        fake.acknowledge(incident_id, "PALICE1")
    for incident_id in ids[:5]:
        fake.resolve(incident_id, "PALICE1")

    acknowledged = client.list_all(
        "/incidents",
        params={"statuses[]": ["acknowledged"], "include[]": ["first_trigger_log_entries"]},
        page_size=4,
    )

    assert [i["id"] for i in acknowledged] == ids[5:12]
    assert acknowledged[0]["first_trigger_log_entry"]["channel"]["details"]["tags"] == "component:abc123,env:prod"
    assert len(client.list_all("/incidents", params={"statuses[]": ["triggered", "resolved"]})) == 23
    page = client.jget("/incidents", params={"limit": 10, "offset": 10, "total": "true"})
    assert (len(page["incidents"]), page["more"], page["total"]) == (10, True, 30)
    assert client.jget("/incidents", params={"offset": 20})["total"] is None
    with pytest.raises(pagerduty.HttpError) as excinfo:
        client.jget("/incidents", params={"offset": 9950, "limit": 100})
    assert excinfo.value.response.status_code == 400


def test_create_incident_rejects_a_duplicate_open_dedup_key(
    fake: PagerDutyFake, client: pagerduty.RestApiV2Client, connect: Callable[..., pagerduty.RestApiV2Client]
) -> None:
    fake.add_service("PSVC001", "Dispatch")
    body = {
        "type": "incident",
        "title": "Disk full on db-1",
        "service": {"id": "PSVC001", "type": "service_reference"},
        "incident_key": "Disk full on db-1",
        "body": {"type": "incident_body", "details": "95% used"},
        "priority": {"id": fake.priority("P1")["id"], "type": "priority_reference"},
    }

    created = client.rpost("/incidents", json=body)
    assert (created["status"], created["priority"]["name"], created["incident_number"]) == ("triggered", "P1", 1)
    with pytest.raises(pagerduty.HttpError) as excinfo:
        client.rpost("/incidents", json=body)
    assert excinfo.value.response.status_code == 400
    assert error_of(excinfo)["errors"] == ["Open incident with matching dedup key already exists on this service"]
    trigger = fake.log_entries(created["id"])[0]
    assert (trigger["type"], trigger["agent"]["id"]) == ("trigger_log_entry", "PBOT003")

    fake.resolve(created["id"])
    assert client.rpost("/incidents", json=body)["incident_number"] == 2

    anonymous = connect(default_from=None)
    with pytest.raises(pagerduty.HttpError) as excinfo:
        anonymous.rpost("/incidents", json={**body, "incident_key": "other"})
    assert excinfo.value.response.status_code == 400
    assert "From" in error_of(excinfo)["errors"][0]


def test_put_incidents_resolves_in_bulk(fake: PagerDutyFake, client: pagerduty.RestApiV2Client) -> None:
    fake.add_service("PSVC001", "API")
    first = fake.trigger_incident("PSVC001", "One")["id"]
    second = fake.trigger_incident("PSVC001", "Two")["id"]
    references = [{"id": i, "type": "incident_reference", "status": "resolved"} for i in (first, second)]

    updated = client.rput("/incidents", json=references)

    assert [i["status"] for i in updated] == ["resolved", "resolved"]
    assert fake.incidents_by_status("resolved") == [fake.incident(first), fake.incident(second)]
    resolve_entry = fake.log_entries(first)[-1]
    assert (resolve_entry["type"], resolve_entry["summary"]) == ("resolve_log_entry", "Resolved by Switchboard Bot")
    with pytest.raises(pagerduty.HttpError) as excinfo:
        client.rput("/incidents", json=references[:1])
    assert error_of(excinfo)["errors"] == ["Incident Already Resolved"]
    assert fake.calls("PUT", r"^/incidents$")[0].header("from") == "bot@example.com"


def test_log_entries_show_a_priority_change(fake: PagerDutyFake, client: pagerduty.RestApiV2Client) -> None:
    start = whole_now(fake)
    fake.add_schedule("PSCHED1", "Core", shifts=[("PALICE1", start - HOUR, start + HOUR)])
    fake.add_escalation_policy("PEP0001", "Core EP", [["PSCHED1"]])
    fake.add_service("PSVC001", "API", escalation_policy_id="PEP0001")
    incident = fake.trigger_incident("PSVC001", "Checkout down", priority="P2")
    assert incident["assignments"][0]["assignee"]["id"] == "PALICE1"

    p1 = {"id": fake.priority("P1")["id"], "type": "priority_reference"}
    client.rput(f"/incidents/{incident['id']}", json={"type": "incident", "priority": p1})
    fake.set_priority(incident["id"], "P3", agent_user_id="PALICE1")

    entries = client.list_all("/log_entries", params={"since": iso(start - 60), "include[]": ["incidents"]})
    changes = [e for e in entries if e["type"] == "priority_change_log_entry"]
    assert [c["summary"] for c in changes] == [
        'Priority changed from "P1" to "P3" by Alice Example',  # newest first
        'Priority changed from "P2" to "P1" by Switchboard Bot',
    ]
    to_p1 = changes[1]
    assert re.match(r'Priority changed from "P\d" to "P1"', to_p1["summary"])
    assert to_p1["channel"]["new_priority"]["summary"] == "P1"
    assert to_p1["agent"]["summary"] == "Switchboard Bot"
    assert to_p1["incident"]["priority"]["name"] == "P3"  # the full incident, as it is now
    overview = client.list_all(f"/incidents/{incident['id']}/log_entries", params={"is_overview": "true"})
    assert {e["type"] for e in overview} == {"trigger_log_entry", "priority_change_log_entry"}
    future = {"since": iso(start + HOUR), "until": iso(start + 2 * HOUR)}
    assert client.list_all("/log_entries", params=future) == []


def test_notes_are_posted_with_from_and_logged(fake: PagerDutyFake, client: pagerduty.RestApiV2Client) -> None:
    fake.add_service("PSVC001", "API")
    incident_id = fake.trigger_incident("PSVC001", "Latency")["id"]

    note = client.rpost(f"/incidents/{incident_id}/notes", json={"content": "Looking into it"})

    assert (note["content"], note["user"]["id"]) == ("Looking into it", "PBOT003")
    assert [n["content"] for n in client.rget(f"/incidents/{incident_id}/notes")] == ["Looking into it"]
    assert [n["summary"] for n in client.iter_incident_notes(incident_id)] == ["Looking into it"]
    [alert] = client.rget(f"/incidents/{incident_id}/alerts")
    assert alert["status"] == "triggered"


def test_events_api_triggers_dedupes_and_resolves(
    fake: PagerDutyFake, client: pagerduty.RestApiV2Client, events: Callable[..., pagerduty.EventsApiV2Client]
) -> None:
    fake.add_service("PSVC001", "Monitoring", routing_key=SERVICE_KEY)
    monitor = events()

    dedup_key = monitor.trigger("CPU high on web-1", "web-1", severity="error", custom_details={"tags": ["a", "b"]})
    assert monitor.trigger("CPU still high", "web-1", dedup_key=dedup_key) == dedup_key
    [incident] = fake.incidents_by_status("triggered")
    assert (incident["incident_key"], incident["title"], incident["alert_counts"]["all"]) == (
        dedup_key,
        "CPU high on web-1",
        1,
    )
    monitor.acknowledge(dedup_key)
    assert fake.incident(incident["id"])["status"] == "acknowledged"
    monitor.resolve(dedup_key)
    assert fake.incident(incident["id"])["status"] == "resolved"
    monitor.trigger("CPU high again", "web-1", dedup_key=dedup_key)
    assert len(client.list_all("/incidents", params={"service_ids[]": ["PSVC001"]})) == 2

    with pytest.raises(pagerduty.HttpError) as excinfo:
        monitor.trigger("Bad", "web-1", severity="catastrophic")
    assert excinfo.value.response.status_code == 400
    assert excinfo.value.response.json()["status"] == "invalid event"
    with pytest.raises(pagerduty.HttpError):
        events("X" * 32).trigger("Unknown key", "web-1")
    assert events(ROUTING_KEY).trigger("No service", "web-1")  # known key, no incident
    assert len(fake.events) == 6


def test_wrong_token_gets_the_real_401(connect: Callable[..., pagerduty.RestApiV2Client]) -> None:
    with pytest.raises(pagerduty.HttpError) as excinfo:
        connect("wrong").rget("/users")
    assert excinfo.value.response.status_code == 401
    assert excinfo.value.response.json() == {"error": {"message": "Unauthorized", "code": 2006}}


def test_users_me_needs_a_user_token(
    fake: PagerDutyFake, client: pagerduty.RestApiV2Client, connect: Callable[..., pagerduty.RestApiV2Client]
) -> None:
    fake.add_user_token("user-token", "PALICE1")

    assert client.api_key_access == "account"
    user_client = connect("user-token", default_from=None)
    assert user_client.api_key_access == "user"
    assert user_client.rget("/users/me")["email"] == "alice@example.com"
    assert client.subdomain == "sandbox"


def test_rate_limit_fault_is_retried_then_surfaces(fake: PagerDutyFake, client: pagerduty.RestApiV2Client) -> None:
    fake.inject_fault(r"^/users$", 429, times=1)
    assert len(client.rget("/users")) == 3  # retry[429] = 1 absorbs one throttle

    fake.inject_fault(r"^/users$", 429, times=2)
    with pytest.raises(pagerduty.HttpError) as excinfo:
        client.rget("/users")
    assert excinfo.value.response.status_code == 429
    assert excinfo.value.response.json() == {"error": {"message": "Rate Limit Exceeded", "code": 2020}}
    assert len(fake.calls("GET", r"^/users$")) == 4


def test_unknown_route_and_time_zone(fake: PagerDutyFake, client: pagerduty.RestApiV2Client) -> None:
    response = client.get("/teams")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == 2100

    fake.add_service("PSVC001", "API")
    incident_id = fake.trigger_incident("PSVC001", "Zoned")["id"]
    zoned = client.rget(f"/incidents/{incident_id}", params={"time_zone": "Asia/Tokyo"})
    assert zoned["created_at"].endswith("+09:00")


def test_policies_list_their_schedule_targets_and_services_and_open_incidents_are_read_by_service(
    fake: PagerDutyFake, client: pagerduty.RestApiV2Client
) -> None:
    """What an on-call hand-off brief reads: every policy's rules and services in one paginated list, then the open
    incidents of some services, however old (`date_range=all`)."""
    fake.add_schedule("PSCHED1", "Core")
    fake.add_escalation_policy("PEP0001", "Core EP", [["PBOT003"], ["PSCHED1"]])
    fake.add_escalation_policy("PEP0002", "Idle EP", [["PALICE1"]])
    fake.add_service("PSVC001", "Core API", escalation_policy_id="PEP0001")
    fake.add_service("PSVC002", "Other", escalation_policy_id="PEP0002")
    old = fake.trigger_incident("PSVC001", "Open for weeks")
    fake.advance(40 * 24 * HOUR)
    acked = fake.trigger_incident("PSVC001", "Acknowledged")
    fake.acknowledge(acked["id"])
    fake.resolve(fake.trigger_incident("PSVC001", "Resolved")["id"])
    fake.trigger_incident("PSVC002", "Elsewhere")

    policies = {p["id"]: p for p in client.iter_all("/escalation_policies", params={"limit": 1})}
    core = policies["PEP0001"]
    assert [t["id"] for rule in core["escalation_rules"] for t in rule["targets"]] == ["PBOT003", "PSCHED1"]
    assert core["escalation_rules"][1]["targets"][0]["type"] == "schedule_reference"
    assert [s["id"] for s in core["services"]] == ["PSVC001"]
    params = {"service_ids[]": ["PSVC001"], "statuses[]": ["triggered", "acknowledged"], "date_range": "all"}
    found = list(client.iter_all("/incidents", params=params))
    assert [(i["title"], i["status"]) for i in found] == [
        ("Open for weeks", "triggered"),
        ("Acknowledged", "acknowledged"),
    ]
    assert found[0]["html_url"] == f"https://sandbox.pagerduty.com/incidents/{old['id']}"
    assert found[0]["service"]["summary"] == "Core API"
    without_range = {k: v for k, v in params.items() if k != "date_range"}  # PagerDuty's default: the last month
    assert [i["title"] for i in client.iter_all("/incidents", params=without_range)] == ["Acknowledged"]
