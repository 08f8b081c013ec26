"""Setting up the account from a test or the sandbox: users and tokens, schedules, escalation policies, services."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sandbox.fakes.pagerduty.model import Override, Policy, Schedule, Service, Shift, User
from sandbox.fakes.pagerduty.parts import PagerDutyParts
from sandbox.fakes.pagerduty.render import View


class Seeding(PagerDutyParts):
    _initial_keys: tuple[frozenset[str], frozenset[str]]  # (tokens, routing keys) the fake was built with

    def reset(self) -> None:
        """Forget the account's data, the request log, faults and clock offset; keep the server and priorities."""
        with self.lock:
            self.account.reset()
            self.events.clear()
            self.user_tokens.clear()
            self.tokens, self.routing_keys = set(self._initial_keys[0]), set(self._initial_keys[1])
            self._clock_offset = 0.0
        self.reset_requests()
        self.clear_faults()
        self.notify()

    def _shifts(self, shifts: Iterable[Shift]) -> list[Shift]:
        normalized = [(user_id, float(start), float(end)) for user_id, start, end in shifts]
        unknown = sorted({user_id for user_id, _, _ in normalized} - set(self.account.users))
        if unknown:
            raise KeyError(f"unknown users: {unknown} (add_user first)")
        return normalized

    def add_user(self, user_id: str, name: str, email: str, *, deleted: bool = False, time_zone: str = "UTC") -> dict:
        with self.lock:
            user = User(self.account.claim_id(user_id), name, email, deleted, time_zone)
            user.deleted_at = self.now() if deleted else None
            self.account.users[user_id] = user
            result = self.render.user_json(user_id)
        self.notify()
        return result

    def delete_user(self, user_id: str) -> None:
        """Deactivate a user: it stays in schedules as a nameless reference, like the real account."""
        with self.lock:
            user = self.account.users[user_id]
            user.deleted, user.deleted_at = True, self.now()
        self.notify()

    def add_user_token(self, token: str, user_id: str) -> None:
        """Register a user-level API token (GET /users/me answers for it; no `From` header needed)."""
        with self.lock:
            self.user_tokens[token] = user_id

    def add_schedule(
        self,
        schedule_id: str,
        name: str,
        *,
        shifts: Iterable[Shift] = (),
        overrides: Iterable[Shift] = (),
        time_zone: str = "UTC",
    ) -> dict:
        with self.lock:
            schedule = Schedule(self.account.claim_id(schedule_id), name, time_zone, self._shifts(shifts))
            self.account.schedules[schedule_id] = schedule
            for user_id, start, end in self._shifts(overrides):
                schedule.overrides.append(Override(self.account.new_id(), user_id, start, end))
            result = self.render.schedule_json(schedule, View())
        self.notify()
        return result

    def set_shifts(self, schedule_id: str, shifts: Iterable[Shift]) -> None:
        with self.lock:
            self.account.schedules[schedule_id].shifts = self._shifts(shifts)
        self.notify()

    def add_override(self, schedule_id: str, user_id: str, start: float, end: float) -> dict:
        with self.lock:
            [(_, start, end)] = self._shifts([(user_id, start, end)])
            override = Override(self.account.new_id(), user_id, start, end)
            self.account.schedules[schedule_id].overrides.append(override)
            result = self.render.override_json(override)
        self.notify()
        return result

    def add_escalation_policy(self, ep_id: str, name: str, levels: Sequence[Sequence[str]]) -> dict:
        """`levels[0]` are the level-1 targets (schedule or user ids), `levels[1]` level 2, and so on."""
        with self.lock:
            account = self.account
            unknown = [t for level in levels for t in level if t not in account.schedules and t not in account.users]
            if unknown:
                raise KeyError(f"unknown escalation targets: {unknown}")
            rule_ids = [account.new_id() for _ in levels]
            policy = Policy(account.claim_id(ep_id), name, [list(level) for level in levels], rule_ids)
            account.policies[ep_id] = policy
            result = self.render.policy_json(policy)
        self.notify()
        return result

    def add_service(
        self, service_id: str, name: str, *, escalation_policy_id: str | None = None, routing_key: str | None = None
    ) -> dict:
        with self.lock:
            service = Service(self.account.claim_id(service_id), name, escalation_policy_id, routing_key, self.now())
            self.account.services[service_id] = service
            if routing_key:
                self.routing_keys.add(routing_key)
            result = self.render.service_json(service)
        self.notify()
        return result
