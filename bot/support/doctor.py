"""The support desk's doctor: problems it can see, each with its fix.

- a requester of an open ticket with no active Slack user of the same email (the desk cannot name them in Slack);
- a support channel the bot is not in (it would never see the requests asked there).
Cheap reads: the tickets of the desk's open threads and their requesters, 100 a request, and one
`conversations.info` per support channel.
"""

from __future__ import annotations

from collections import defaultdict

from bot.capability import Finding
from bot.clients.slack import WebClient
from bot.clients.zendesk import ZendeskApi
from bot.doctor import channel_problems
from bot.identity import SlackDirectory
from bot.store import Store
from bot.support.config import SupportConfig
from bot.support.identifiers import TITLE
from bot.support.rules import DONE_STATUSES
from bot.support.text import ticket_link
from bot.text import escape

PER_REQUEST = 100  # Zendesk's show_many takes up to 100 IDs
SHOWN_TICKETS = 3

UNMATCHED_FIX = (
    "use the same email address in Slack and in Zendesk (add their Slack email to their Zendesk user), so the desk "
    "can name them in Slack; nothing to do for someone outside the company"
)


def _show_many(zendesk: ZendeskApi, path: str, key: str, ids: list[int]) -> list[dict]:
    found: list[dict] = []
    for start in range(0, len(ids), PER_REQUEST):
        chunk = ids[start : start + PER_REQUEST]
        found += zendesk.request("GET", path, params={"ids": ",".join(map(str, chunk))}).get(key) or []
    return found


def unmatched_requesters(store: Store, zendesk: ZendeskApi, directory: SlackDirectory) -> list[Finding]:
    ticket_ids = [
        int(row["ticket_id"])
        for row in store.query(
            "SELECT ticket_id FROM support_threads WHERE state = 'open' AND closed_at IS NULL "
            "AND ticket_id IS NOT NULL ORDER BY ticket_id"
        )
    ]
    tickets = _show_many(zendesk, "/tickets/show_many.json", "tickets", ticket_ids)
    me = zendesk.me_id()  # tickets of people without a visible email are requested by the bot's agent
    by_requester: dict[int, list[int]] = defaultdict(list)
    for ticket in tickets:
        requester = ticket.get("requester_id")
        if requester and requester != me and ticket.get("status") not in DONE_STATUSES:
            by_requester[int(requester)].append(int(ticket["id"]))
    users = _show_many(zendesk, "/users/show_many.json", "users", sorted(by_requester))
    findings = []
    for user in sorted(users, key=lambda u: int(u["id"])):
        ids = by_requester.get(int(user["id"]), [])
        email = str(user.get("email") or "")
        if email and directory.lookup(email).found:
            continue
        shown = ", ".join(ticket_link(zendesk.ticket_url(i), i) for i in ids[:SHOWN_TICKETS])
        more = f" and {len(ids) - SHOWN_TICKETS} more" if len(ids) > SHOWN_TICKETS else ""
        who = escape(str(user.get("name") or user["id"]))
        if email:
            problem = f"Zendesk requester {who} ({escape(email)}) of open ticket {shown}{more} has no Slack account"
        else:
            problem = f"Zendesk requester {who} of open ticket {shown}{more} has no email address to find in Slack"
        findings.append(Finding(TITLE, problem, UNMATCHED_FIX))
    return findings


def missing_channels(slack: WebClient, config: SupportConfig) -> list[Finding]:
    return channel_problems(slack, TITLE, config.channels, "support channel")


def examine(
    store: Store, zendesk: ZendeskApi, directory: SlackDirectory, slack: WebClient, config: SupportConfig
) -> list[Finding]:
    return missing_channels(slack, config) + unmatched_requesters(store, zendesk, directory)
