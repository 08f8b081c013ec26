"""Jira Cloud through the `jira` package, with a timeout (its default is none) and bounded retries."""

from __future__ import annotations

import requests
from jira import JIRA, JIRAError

from bot.clients.common import count_responses, profile, requests_verify
from bot.settings import Settings

__all__ = ["JIRA", "JIRAError", "JiraNetworkError", "build_jira"]

# The library talks through requests: a request that never got Jira's answer (connection, timeout) raises this.
JiraNetworkError = requests.RequestException


def build_jira(settings: Settings, rest_api_version: str = "2") -> JIRA:
    """REST v2 by default (plain-text bodies); "3" where only the path matters, such as /rest/api/3/search/jql."""
    retry_profile = profile(settings)
    jira = JIRA(
        server=settings.jira_url,
        basic_auth=(settings.jira_email, settings.jira_api_token),
        get_server_info=False,  # no request at construction; `check` calls myself instead
        max_retries=retry_profile.library_retries,
        timeout=retry_profile.timeout,
        options={"verify": requests_verify(settings), "rest_api_version": rest_api_version},
    )
    count_responses(jira._session, "jira")  # the library's requests session (its retrying ResilientSession)
    return jira
