"""GitHub through PyGithub. Its default retry re-sends POSTs on 5xx (duplicate issues), so only GET/HEAD
are retried, and rate-limit waits are capped."""

from __future__ import annotations

from github import Auth, Github, GithubException, GithubRetry

from bot.clients.common import MAX_RETRY_AFTER_SECONDS, profile, requests_verify
from bot.settings import Settings

__all__ = ["Github", "GithubException", "build_github"]


def build_github(settings: Settings) -> Github:
    retry_profile = profile(settings)
    test = settings.switchboard_retry_profile == "test"
    return Github(
        base_url=settings.github_api_url,
        auth=Auth.Token(settings.github_token),
        timeout=int(retry_profile.timeout),
        per_page=100,
        retry=None
        if test
        else GithubRetry(allowed_methods={"GET", "HEAD"}, max_rate_limit_wait=MAX_RETRY_AFTER_SECONDS),
        seconds_between_requests=None if test else 0.25,
        seconds_between_writes=None if test else 1.0,
        verify=requests_verify(settings),
    )
