"""The Zendesk fake driven by the real zenpy client over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Ticket, User
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, RecordNotFoundException

from sandbox.fakes.zendesk import ZendeskFake


@pytest.fixture(scope="module")
def server() -> Iterator[ZendeskFake]:
    service = ZendeskFake()
    with service:  # one server per module: stopping one takes ~0.5 s
        yield service


@pytest.fixture
def fake(server: ZendeskFake) -> ZendeskFake:
    server.reset()
    server.enforce_vendor_limits(False)  # no export delay, no export rate limit: tests opt in
    return server


def make_client(fake: ZendeskFake, monkeypatch: pytest.MonkeyPatch, **overrides: object) -> Zenpy:
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", f"127.0.0.1:{fake.port}")
    options: dict[str, object] = {"email": fake.email, "token": fake.token}
    options.update(overrides)
    return Zenpy(subdomain="sandbox", disable_cache=True, timeout=5, ratelimit_budget=1, **options)


@pytest.fixture
def zenpy(fake: ZendeskFake, monkeypatch: pytest.MonkeyPatch) -> Zenpy:
    return make_client(fake, monkeypatch)


def new_ticket(zenpy: Zenpy, subject: str = "Printer on fire", **fields: object) -> Ticket:
    ticket = Ticket(subject=subject, comment=Comment(body=f"{subject}, see Slack", public=True), **fields)
    return zenpy.tickets.create(ticket).ticket


def test_users_me_is_the_bot_agent(zenpy: Zenpy, fake: ZendeskFake) -> None:
    me = zenpy.users.me()
    assert (me.id, me.email, me.role) == (ZendeskFake.BOT_AGENT_ID, fake.email, "agent")


def test_create_or_update_finds_users_by_email(zenpy: Zenpy, fake: ZendeskFake) -> None:
    created = zenpy.users.create_or_update(User(name="Ada Lovelace", email="ada@example.com"))
    again = zenpy.users.create_or_update(User(name="Ada L.", email="ADA@example.com"))
    assert created.id == again.id
    assert created.role == "end-user"
    assert fake.user_by_email("ada@example.com")["name"] == "Ada L."
    assert [u.id for u in zenpy.users(ids=[created.id, ZendeskFake.BOT_AGENT_ID])] == [
        created.id,
        ZendeskFake.BOT_AGENT_ID,
    ]
    assert [u.id for u in zenpy.users.search(query="ada@example.com")] == [created.id]


def test_create_ticket_with_a_new_requester(zenpy: Zenpy, fake: ZendeskFake) -> None:
    fake.add_group(360001, "Support")
    me = zenpy.users.me()
    ticket = new_ticket(
        zenpy,
        requester=User(name="Grace Hopper", email="grace@example.com"),
        submitter_id=me.id,
        group_id=360001,
        external_id="1614771038.052300",
        tags=["slack"],
    )
    assert ticket.status == "new"
    assert ticket.group_id == 360001
    assert ticket.requester_id == fake.user_by_email("grace@example.com")["id"]
    [comment] = fake.comments(ticket.id)
    assert comment["author_id"] == me.id
    assert comment["via"]["channel"] == "api"
    assert [t.id for t in zenpy.tickets(external_id="1614771038.052300")] == [ticket.id]
    assert [g.name for g in zenpy.groups()] == ["Support"]


def test_unknown_references_are_record_invalid(zenpy: Zenpy) -> None:
    with pytest.raises(APIException) as caught:
        new_ticket(zenpy, group_id=4242)
    assert caught.value.response.status_code == 422
    assert caught.value.response.json()["error"] == "RecordInvalid"


def test_idempotency_key_through_the_zenpy_session(zenpy: Zenpy, fake: ZendeskFake) -> None:
    zenpy.tickets.session.headers["Idempotency-Key"] = "slack-C1-1614771038.052300"
    first = new_ticket(zenpy)
    second = new_ticket(zenpy)
    assert first.id == second.id
    assert len(fake.tickets()) == 1


def test_idempotency_key_hit_miss_and_mismatch(fake: ZendeskFake) -> None:
    url = f"{fake.origin}/api/v2/tickets.json"
    auth = (f"{fake.email}/token", fake.token)
    body = {"ticket": {"subject": "Disk full", "comment": {"body": "Disk full on db-1"}}}
    headers = {"Idempotency-Key": "key-1"}
    first = requests.post(url, json=body, auth=auth, headers=headers, timeout=5)
    second = requests.post(url, json=body, auth=auth, headers=headers, timeout=5)
    assert (first.status_code, first.headers["x-idempotency-lookup"]) == (201, "miss")
    assert (second.status_code, second.headers["x-idempotency-lookup"]) == (201, "hit")
    assert first.json()["ticket"]["id"] == second.json()["ticket"]["id"]
    body["ticket"]["subject"] = "Disk still full"
    clash = requests.post(url, json=body, auth=auth, headers=headers, timeout=5)
    assert clash.status_code == 400
    assert clash.json()["error"] == "IdempotentRequestError"


def test_update_adds_a_comment_and_changes_status(zenpy: Zenpy, fake: ZendeskFake) -> None:
    ticket_id = new_ticket(zenpy).id
    ticket = zenpy.tickets(id=ticket_id)
    ticket.comment = Comment(body="Ada (Slack): any news?", public=False, author_id=zenpy.users.me().id)
    ticket.status = "pending"
    audit = zenpy.tickets.update(ticket)
    assert audit.ticket.status == "pending"
    assert audit.ticket.assignee_id is None
    change = next(e for e in audit.audit.events if e["type"] == "Change")
    assert (change["field_name"], change["previous_value"], change["value"]) == ("status", "new", "pending")
    assert [c["public"] for c in fake.comments(ticket_id)] == [True, False]
    assert fake.ticket(ticket_id)["status"] == "pending"


def test_solving_assigns_the_solver_and_closed_tickets_refuse_updates(zenpy: Zenpy, fake: ZendeskFake) -> None:
    ticket = zenpy.tickets(id=new_ticket(zenpy).id)
    ticket.status = "closed"
    assert zenpy.tickets.update(ticket).ticket.assignee_id == ZendeskFake.BOT_AGENT_ID
    ticket = zenpy.tickets(id=ticket.id)
    ticket.comment = Comment(body="too late")
    with pytest.raises(APIException) as caught:
        zenpy.tickets.update(ticket)
    assert caught.value.response.status_code == 422
    details = caught.value.response.json()["details"]["status"][0]["description"]
    assert details == "Status: closed prevents ticket update"
    with pytest.raises(RecordNotFoundException):
        zenpy.tickets(id=999)


def test_follow_up_of_a_closed_ticket(zenpy: Zenpy, fake: ZendeskFake) -> None:
    closed = new_ticket(zenpy)
    fake.set_status(closed.id, "closed")
    follow_up = new_ticket(zenpy, "Printer on fire again", via_followup_source_id=closed.id)
    assert fake.ticket(closed.id)["followup_ids"] == [follow_up.id]
    assert follow_up.via.source.rel == "follow_up"


def test_comments_follow_cursor_pagination(zenpy: Zenpy, fake: ZendeskFake) -> None:
    ticket_id = new_ticket(zenpy).id
    for n in range(120):
        fake.agent_comment(ticket_id, f"reply {n}")
    comments = list(zenpy.tickets.comments(ticket=ticket_id))
    assert len(comments) == 121
    assert comments[-1].body == "reply 119"
    assert comments[-1].via.channel == "web"
    assert len(fake.calls("GET", r"/comments")) == 2
    newest = requests.get(
        f"{fake.origin}/api/v2/tickets/{ticket_id}/comments.json",
        params={"page[size]": 2, "sort_order": "desc"},
        auth=(f"{fake.email}/token", fake.token),
        timeout=5,
    ).json()
    assert [c["body"] for c in newest["comments"]] == ["reply 119", "reply 118"]
    assert newest["meta"]["has_more"] is True


def test_ticket_events_show_agent_comments_and_status_changes(zenpy: Zenpy, fake: ZendeskFake) -> None:
    start = int(fake.now()) - 1
    ticket_id = new_ticket(zenpy).id
    agent = fake.add_agent(900100, "Agent Smith", "smith@sandbox.example")
    fake.agent_comment(ticket_id, "Have you tried turning it off?", author_id=agent["id"])
    fake.set_status(ticket_id, "solved", author_id=agent["id"])
    events = list(zenpy.tickets.events(start_time=start, include="comment_events"))
    children = [child for event in events for child in event.child_events]
    comment = next(c for c in children if c["event_type"] == "Comment" and c["author_id"] == agent["id"])
    assert (comment["body"], comment["public"], comment["via"]["channel"]) == (
        "Have you tried turning it off?",
        True,
        "web",
    )
    status = [c for c in children if c["event_type"] == "Change" and c["field_name"] == "status"]
    assert [(c["previous_value"], c["value"]) for c in status] == [("new", "solved")]


def test_export_delay_hides_the_last_minute(fake: ZendeskFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fake, "export_delay_seconds", 60)
    zenpy = make_client(fake, monkeypatch)
    start = int(fake.now()) - 120
    new_ticket(zenpy)
    assert list(zenpy.tickets.events(start_time=start)) == []
    fake.advance(61)
    assert len(list(zenpy.tickets.events(start_time=start))) == 1


def test_cursor_export_pages_then_resumes_from_after_cursor(zenpy: Zenpy, fake: ZendeskFake) -> None:
    start = int(fake.now()) - 1
    ids = [new_ticket(zenpy, f"ticket {n}").id for n in range(3)]
    export = zenpy.tickets.incremental(start_time=start, per_page=2)
    assert [t.id for t in export] == ids
    assert export.end_of_stream is True
    fake.set_status(ids[0], "pending")
    fresh = fake.create_email_ticket("VPN down", "It is down", "bob@example.com", "Bob")
    again = zenpy.tickets.incremental(cursor=export.after_cursor)
    assert [t.id for t in again] == [ids[0], fresh["id"]]


def test_export_rate_limit_exhausts_the_zenpy_budget(
    fake: ZendeskFake, zenpy: Zenpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake, "export_rate_limit_per_minute", 1)
    start = int(fake.now()) - 1
    list(zenpy.tickets.events(start_time=start))
    with pytest.raises(RatelimitBudgetExceeded):
        list(zenpy.tickets.events(start_time=start))
    assert fake.calls("GET", "ticket_events")[-1].status == 429
    fake.advance(60)
    assert list(zenpy.tickets.events(start_time=start)) == []


def export_events(fake: ZendeskFake, start_time: int) -> requests.Response:
    url = f"{fake.origin}/api/v2/incremental/ticket_events.json"
    return requests.get(url, params={"start_time": start_time}, auth=(f"{fake.email}/token", fake.token), timeout=5)


def test_vendor_limits_never_export_the_last_minute(zenpy: Zenpy, fake: ZendeskFake) -> None:
    fake.enforce_vendor_limits()
    start = int(fake.now()) - 120
    ticket_id = new_ticket(zenpy).id
    first = export_events(fake, start).json()
    assert first["ticket_events"] == [] and first["end_time"] <= fake.now() - 60
    assert list(zenpy.tickets.incremental(start_time=start)) == []  # the cursor export holds it back too
    fake.advance(59)
    assert export_events(fake, start).json()["ticket_events"] == []
    fake.advance(2)
    later = export_events(fake, start).json()
    assert [e["ticket_id"] for e in later["ticket_events"]] == [ticket_id]
    assert later["end_time"] <= fake.now() - 60
    too_recent = export_events(fake, int(fake.now()) - 30)
    assert (too_recent.status_code, too_recent.json()["error"]) == (400, "InvalidValue")


def test_vendor_limits_allow_ten_exports_a_minute(zenpy: Zenpy, fake: ZendeskFake) -> None:
    fake.enforce_vendor_limits()
    start = int(fake.now()) - 120
    for n in range(10):  # the two export endpoints share one budget
        if n % 2:
            assert export_events(fake, start).status_code == 200
        else:
            assert list(zenpy.tickets.incremental(start_time=start)) == []
    assert len(fake.calls("GET", r"/incremental/")) == 10
    limited = export_events(fake, start)
    assert limited.status_code == 429
    assert limited.json() == {
        "error": "APIRateLimitExceeded",
        "description": "Number of allowed incremental export API requests per minute exceeded",
    }
    assert limited.headers["Retry-After"] == "60"
    assert zenpy.users.me().id == ZendeskFake.BOT_AGENT_ID  # the rest of the API is not part of that budget
    fake.advance(60)
    assert export_events(fake, start).status_code == 200


def test_vendor_limits_in_the_constructor() -> None:
    limited, plain = ZendeskFake(vendor_limits=True), ZendeskFake()
    assert (limited.export_delay_seconds, limited.export_rate_limit_per_minute) == (60, 10)
    assert (plain.export_delay_seconds, plain.export_rate_limit_per_minute) == (0, None)


def test_search_finds_open_email_tickets(zenpy: Zenpy, fake: ZendeskFake) -> None:
    fake.add_group(360002, "ZenSlackChat")
    email = fake.create_email_ticket("Cannot log in", "Help!", "carol@example.com", "Carol", group_id=360002)
    new_ticket(zenpy, group_id=360002)
    solved = fake.create_email_ticket("Old issue", "Fixed", "dan@example.com", "Dan", group_id=360002)
    fake.set_status(solved["id"], "solved")
    found = zenpy.search(type="ticket", via="email", status_less_than="solved", group="ZenSlackChat")
    assert [t.id for t in found] == [email["id"]]
    assert fake.user_by_email("carol@example.com")["role"] == "end-user"


def test_wrong_token_gets_the_zendesk_401(fake: ZendeskFake, monkeypatch: pytest.MonkeyPatch) -> None:
    zenpy = make_client(fake, monkeypatch, token="wrong")
    with pytest.raises(APIException) as caught:
        zenpy.users.me()
    assert caught.value.response.status_code == 401
    assert caught.value.response.json() == {"error": "Couldn't authenticate you"}


def test_bearer_token_acts_on_behalf_of_an_agent(fake: ZendeskFake, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.add_agent(900200, "Agent Jones", "jones@sandbox.example")
    session = requests.Session()
    session.headers["X-On-Behalf-Of"] = "jones@sandbox.example"
    zenpy = make_client(fake, monkeypatch, email=None, token=None, oauth_token=fake.token, session=session)
    assert zenpy.users.me().id == 900200
