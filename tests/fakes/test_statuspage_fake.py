"""The Statuspage fake driven over loopback HTTP by `requests`, as Switchboard's in-house client does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sandbox.fakes.statuspage import StatuspageFake

KEY, PAGE = "sp-sandbox", "sandboxpage"
MARKER = "⛈"


@pytest.fixture(scope="module")
def server() -> Iterator[StatuspageFake]:
    service = StatuspageFake(api_key=KEY, page_id=PAGE)
    with service:  # one server per module: stopping one takes ~0.5 s
        yield service


@pytest.fixture
def fake(server: StatuspageFake) -> StatuspageFake:
    server.reset()
    server.enforce_vendor_limits(False)  # no pacing, legacy 420: tests opt in
    server.add_component("api01", "API")
    server.add_component("db01", "Database")
    server.add_component("web01", "Website")
    return server


def make_session(key: str = KEY) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # a CA bundle or proxy from the environment must not leak in
    session.headers["Authorization"] = f"OAuth {key}"
    return session


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with make_session() as session:
        yield session


def url(fake: StatuspageFake, path: str = "") -> str:
    return f"{fake.base_url}/pages/{PAGE}{path}"


def open_incident(http: requests.Session, fake: StatuspageFake, component_id: str = "api01") -> dict[str, Any]:
    incident = {
        "name": "Investigating Errors in API",
        "status": "investigating",
        "body": f"Automated monitoring has determined that API is experiencing errors.\n{MARKER}",
        "component_ids": [component_id],
        "components": {component_id: "partial_outage"},
        "deliver_notifications": False,
        "metadata": {"switchboard": {"pd_incident": "Q1"}},
    }
    response = http.post(url(fake, "/incidents"), json={"incident": incident}, timeout=5)
    assert response.status_code == 201, response.text
    return response.json()


def test_page_with_and_without_json_suffix(http: requests.Session, fake: StatuspageFake) -> None:
    page = http.get(url(fake), timeout=5).json()
    assert (page["id"], page["time_zone"]) == (PAGE, "Etc/UTC")
    assert http.get(url(fake) + ".json", timeout=5).json() == page
    assert http.get(f"{fake.base_url}/pages/otherpage", timeout=5).status_code == 404


def test_components_paginate_and_unpaginated_calls_are_limited(http: requests.Session, fake: StatuspageFake) -> None:
    pages = [http.get(url(fake, "/components"), params={"page": n, "per_page": 2}, timeout=5).json() for n in (1, 2, 3)]
    assert [[c["id"] for c in page] for page in pages] == [["api01", "db01"], ["web01"], []]
    assert pages[0][0]["status"] == "operational"
    assert http.get(url(fake, "/components.json"), timeout=5).status_code == 200
    limited = http.get(url(fake, "/components"), timeout=5)
    assert limited.status_code == 420
    assert 59 <= int(limited.headers["Retry-After"]) <= 60
    assert http.get(url(fake, "/components"), params={"page": 1}, timeout=5).status_code == 200  # paginated is fine
    fake.advance(61)
    assert len(http.get(url(fake, "/components"), timeout=5).json()) == 3


def test_create_incident_moves_its_components(http: requests.Session, fake: StatuspageFake) -> None:
    incident = open_incident(http, fake)
    assert (incident["status"], incident["impact"], incident["resolved_at"], incident["page_id"]) == (
        "investigating",
        "major",
        None,
        PAGE,
    )
    assert incident["shortlink"].startswith("https://stspg.io/")
    assert incident["metadata"] == {"switchboard": {"pd_incident": "Q1"}}
    oldest = incident["incident_updates"][-1]
    assert MARKER in oldest["body"]
    assert oldest["affected_components"] == [
        {"code": "api01", "name": "API", "old_status": "operational", "new_status": "partial_outage"}
    ]
    assert [c["id"] for c in incident["components"]] == ["api01"]
    assert fake.component("api01")["status"] == "partial_outage"
    assert http.get(url(fake, f"/incidents/{incident['id']}"), timeout=5).json() == fake.incident(incident["id"])


def test_unresolved_lists_only_open_incidents(http: requests.Session, fake: StatuspageFake) -> None:
    first = open_incident(http, fake, "api01")
    fake.advance(5)
    second = open_incident(http, fake, "db01")
    fake.resolve_as_human(first["id"])
    unresolved = http.get(url(fake, "/incidents/unresolved"), params={"page": 1, "per_page": 100}, timeout=5).json()
    assert [i["id"] for i in unresolved] == [second["id"]]
    everything = http.get(url(fake, "/incidents"), params={"limit": 1, "page": 2}, timeout=5).json()
    assert [i["id"] for i in everything] == [first["id"]]  # newest first, so page 2 holds the older one
    assert len(http.get(url(fake, "/incidents"), params={"q": "monitoring has"}, timeout=5).json()) == 2  # bodies too
    assert http.get(url(fake, "/incidents"), params={"q": "database"}, timeout=5).json() == []


def test_resolving_restores_a_component_only_when_the_patch_says_so(
    http: requests.Session, fake: StatuspageFake
) -> None:
    kept, restored = open_incident(http, fake, "api01"), open_incident(http, fake, "db01")
    plain = http.patch(url(fake, f"/incidents/{kept['id']}"), json={"incident": {"status": "resolved"}}, timeout=5)
    assert plain.status_code == 200
    assert plain.json()["resolved_at"] is not None
    assert fake.component("api01")["status"] == "partial_outage"
    body = {"status": "resolved", "component_ids": ["db01"], "components": {"db01": "operational"}}
    resolved = http.patch(url(fake, f"/incidents/{restored['id']}.json"), json={"incident": body}, timeout=5).json()
    assert (resolved["status"], fake.component("db01")["status"]) == ("resolved", "operational")
    assert [u["status"] for u in resolved["incident_updates"]] == ["resolved", "investigating"]
    assert resolved["incident_updates"][0]["affected_components"][0]["new_status"] == "operational"
    assert fake.incidents(unresolved_only=True) == []


def test_legacy_form_encoding_of_pagerstatus(http: requests.Session, fake: StatuspageFake) -> None:
    form = {
        "incident[name]": "Investigating Errors in Website",
        "incident[body]": f"Errors\n{MARKER}",
        "incident[status]": "investigating",
        "incident[component_ids][]": "web01",
        "incident[components][web01]": "partial_outage",
    }
    created = http.post(url(fake, "/incidents.json"), data=form, timeout=5)
    assert created.status_code == 201
    assert fake.component("web01")["status"] == "partial_outage"
    resolve = {"incident[status]": "resolved", "incident[components][web01]": "operational"}
    assert http.patch(url(fake, f"/incidents/{created.json()['id']}.json"), data=resolve, timeout=5).status_code == 200
    assert fake.component("web01")["status"] == "operational"


@pytest.mark.parametrize("limit_status", [420, 429])
def test_two_requests_at_once_exceed_one_per_second(fake: StatuspageFake, limit_status: int) -> None:
    fake.requests_per_second = 1
    fake.limit_status = limit_status
    barrier = threading.Barrier(2)
    answers: list[requests.Response] = []

    def fetch() -> None:
        with make_session() as session:
            barrier.wait(timeout=5)
            answers.append(session.get(url(fake), timeout=5))

    workers = [threading.Thread(target=fetch) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    assert sorted(a.status_code for a in answers) == [200, limit_status]
    rejected = next(a for a in answers if a.status_code == limit_status)
    assert rejected.headers["Retry-After"] == "1"
    fake.advance(1.01)
    with make_session() as session:
        assert session.get(url(fake), timeout=5).status_code == 200


def test_vendor_limits_allow_about_one_request_a_second(fake: StatuspageFake) -> None:
    fake.enforce_vendor_limits()
    with make_session() as session:
        assert session.get(url(fake), timeout=5).status_code == 200
        limited = session.get(url(fake, "/incidents/unresolved"), timeout=5)
        assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1")
        assert limited.json() == {"error": "Rate limit exceeded. Retry after 1 seconds."}
        fake.advance(1)
        assert session.get(url(fake, "/incidents/unresolved"), timeout=5).status_code == 200
        fake.enforce_vendor_limits(False)
        assert [session.get(url(fake), timeout=5).status_code for _ in range(3)] == [200, 200, 200]
    assert StatuspageFake(vendor_limits=True).requests_per_second == 1


def test_pacing_is_per_key(fake: StatuspageFake) -> None:
    fake.requests_per_second = 1
    fake.add_api_key("second-key")
    with make_session() as first, make_session("second-key") as second:
        assert first.get(url(fake), timeout=5).status_code == 200
        assert second.get(url(fake), timeout=5).status_code == 200
        assert first.get(url(fake), timeout=5).status_code == 420


def test_wrong_or_missing_key_gets_401(fake: StatuspageFake) -> None:
    with make_session("wrong-key") as session:
        response = session.get(url(fake, "/incidents/unresolved"), timeout=5)
    assert (response.status_code, response.json()) == (401, {"error": "Could not authenticate"})
    assert requests.get(url(fake), timeout=5).status_code == 401


def test_invalid_bodies_are_refused(http: requests.Session, fake: StatuspageFake) -> None:
    bad_status = {"name": "x", "components": {"api01": "on_fire"}}
    assert http.post(url(fake, "/incidents"), json={"incident": bad_status}, timeout=5).status_code == 422
    unknown = {"name": "x", "component_ids": ["nope"]}
    assert http.post(url(fake, "/incidents"), json={"incident": unknown}, timeout=5).status_code == 422
    assert http.post(url(fake, "/incidents"), json={"name": "unwrapped"}, timeout=5).status_code == 400
    assert http.get(url(fake, "/incidents/doesnotexist"), timeout=5).status_code == 404
    assert fake.incidents() == []


def test_components_patch_and_incident_delete(http: requests.Session, fake: StatuspageFake) -> None:
    patched = http.patch(url(fake, "/components/db01"), json={"component": {"status": "major_outage"}}, timeout=5)
    assert patched.json()["status"] == fake.component("db01")["status"] == "major_outage"
    incident = fake.create_incident_as_human("Database maintenance", ["db01"], body="Planned", status="identified")
    assert http.get(url(fake, "/incidents/unresolved"), timeout=5).json()[0]["id"] == incident["id"]
    deleted = http.delete(url(fake, f"/incidents/{incident['id']}"), timeout=5)
    assert (deleted.status_code, deleted.json()["id"]) == (200, incident["id"])
    assert fake.incidents() == []
