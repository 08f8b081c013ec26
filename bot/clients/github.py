"""GitHub through PyGithub. Its default retry re-sends POSTs on 5xx (duplicate issues), so only GET/HEAD
are retried, and rate-limit waits are capped."""

from __future__ import annotations

import logging
from typing import Any

from github import Auth, Github, GithubException, GithubRetry
from github.Requester import HTTPRequestsConnectionClass, HTTPSRequestsConnectionClass, Requester

from bot.clients.common import count_responses, profile, requests_verify
from bot.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["Github", "GithubException", "build_github"]


class CountedHTTPConnection(HTTPRequestsConnectionClass):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        count_responses(self.session, "github")


class CountedHTTPSConnection(HTTPSRequestsConnectionClass):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        count_responses(self.session, "github")


COUNTED = {HTTPRequestsConnectionClass: CountedHTTPConnection, HTTPSRequestsConnectionClass: CountedHTTPSConnection}
# PyGithub builds its requests session inside a connection object it creates on first use, from classes its
# Requester keeps in these (name-mangled) attributes; it offers no hook or setting for that session. They are
# replaced on this requester only: the class-wide `Requester.injectConnectionClasses` would also stop it from
# reusing its connection.
CONNECTION_CLASS_ATTRIBUTES = (
    "_Requester__connectionClass",
    "_Requester__httpConnectionClass",
    "_Requester__httpsConnectionClass",
)


def _count_requests(requester: Requester) -> None:
    current = {attribute: getattr(requester, attribute, None) for attribute in CONNECTION_CLASS_ATTRIBUTES}
    if not all(known in COUNTED for known in current.values()):
        log.warning("this PyGithub keeps its connections differently: GitHub requests are not counted in metrics")
        return
    for attribute, known in current.items():
        setattr(requester, attribute, COUNTED[known])  # type: ignore[index]


def build_github(settings: Settings) -> Github:
    retry_profile = profile(settings)
    pacing = retry_profile.pacing
    retry = GithubRetry(allowed_methods={"GET", "HEAD"}, max_rate_limit_wait=retry_profile.max_wait)
    github = Github(
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
    _count_requests(github.requester)
    return github
