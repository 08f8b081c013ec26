"""GET /users, /users/me, /users/{id} and the account's abilities."""

from __future__ import annotations

from typing import Any

from sandbox.fakes.base import FakeError, FakeRequest
from sandbox.fakes.pagerduty.rest.request import matches_query, page
from sandbox.fakes.pagerduty.rest.resource import Resource, Route

ACCOUNT_TOKEN_ME_ERROR = (
    "Because this request was made using an account-level access token, we were unable to determine the user's "
    "identity. Please use a user-level token."
)


class UsersResource(Resource):
    def routes(self) -> list[Route]:
        return [
            ("GET", r"/users", self.list_users),
            ("GET", r"/users/me", self.get_me),
            ("GET", r"/users/(?P<user_id>[^/]+)", self.get_user),
            ("GET", r"/abilities", lambda request: {"abilities": list(self.pd.abilities)}),
            ("GET", r"/abilities/(?P<ability>[^/]+)", self.get_ability),
        ]

    def list_users(self, request: FakeRequest) -> dict:
        users = [u for u in self.account.users.values() if not u.deleted and matches_query(request, u.name, u.email)]
        return page(request, "users", users, lambda u: self.render.user_json(u.id))

    def get_user(self, request: FakeRequest, user_id: str) -> dict:
        if user_id not in self.account.users or self.account.users[user_id].deleted:
            raise FakeError(404)
        return {"user": self.render.user_json(user_id)}

    def get_me(self, request: FakeRequest) -> Any:
        token = self.pd.auth.token(request)
        if token not in self.pd.user_tokens:
            return 400, {"error": ACCOUNT_TOKEN_ME_ERROR}  # a plain string: what the client's api_key_access reads
        return {"user": self.render.user_json(self.pd.user_tokens[token])}

    def get_ability(self, request: FakeRequest, ability: str) -> Any:
        if ability in self.pd.abilities:
            return 204, None
        return 402, self.pd.error_body(402, "Ability not available")
