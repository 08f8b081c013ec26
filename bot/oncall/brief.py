"""The hand-off brief: what is still open for the person who just came on call, added to their hand-off DM.

For each hand-off to a person Slack knows, the DM also lists the open PagerDuty incidents (triggered or
acknowledged) on the services of the escalation policies of the schedules taken over, and what the other
capabilities still have open in the Slack channels linked to those schedules or on those services (unanswered
support threads, alarm confirmations still waiting, …: `Foundation.open_work`), each with a link; "Nothing open."
when that is so.

It is computed by the sync that decides the hand-off, not when the DM is sent: the sync already reads PagerDuty
and every hand-off of a cycle shares the same two batched reads (policies, incidents), while the outbox effect
stays one Slack post whose retries send the same text (and whose parts split the way every long DM does).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from bot.oncall.links import Link
from bot.oncall.open_incidents import IncidentReader, OpenIncident
from bot.oncall.rules import Handoff
from bot.text import escape, link

log = logging.getLogger(__name__)

MAX_INCIDENTS = 25  # a storm of incidents is counted, not listed, past this
NOTHING_OPEN = "Nothing open."

OpenWork = Callable[[Sequence[str], Sequence[str]], list[str]]  # (channels, services) -> one line each


def incident_line(incident: OpenIncident) -> str:
    label = f"#{incident.number} {incident.title}"
    shown = link(incident.url, label) if incident.url else escape(label)
    return f":rotating_light: {shown} ({incident.status}, {escape(incident.service_name)})"


def brief_text(dm_text: str, incidents: list[OpenIncident] | None, other_work: list[str]) -> str:
    """The hand-off DM with its brief; `incidents` None: PagerDuty could not be read (said, never "nothing")."""
    items = [incident_line(i) for i in (incidents or [])[:MAX_INCIDENTS]]
    if incidents and len(incidents) > MAX_INCIDENTS:
        items.append(f"… and {len(incidents) - MAX_INCIDENTS} more open incidents")
    items += other_work
    lines = [dm_text]
    if incidents is None:
        lines.append(":warning: The open PagerDuty incidents could not be read.")
    if items:
        lines.append("*Still open:*")
        lines += [item if item.startswith("•") else f"• {item}" for item in items]
    elif incidents is not None:
        lines.append(NOTHING_OPEN)
    return "\n".join(lines)


def linked_channels(links: list[Link], schedules: Sequence[str]) -> list[str]:
    """The channels of every link that follows one of these schedules, in link order, each once."""
    wanted = set(schedules)
    return list(dict.fromkeys(c for lnk in links if wanted & set(lnk.schedules) for c in lnk.channels))


class HandoffBrief:
    def __init__(self, reader: IncidentReader, open_work: OpenWork):
        self.reader = reader
        self.open_work = open_work

    def __call__(self, handoffs: list[Handoff], links: list[Link]) -> list[Handoff]:
        """The hand-offs with the brief added to the DM of each person Slack knows (the others get no DM)."""
        briefed = [h for h in handoffs if h.slack_id]
        if not briefed:
            return handoffs
        services_of: dict[str, list[str]] = {}
        incidents: list[OpenIncident] | None = None
        try:  # PagerDuty's trouble must not cost the hand-off its DM, nor the sync its topics
            services_of = self.reader.services_of(s for h in briefed for s in h.schedules)
            every_service = [sid for services in services_of.values() for sid in services]
            incidents = self.reader.open_incidents(every_service) if every_service else []
        except Exception:
            log.exception("could not read the open incidents for the hand-off brief")
        texts = {}
        for handoff in briefed:
            services = list(dict.fromkeys(sid for s in handoff.schedules for sid in services_of.get(s, [])))
            mine = None if incidents is None else [i for i in incidents if i.service_id in services]
            other_work = self.open_work(linked_channels(links, handoff.schedules), services)
            texts[handoff.dm_key] = brief_text(handoff.dm_text, mine, other_work)
        return [replace(h, dm_text=texts[h.dm_key]) if h.dm_key in texts else h for h in handoffs]
