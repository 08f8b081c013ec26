"""Who a REST request acts as: the API token (`Token token=...` or `Bearer ...`) and, for writes, the `From` user.

Account-level tokens need a `From` header naming a (non-deleted) user's email for writes; a user-level token
(registered with `add_user_token`) acts as its owner and needs none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox.fakes.base import FakeError, FakeRequest
from sandbox.fakes.pagerduty.errors import pd_error
from sandbox.fakes.pagerduty.model import User

if TYPE_CHECKING:
    from sandbox.fakes.pagerduty.fake import PagerDutyFake

FROM_MISSING = 'You must specify a user\'s email address in the "From" header to perform this action'


class Auth:
    def __init__(self, pd: PagerDutyFake) -> None:
        self.pd = pd

    def token(self, request: FakeRequest) -> str | None:
        """The request's token if the account knows it."""
        header = request.header("authorization", "") or ""
        match = re.fullmatch(r"(?:Token token=|Bearer )(\S+)", header.strip())
        token = match.group(1) if match else None
        return token if token in self.pd.tokens or token in self.pd.user_tokens else None

    def guard(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """`handler`, answering 401 to a request without a known token."""

        def guarded(request: FakeRequest, **kwargs: Any) -> Any:
            if self.token(request) is None:
                raise FakeError(401)
            return handler(request, **kwargs)

        return guarded

    def writer(self, request: FakeRequest) -> User:
        """The user a write acts as: the user token's owner, else the user named by the `From` header."""
        token = self.token(request)
        users = self.pd.account.users
        if token in self.pd.user_tokens:
            return users[self.pd.user_tokens[token]]
        email = (request.header("from") or "").strip().lower()
        if not email:
            raise pd_error(FROM_MISSING)
        for user in users.values():
            if user.email.lower() == email and not user.deleted:
                return user
        raise pd_error(f'The user with email "{email}" given in the "From" header was not found')
