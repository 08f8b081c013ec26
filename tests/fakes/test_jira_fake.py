"""The Jira Cloud fake driven by the real `jira` client over loopback HTTP."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from typing import Any

import pytest
from jira import JIRA, JIRAError

from sandbox.fakes.jira import JiraFake

EMAIL, TOKEN = "bot@sandbox.example", "jira-sandbox"
START = float(calendar.timegm((2026, 11, 25, 10, 0, 0)))  # 2026-11-25 10:00 UTC
JIRA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
POLL_JQL = 'project = OPS AND updated >= "{since}" ORDER BY updated ASC'


@pytest.fixture(scope="module")
def server() -> Iterator[JiraFake]:
    service = JiraFake(email=EMAIL, token=TOKEN, start_time=START)
    with service:  # one server per module: stopping one takes ~0.5 s
        yield service


@pytest.fixture
def fake(server: JiraFake, monkeypatch: pytest.MonkeyPatch) -> JiraFake:
    server.reset()
    monkeypatch.setattr(server, "search_lag", 0.0)
    server.add_project("OPS", "Operations")
    return server


def make_client(fake: JiraFake, token: str = TOKEN, **options: Any) -> JIRA:
    client = JIRA(server=fake.base_url, basic_auth=(EMAIL, token), max_retries=0, timeout=5, options=options or None)
    client._session.trust_env = False  # a CA bundle or proxy from the environment must not leak in
    return client


@pytest.fixture
def client(fake: JiraFake) -> JIRA:
    return make_client(fake)


def new_issue(client: JIRA, summary: str = "Database down", **fields: Any) -> Any:
    base = {"project": {"key": "OPS"}, "issuetype": {"name": "Incident"}, "summary": summary}
    return client.create_issue(fields={**base, **fields})


def severity_field_id(client: JIRA) -> str:
    return next(f["id"] for f in client.fields() if f["name"] == "Severity")


def test_construction_reads_server_info_and_myself(client: JIRA, fake: JiraFake) -> None:
    assert client.deploymentType == "Cloud"
    me = client.myself()
    assert (me["accountId"], me["emailAddress"], me["displayName"]) == (fake.bot_account_id, EMAIL, "Switchboard Bot")
    assert fake.calls("GET", r"/rest/api/2/serverInfo$")


def test_create_issue_posts_then_prefetches(client: JIRA, fake: JiraFake) -> None:
    severity = severity_field_id(client)
    issue = new_issue(client, priority={"name": "Highest"}, labels=["pagerduty"], **{severity: {"value": "SEV-0"}})
    assert issue.key == "OPS-1"
    assert issue.self == f"{fake.base_url}/rest/api/2/issue/{issue.id}"
    assert (issue.fields.status.name, issue.fields.status.statusCategory.key) == ("To Do", "new")
    assert (issue.fields.priority.name, issue.fields.priority.id) == ("Highest", "1")
    assert (issue.fields.issuetype.name, issue.fields.labels) == ("Incident", ["pagerduty"])
    assert issue.raw["fields"][severity]["value"] == "SEV-0"
    assert JIRA_TIME.match(issue.fields.created) and issue.fields.created.startswith("2026-11-25T10:00")
    assert [r.method for r in fake.calls(path=r"/issue")] == ["POST", "GET"]
    assert fake.issue("OPS-1")["fields"]["summary"] == "Database down"


def test_create_issue_validation_uses_jira_error_shape(client: JIRA) -> None:
    with pytest.raises(JIRAError) as error:
        client.create_issue(fields={"project": {"key": "NOPE"}, "issuetype": {"name": "Incident"}, "summary": "x"})
    assert error.value.status_code == 400
    assert error.value.response.json()["errors"] == {"project": "Specify a valid project ID or key"}


def test_update_priority_records_changelog(client: JIRA) -> None:
    issue = new_issue(client, priority={"name": "Highest"})
    issue.update(fields={"priority": {"name": "High"}})
    assert issue.fields.priority.name == "High"
    reloaded = client.issue(issue.key, expand="changelog")
    item = reloaded.changelog.histories[-1].items[0]
    assert (item.field, item.fromString, item.toString) == ("priority", "Highest", "High")


def test_transitions_list_only_what_is_available_now(client: JIRA, fake: JiraFake) -> None:
    issue = new_issue(client)
    assert [(t["id"], t["name"]) for t in client.transitions(issue)] == [("21", "In Progress"), ("31", "Done")]
    client.transition_issue(issue, "31")
    done = client.issue(issue.key)
    assert (done.fields.status.name, done.fields.status.statusCategory.key) == ("Done", "done")
    assert done.fields.resolution.name == "Done"
    assert "Done" not in [t["name"] for t in client.transitions(issue)]
    with pytest.raises(JIRAError) as error:
        client.transition_issue(issue, "31")
    assert error.value.status_code == 400
    assert "Transition id '31' is not valid" in error.value.text
    client.transition_issue(issue, "Reopen")  # by name: one more GET of the transitions
    assert fake.issue(issue.key)["fields"]["status"]["name"] == "To Do"


def test_comments_from_the_bot_and_from_a_human(client: JIRA, fake: JiraFake) -> None:
    issue = new_issue(client)
    comment = client.add_comment(issue, "Paged the on-call")
    assert comment.author.accountId == fake.bot_account_id
    fake.comment_as_human(issue.key, "Looking into it", author="Grace Hopper")
    comments = client.comments(issue.key)
    assert [(c.body, c.author.displayName) for c in comments] == [
        ("Paged the on-call", "Switchboard Bot"),
        ("Looking into it", "Grace Hopper"),
    ]
    assert [c["body"] for c in fake.comments(issue.key)] == ["Paged the on-call", "Looking into it"]


def test_rest_v3_speaks_adf_and_accepts_plain_strings(fake: JiraFake) -> None:
    v3 = make_client(fake, rest_api_version="3")
    adf = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hi"}]}]}
    issue = new_issue(v3, description=adf)
    v3.add_comment(issue, "plain text comment")
    assert v3.issue(issue.key).raw["fields"]["description"] == adf
    assert v3.comments(issue.key)[0].raw["body"]["type"] == "doc"
    assert fake.issue(issue.key)["fields"]["description"] == "hi"  # v2 renders the same text as a string
    assert fake.calls("POST", r"/rest/api/3/issue$")


def test_search_jql_polls_updated_with_next_page_token(client: JIRA, fake: JiraFake) -> None:
    for n in range(5):
        new_issue(client, f"incident {n}")
        fake.advance(60)
    fake.transition_as_human("OPS-2", "Done")  # OPS-2 is now the most recently updated
    jql = POLL_JQL.format(since="2026-11-25 10:01")
    first = client.enhanced_search_issues(jql, maxResults=2, fields=["status", "updated"], expand="changelog")
    assert [i.key for i in first] == ["OPS-3", "OPS-4"]
    assert first.nextPageToken
    second = client.enhanced_search_issues(jql, nextPageToken=first.nextPageToken, maxResults=2, fields=["status"])
    assert [i.key for i in second] == ["OPS-5", "OPS-2"]
    assert second.nextPageToken is None
    everything = client.enhanced_search_issues(jql, maxResults=False, fields=["status"], expand="changelog")
    assert [i.key for i in everything] == ["OPS-3", "OPS-4", "OPS-5", "OPS-2"]
    change = everything[-1].changelog.histories[-1]
    status_item = next(item for item in change.items if item.fieldId == "status")
    assert (change.author.displayName, status_item.toString, everything[-1].fields.status.statusCategory.key) == (
        "Human",
        "Done",
        "done",
    )
    assert "summary" not in everything[0].raw["fields"]  # only the fields asked for


def test_search_jql_by_post_and_eventual_consistency(
    client: JIRA, fake: JiraFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake, "search_lag", 30.0)
    issue = new_issue(client)
    jql = "project = OPS ORDER BY created DESC"
    assert list(client.enhanced_search_issues(jql, fields=["status"], use_post=True)) == []
    reconciled = client.enhanced_search_issues(jql, fields=["status"], use_post=True, reconcileIssues=[int(issue.id)])
    assert [i.key for i in reconciled] == [issue.key]
    fake.advance(31)
    assert [i.key for i in client.enhanced_search_issues(jql, fields=["status"])] == [issue.key]


@pytest.mark.parametrize(
    ("jql", "keys"),
    [
        ("key in (OPS-1, OPS-3)", ["OPS-1", "OPS-3"]),
        ("project = OPS AND labels = pagerduty ORDER BY key ASC", ["OPS-1", "OPS-2"]),
        ('project = OPS AND status = "Done"', ["OPS-2"]),
        ("project = OPS AND statusCategory != Done ORDER BY key ASC", ["OPS-1", "OPS-3"]),
        ('project = OPS AND summary ~ "ada lovelace"', ["OPS-3"]),
        (
            "project = OPS AND (priority = Highest OR labels in (x, pagerduty)) ORDER BY priority DESC, key",
            ["OPS-2", "OPS-1"],
        ),
        ("project = OPS AND created >= -1h AND resolution is EMPTY ORDER BY key", ["OPS-1", "OPS-3"]),
    ],
)
def test_jql_clauses(client: JIRA, fake: JiraFake, jql: str, keys: list[str]) -> None:
    new_issue(client, "one", labels=["pagerduty"], priority={"name": "Low"})
    new_issue(client, "two", labels=["pagerduty"], priority={"name": "Highest"})
    new_issue(client, 'Ada Lovelace "the first programmer"', issuetype={"name": "Task"})
    fake.transition_as_human("OPS-2", "Done")
    assert sorted(i.key for i in client.enhanced_search_issues(jql, fields=["summary"])) == sorted(keys)
    if "ORDER BY" in jql:
        assert [i.key for i in client.enhanced_search_issues(jql, fields=["summary"])] == keys


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("project = OPS AND", "Error in the JQL Query"),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("colour = red", "Field 'colour' does not exist"),
        ('updated >= "yesterday"', "Date value 'yesterday' for field 'updated' is invalid"),
        ("ORDER BY created", "Unbounded JQL queries are not allowed here"),
    ],
)
def test_jql_it_cannot_read_fails_like_jira(client: JIRA, jql: str, message: str) -> None:
    with pytest.raises(JIRAError) as error:
        client.enhanced_search_issues(jql, fields=["summary"])
    assert error.value.status_code == 400
    assert message in error.value.response.json()["errorMessages"][0]


def test_removed_search_endpoint_answers_410(client: JIRA) -> None:
    for version in ("2", "3"):
        with pytest.raises(JIRAError) as error:
            client._session.get(f"{client.server_url}/rest/api/{version}/search", params={"jql": "project = OPS"})
        assert error.value.status_code == 410
        assert "CHANGE-2046" in error.value.response.json()["errorMessages"][0]


def test_wrong_credentials_get_401(fake: JiraFake) -> None:
    with pytest.raises(JIRAError) as error:
        make_client(fake, token="not-the-token")
    assert error.value.status_code == 401
    assert error.value.response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"


def test_rate_limit_answers_429_with_retry_after_and_reason(client: JIRA, fake: JiraFake) -> None:
    fake.rate_limit(r"/myself", retry_after=7, reason="jira-per-issue-on-write")
    with pytest.raises(JIRAError) as error:
        client.myself()
    headers = error.value.response.headers
    assert (error.value.status_code, headers["Retry-After"], headers["RateLimit-Reason"]) == (
        429,
        "7",
        "jira-per-issue-on-write",
    )
    assert client.myself()["accountId"] == fake.bot_account_id  # the fault hit once


def test_issue_links_and_metadata(client: JIRA, fake: JiraFake) -> None:
    incident, question = new_issue(client, "incident"), new_issue(client, "question", issuetype={"name": "Question"})
    client.create_issue_link("Question", incident.key, question.key)
    assert fake.links() == [{"type": "Question", "inward": incident.key, "outward": question.key}]
    assert client.issue(incident.key).raw["fields"]["issuelinks"][0]["outwardIssue"]["key"] == question.key
    with pytest.raises(JIRAError) as error:
        client.create_issue_link("No Such Link", incident.key, question.key).raise_for_status()
    assert error.value.status_code == 404
    assert [(p.name, p.id) for p in client.priorities()] == [
        ("Highest", "1"),
        ("High", "2"),
        ("Medium", "3"),
        ("Low", "4"),
        ("Lowest", "5"),
    ]
    assert client.project("OPS").name == "Operations"
    assert "Incident" in [t.name for t in client.project("OPS").issueTypes]


def test_human_helpers_change_what_the_client_sees(client: JIRA, fake: JiraFake) -> None:
    created = fake.create_issue_as_human("OPS", "Customer escalation", priority="Medium", labels=["vip"])
    fake.set_priority_as_human(created["key"], "Highest", author="Ada")
    fake.transition_as_human(created["key"], "In Progress", author="Ada")
    issue = client.issue(created["key"], expand="changelog")
    assert (issue.fields.priority.name, issue.fields.status.name, issue.fields.reporter.displayName) == (
        "Highest",
        "In Progress",
        "Human",
    )
    assert [h.items[-1].field for h in issue.changelog.histories] == ["priority", "status"]
    with pytest.raises(ValueError, match="no transition"):
        fake.transition_as_human(created["key"], "In Progress")


def test_sub_tasks_have_a_parent_in_the_same_project(client: JIRA, fake: JiraFake) -> None:
    parent = new_issue(client, "Database down")
    child = new_issue(client, "Who is affected?", issuetype={"name": "Sub-task"}, parent={"key": parent.key})
    assert child.raw["fields"]["parent"]["key"] == parent.key
    assert child.raw["fields"]["issuetype"]["subtask"] is True
    subtasks = client.issue(parent.key, fields="subtasks").raw["fields"]["subtasks"]
    assert [(s["key"], s["fields"]["summary"]) for s in subtasks] == [(child.key, "Who is affected?")]
    assert [s["key"] for s in fake.subtasks(parent.key)] == [child.key]
    assert "parent" not in client.issue(parent.key).raw["fields"]

    fake.add_project("PERSON", "People")
    elsewhere = new_issue(client, "Ada", project={"key": "PERSON"}, issuetype={"name": "Task"})
    refusals = [
        ({"issuetype": {"name": "Sub-task"}}, "parent issue key or id not specified"),
        ({"issuetype": {"name": "Sub-task"}, "parent": {"key": "OPS-999"}}, "Could not find issue"),
        ({"issuetype": {"name": "Sub-task"}, "parent": {"key": child.key}}, "cannot be the parent"),
        ({"issuetype": {"name": "Sub-task"}, "parent": {"key": elsewhere.key}}, "same project"),
        ({"parent": {"key": parent.key}}, "Only sub-task issue types"),
    ]
    for fields, message in refusals:
        with pytest.raises(JIRAError) as error:
            new_issue(client, "Question", **fields)
        assert error.value.status_code == 400 and message in error.value.response.json()["errors"]["parent"]


def test_links_posted_as_the_api_takes_them_show_on_both_issues(client: JIRA, fake: JiraFake) -> None:
    fake.add_project("PERSON", "People")
    incident, person = new_issue(client, "incident"), new_issue(client, "Ada", project={"key": "PERSON"})
    body = {"type": {"name": "Relates"}, "inwardIssue": {"key": incident.key}, "outwardIssue": {"key": person.key}}
    response = client._session.post(client._get_url("issueLink"), json=body)
    assert response.status_code == 201 and not response.content
    assert fake.links() == [{"type": "Relates", "inward": incident.key, "outward": person.key}]
    on_incident = client.issue(incident.key, fields="issuelinks").raw["fields"]["issuelinks"]
    on_person = client.issue(person.key, fields="issuelinks").raw["fields"]["issuelinks"]
    assert [(i["type"]["name"], i["outwardIssue"]["key"]) for i in on_incident] == [("Relates", person.key)]
    assert [(i["type"]["name"], i["inwardIssue"]["key"]) for i in on_person] == [("Relates", incident.key)]
    with pytest.raises(JIRAError) as error:
        client._session.post(client._get_url("issueLink"), json={**body, "outwardIssue": {"key": "PERSON-99"}})
    assert error.value.status_code == 404


def test_a_select_custom_field_takes_an_option_by_value(client: JIRA, fake: JiraFake) -> None:
    severity = severity_field_id(client)
    field = next(f for f in client.fields() if f["id"] == severity)
    assert field["schema"]["type"] == "option" and field["custom"] is True
    issue = new_issue(client, **{severity: {"value": "SEV-1"}})
    assert fake.issue(issue.key)["fields"][severity]["value"] == "SEV-1"
    with pytest.raises(JIRAError) as error:
        new_issue(client, **{severity: {"value": "Critical"}})
    assert error.value.status_code == 400 and severity in error.value.response.json()["errors"]
    with pytest.raises(JIRAError) as error:
        new_issue(client, customfield_10042={"value": "SEV-1"})  # a field this site does not have
    assert "customfield_10042" in error.value.response.json()["errors"]
