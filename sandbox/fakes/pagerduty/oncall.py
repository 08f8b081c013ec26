"""Who is on call: final schedules (shifts beaten by overrides), on-call rows per escalation level, first responders.

Everything is computed from the records and a moment passed in, so tests can step across a hand-off by moving
the fake's clock instead of sleeping.
"""

from __future__ import annotations

import heapq
import itertools

from sandbox.fakes.pagerduty.model import Policy, Schedule, Span, overlaps
from sandbox.fakes.pagerduty.state import Account

# (policy, escalation level, schedule id or None for a user target, user id, start, end: None = permanently)
OncallRow = tuple[Policy, int, str | None, str, float | None, float | None]


def timeline(schedule: Schedule) -> list[Span]:
    """The final schedule as (start, end, user_id) spans: the latest override beats the earliest-listed shift,
    adjacent spans of one user merge. A sweep with two heaps keeps months of shifts cheap."""
    items = [(s, e, u, i, False) for i, (u, s, e) in enumerate(schedule.shifts)]
    items += [(o.start, o.end, o.user_id, -i, True) for i, o in enumerate(schedule.overrides)]
    items.sort(key=lambda item: item[0])
    points = sorted({t for item in items for t in item[:2]})
    heaps: dict[bool, list[tuple[int, float, str]]] = {True: [], False: []}  # keyed by "is an override"
    spans: list[Span] = []
    pending = 0
    for start, end in itertools.pairwise(points):
        while pending < len(items) and items[pending][0] <= start:
            _, e, user_id, rank, is_override = items[pending]
            heapq.heappush(heaps[is_override], (rank, e, user_id))
            pending += 1
        for heap in heaps.values():
            while heap and heap[0][1] <= start:
                heapq.heappop(heap)
        winner = heaps[True] or heaps[False]
        if not winner:
            continue
        user_id = winner[0][2]
        if spans and spans[-1][1] == start and spans[-1][2] == user_id:
            spans[-1] = (spans[-1][0], end, user_id)
        else:
            spans.append((start, end, user_id))
    return spans


def spans_in(schedule: Schedule, since: float, until: float) -> list[Span]:
    return [span for span in timeline(schedule) if overlaps(span[0], span[1], since, until)]


def oncall_rows(account: Account, since: float, until: float) -> list[OncallRow]:
    rows: list[OncallRow] = []
    for policy in account.policies.values():
        for level, targets in enumerate(policy.levels, start=1):
            for target in targets:
                if target in account.schedules:
                    for start, end, user_id in spans_in(account.schedules[target], since, until):
                        rows.append((policy, level, target, user_id, start, end))
                elif target in account.users:  # a user target is on call permanently
                    rows.append((policy, level, None, target, None, None))
    return rows


def first_responder(account: Account, service_id: str, now: float) -> str | None:
    """Whoever is on call now at level 1 of the service's escalation policy gets the assignment."""
    policy = account.policies.get(account.services[service_id].escalation_policy_id or "")
    for target in policy.levels[0] if policy and policy.levels else []:
        if target in account.users:
            return target
        spans = spans_in(account.schedules[target], now, now) if target in account.schedules else []
        if spans:
            return spans[0][2]
    return None
