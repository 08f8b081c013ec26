"""GitHub through PyGithub. Its default retry re-sends POSTs on 5xx (duplicate issues), so only GET/HEAD
are retried, and rate-limit waits are capped."""

from __future__ import annotations

from github import Auth, Github, GithubException, GithubRetry

from bot.clients.common import profile, requests_verify
from bot.settings import Settings

__all__ = ["Github", "GithubException", "build_github"]


def build_github(settings: Settings) -> Github:
    retry_profile = profile(settings)
    pacing = retry_profile.pacing
    retry = GithubRetry(allowed_methods={"GET", "HEAD"}, max_rate_limit_wait=retry_profile.max_wait)
    return Github(
        base_url=settings.github_api_url,
        auth=Auth.Token(settings.github_token),
        timeout=int(retry_profile.timeout),
        per_page=100,
        retry=retry if retry_profile.library_retries else None,
        # GitHub asks integrators to space requests, and content-creating writes by about a second.
        seconds_between_requests=0.25 * pacing or None,
        seconds_between_writes=1.0 * pacing or None,
        verify=requests_verify(settings),
    )
