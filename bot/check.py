"""`python app.py check`: one cheap authenticated call per configured integration, as a table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.clients.github import build_github
from bot.clients.jira import build_jira
from bot.clients.pagerduty import build_rest_client
from bot.clients.slack import build_web_client
from bot.clients.statuspage import build_statuspage
from bot.clients.zendesk import build_zendesk
from bot.settings import Settings


@dataclass(frozen=True)
class CheckResult:
    integration: str
    ok: bool
    reason: str


def _slack(settings: Settings) -> str:
    auth = build_web_client(settings).auth_test()
    return f"bot {auth['user_id']} in team {auth.get('team', auth.get('team_id'))}"


def _pagerduty(settings: Settings) -> str:
    abilities = build_rest_client(settings).rget("/abilities")
    return f"{len(abilities)} abilities"


def _zendesk(settings: Settings) -> str:
    me = build_zendesk(settings).users.me()
    if not getattr(me, "id", None):
        raise RuntimeError("authenticated as anonymous: check ZENDESK_EMAIL and ZENDESK_API_TOKEN")
    return f"agent {me.name} ({me.role})"


def _jira(settings: Settings) -> str:
    me = build_jira(settings).myself()
    return f"user {me.get('displayName') or me.get('emailAddress')}"


def _github(settings: Settings) -> str:
    repo = build_github(settings).get_repo(settings.github_repo)
    return f"repository {repo.full_name}"


def _statuspage(settings: Settings) -> str:
    page = build_statuspage(settings).page()
    return f"page {page.get('name', settings.statuspage_page_id)}"


# (integration, settings that make it configured, check)
CHECKS: tuple[tuple[str, tuple[str, ...], Callable[[Settings], str]], ...] = (
    ("Slack", ("SLACK_BOT_TOKEN",), _slack),
    ("PagerDuty", ("PAGERDUTY_API_TOKEN",), _pagerduty),
    ("Zendesk", ("ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN"), _zendesk),
    ("Jira", ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN"), _jira),
    ("GitHub", ("GITHUB_TOKEN", "GITHUB_REPO"), _github),
    ("Statuspage", ("STATUSPAGE_API_KEY", "STATUSPAGE_PAGE_ID"), _statuspage),
)


def short_reason(error: BaseException) -> str:
    """The error and its root cause (a TLS failure hides behind 'network error' otherwise), on one line."""
    text = " ".join(str(error).split()) or type(error).__name__
    root = error
    while root.__cause__ or root.__context__:
        root = root.__cause__ or root.__context__  # type: ignore[assignment]
    if root is not error:
        text += f" ({type(root).__name__}: {' '.join(str(root).split())})"
    return f"{type(error).__name__}: {text}"[:300]


def run_checks(settings: Settings) -> list[CheckResult]:
    results = []
    for name, needs, check in CHECKS:
        if not all(settings.has(n) for n in needs):
            continue
        try:
            results.append(CheckResult(name, True, check(settings)))
        except Exception as error:  # every failure becomes a row, never a traceback
            results.append(CheckResult(name, False, short_reason(error)))
    return results


def format_table(results: list[CheckResult]) -> str:
    if not results:
        return "No integration is configured (see docs/settings.md)."
    width = max(len("integration"), *(len(r.integration) for r in results))
    lines = [f"{'integration'.ljust(width)}  result  reason"]
    lines += [f"{r.integration.ljust(width)}  {'OK  ' if r.ok else 'FAIL'}    {r.reason}" for r in results]
    return "\n".join(lines)
