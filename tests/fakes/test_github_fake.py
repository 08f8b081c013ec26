"""The GitHub fake driven by the real PyGithub client over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from github import (
    Auth,
    BadCredentialsException,
    Github,
    GithubException,
    RateLimitExceededException,
    UnknownObjectException,
)

from sandbox.fakes.github import GitHubFake

REPO = "acme/alerts"


@pytest.fixture(scope="module")
def server() -> Iterator[GitHubFake]:
    service = GitHubFake(token="ghp_sandbox")
    with service:  # one server per module: stopping one takes ~0.5 s
        yield service


@pytest.fixture
def fake(server: GitHubFake, monkeypatch: pytest.MonkeyPatch) -> GitHubFake:
    server.reset()
    monkeypatch.setattr(server, "create_limit_per_minute", None)
    monkeypatch.setattr(server, "rate_limit_per_hour", 5000)
    server.add_repo(REPO)
    return server


def make_github(fake: GitHubFake, token: str = "ghp_sandbox") -> Github:
    return Github(
        base_url=fake.base_url,
        auth=Auth.Token(token),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
        timeout=5,
        per_page=100,
    )


@pytest.fixture
def github(fake: GitHubFake) -> Github:
    return make_github(fake)


def test_get_repo_and_user(github: Github, fake: GitHubFake) -> None:
    repo = github.get_repo(REPO)
    assert (repo.full_name, repo.private, repo.has_issues) == (REPO, False, True)
    assert repo.url == f"{fake.base_url}/repos/{REPO}"
    assert github.get_user().login == "switchboard-bot"
    assert github.rate_limiting[1] == 5000


def test_create_issue_creates_unknown_labels(github: Github, fake: GitHubFake) -> None:
    issue = github.get_repo(REPO).create_issue(title="Disk full on db-1", body="df says 100%", labels=["dispatch"])
    assert issue.number == 1
    assert [label.name for label in issue.labels] == ["dispatch"]
    assert issue.html_url == f"https://github.sandbox/{REPO}/issues/1"
    assert [label["name"] for label in fake.labels(REPO)] == ["dispatch"]
    assert fake.issue(REPO, 1)["user"]["login"] == "switchboard-bot"
    assert fake.calls("POST", "/issues$")[0].status == 201


def test_open_issues_page_past_100_and_include_pull_requests(github: Github, fake: GitHubFake) -> None:
    for n in range(120):
        fake.add_issue(REPO, f"alarm {n}", labels=["dispatch"] if n % 2 else ())
    fake.add_issue(REPO, "old alarm", state="closed")
    fake.add_pull_request(REPO, "Fix the alarm")
    fake.reset_requests()
    listed = list(github.get_repo(REPO).get_issues(state="open"))
    assert len(listed) == 121
    assert listed[0].title == "Fix the alarm"  # newest first
    # Reading `.pull_request` of a plain issue makes PyGithub fetch it (lazy completion): filter on html_url.
    pulls = [i for i in listed if "/pull/" in i.html_url]
    assert [p.title for p in pulls] == ["Fix the alarm"]
    assert pulls[0].pull_request.html_url == pulls[0].html_url
    first_page = fake.calls("GET", "/issues$")[0]
    assert first_page.query["per_page"] == ["100"]
    assert len(fake.calls("GET", "/issues$")) == 2
    labelled = github.get_repo(REPO).get_issues(state="all", labels=["dispatch"])
    assert labelled.totalCount == 60


def test_close_and_comment(github: Github, fake: GitHubFake) -> None:
    number = fake.add_issue(REPO, "CPU high")["number"]
    issue = github.get_repo(REPO).get_issue(number)
    issue.edit(state="closed", state_reason="completed")
    comment = issue.create_comment("Closed from Slack by @alice (answered yes)")
    closed = fake.issue(REPO, number)
    assert (closed["state"], closed["state_reason"], closed["closed_by"]["login"]) == (
        "closed",
        "completed",
        "switchboard-bot",
    )
    assert [c["body"] for c in fake.comments(REPO, number)] == [comment.body]
    assert comment.html_url.endswith(f"/issues/{number}#issuecomment-{comment.id}")
    assert [c.body for c in issue.get_comments()] == [comment.body]


def test_bad_token_and_unknown_repo(fake: GitHubFake) -> None:
    with pytest.raises(BadCredentialsException) as caught:
        make_github(fake, token="ghp_wrong").get_repo(REPO)
    assert caught.value.status == 401
    with pytest.raises(UnknownObjectException):
        make_github(fake).get_repo("acme/nope")


def test_disabled_issues_answer_410(github: Github, fake: GitHubFake) -> None:
    fake.set_has_issues(REPO, False)
    with pytest.raises(GithubException) as caught:
        github.get_repo(REPO).create_issue(title="nobody hears this")
    assert caught.value.status == 410


def test_secondary_limit_on_content_creation(github: Github, fake: GitHubFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fake, "create_limit_per_minute", 2)
    repo = github.get_repo(REPO)
    repo.create_issue(title="one")
    repo.create_issue(title="two")
    with pytest.raises(RateLimitExceededException) as caught:
        repo.create_issue(title="three")
    assert caught.value.status == 403
    assert caught.value.headers["retry-after"] == "60"
    assert "secondary rate limit" in caught.value.data["message"]
    fake.advance(61)
    assert repo.create_issue(title="three").number == 3


def test_primary_limit_and_headers(github: Github, fake: GitHubFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fake, "rate_limit_per_hour", 2)
    github.get_repo(REPO)
    assert github.get_rate_limit().resources.core.remaining == 1  # /rate_limit itself is free
    github.get_repo(REPO)
    with pytest.raises(RateLimitExceededException):
        github.get_repo(REPO)
    assert fake.calls("GET", f"/repos/{REPO}$")[-1].status == 403


def test_search_by_title(github: Github, fake: GitHubFake) -> None:
    fake.add_issue(REPO, "Disk full on db-1")
    fake.add_pull_request(REPO, "Disk full fix")
    found = github.search_issues(f'repo:{REPO} is:issue in:title "disk full"')
    assert [i.title for i in found] == ["Disk full on db-1"]
