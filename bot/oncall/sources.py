"""What a link reads who is on call from: a PagerDuty schedule (its ID, `PABC123`) or the first level of an
escalation policy (`policy:` and the policy's ID, `policy:PXYZ789`).

A link stores its sources as one ordered list of these strings, so everything keyed by schedule ID (who is on call
now, display names, hand-offs) works for a policy too.
"""

from __future__ import annotations

import re

SCHEDULE_ID = re.compile(r"P[A-Z0-9]{6,13}")
POLICY_PREFIX = "policy:"
SOURCE_ID = re.compile(rf"(?:{POLICY_PREFIX})?{SCHEDULE_ID.pattern}")
POLICY_LEVEL = 1  # a policy link follows whoever is on call at its first level


def policy_source(policy_id: str) -> str:
    return f"{POLICY_PREFIX}{policy_id}"


def policy_of(source: str) -> str | None:
    """The escalation policy ID a source names, or None for a schedule."""
    return source[len(POLICY_PREFIX) :] if source.startswith(POLICY_PREFIX) else None


def policy_query(text: str) -> str | None:
    """What follows `policy:` (any case) in a typed reference, or None when the reference is not to a policy."""
    return text[len(POLICY_PREFIX) :].strip() if text[: len(POLICY_PREFIX)].lower() == POLICY_PREFIX else None
