"""`/statuspage map|unmap|status|help`: the words of the command, answered as one ephemeral text.

Runs on Switchboard's pool after the ack (service and component lookups are vendor calls). Changing a mapping is
for admins; reading is for everyone.
"""

from __future__ import annotations

import html
import json
import logging
import shlex
import time
from typing import Any

from bot.capability import CommandRequest
from bot.statuspage import rules
from bot.statuspage.reconcile import LAST_RECONCILE
from bot.statuspage.service import RECONCILE_JOB, StatuspageService
from bot.text import ago, escape, link, quoted

log = logging.getLogger(__name__)

HELP = (
    "*Status page* — PagerDuty incidents tagged `component:<id>` (or from a mapped service) open Statuspage "
    "incidents, one per component, resolved when no PagerDuty incident affects the component any more.\n"
    "• `/statuspage status` — managed incidents, the last reconcile and each PagerDuty account\n"
    "• `/statuspage map` — list service → component mappings\n"
    '• `/statuspage map <PagerDuty service> <component>` — (admins) e.g. `/statuspage map "Checkout API" api01`\n'
    "• `/statuspage unmap <PagerDuty service>` — (admins) remove a mapping"
)


class StatuspageCommands:
    def __init__(self, service: StatuspageService):
        self.service = service
        self.is_admin = service.is_admin

    def answer(self, user_id: str, text: str) -> str:
        try:
            words = shlex.split(html.unescape(text or ""))
        except ValueError:
            return "I couldn't read that: a quote is not closed. " + HELP
        if not words or words[0].lower() == "help":
            return HELP
        verb, rest = words[0].lower(), words[1:]
        if verb == "status":
            return self.status()
        if verb == "map" and not rest:
            return self.list_mappings()
        if verb in ("map", "unmap"):
            if not self.is_admin(user_id):
                return "Only Switchboard admins can change mappings (SWITCHBOARD_ADMINS, or a workspace admin)."
            if verb == "unmap":
                return self.unmap(" ".join(rest))
            if len(rest) < 2:
                return (
                    'Usage: `/statuspage map <PagerDuty service> <component>`, e.g. `/statuspage map "Checkout" api01`'
                )
            return self.map(" ".join(rest[:-1]), rest[-1], user_id)
        return f"I don't know `{escape(verb)}`. {HELP}"

    # --- status ----------------------------------------------------------------------------------
    def status(self) -> str:
        service = self.service
        now = time.time()
        last = service.store.get_state(LAST_RECONCILE)
        open_on = " or ".join(service.config.open_on)
        lines = [
            f"*Status page* — last reconcile {ago(float(last), now) if last else 'never'}; "
            f"a component is down while a PagerDuty incident on it is {open_on}."
        ]
        rows = service.open_rows()
        lines.append(f"*Managed incidents ({len(rows)})*" if rows else "*Managed incidents*: none open")
        for row in rows:
            name = escape(row["component_name"] or row["component_id"])
            impact = rules.IMPACT_WORDS.get(row["impact"], row["impact"])
            refs = json.loads(row["pd_incidents"] or "[]")
            if row["state"] == "opening":
                state = "opening…"
            elif row["state"] == "resolving":
                state = "resolving…"
            else:
                state = f"{impact} since {ago(row['opened_at'], now)} {link(row['shortlink'] or '')}"
            pd = f" — PagerDuty: {', '.join(escape(r) for r in refs)}" if refs else " — adopted (marker)"
            lines.append(f"• *{name}* (`{escape(row['component_id'])}`): {state}{pd}")
        lines.append("*PagerDuty accounts*")
        for account in service.poller.health():
            if account.get("last_error") and (account.get("last_error_at") or 0) > (account.get("last_ok_at") or 0):
                detail = f"failing since {ago(account['last_error_at'], now)}: `{escape(account['last_error'][:120])}`"
            elif account.get("last_ok_at"):
                detail = f"OK {ago(account['last_ok_at'], now)}, {account.get('open_incidents') or 0} open incidents"
            else:
                detail = "not polled yet"
            lines.append(f"• {escape(account['name'])}: {detail}")
        return "\n".join(lines)

    # --- mappings --------------------------------------------------------------------------------
    def list_mappings(self) -> str:
        rows = self.service.store.query("SELECT * FROM statuspage_mappings ORDER BY service_name")
        if not rows:
            return "No service mappings yet. Incidents count for a component through `component:<id>` tags only."
        lines = ["*Service → component mappings* (used when an incident's first alert has no component tag)"]
        for row in rows:
            name = escape(row["service_name"] or row["service_id"])
            service = f"{name} (`{escape(row['service_id'])}`, {escape(row['account'])})"
            component = f"{escape(row['component_name'] or row['component_id'])} (`{escape(row['component_id'])}`)"
            lines.append(f"• {service} → {component}")
        return "\n".join(lines)

    def map(self, service_text: str, component_text: str, user_id: str = "") -> str:
        try:
            services = self._find_services(service_text)
            components = self.service.components.get(refresh=True)
        except Exception as error:  # a vendor being down is an answer, not a traceback
            log.warning("mapping lookup failed: %s", quoted(error))
            return f"I couldn't look that up right now ({type(error).__name__}); please try again."
        if not services:
            return f"I couldn't find a PagerDuty service called {escape(service_text)!r} in any account."
        if len(services) > 1:
            listed = ", ".join(
                f"{escape(s['name'])} (`{escape(s['id'])}`, {escape(account)})" for account, s in services
            )
            return f"{escape(service_text)!r} matches several PagerDuty services: {listed}. Use the service ID."
        account, pd_service = services[0]
        component_id = self._component(component_text, components)
        if component_id is None:
            known = ", ".join(f"{escape(n)} (`{escape(i)}`)" for i, n in sorted(components.items()))
            return f"Statuspage has no component {escape(component_text)!r}. Components: {known or 'none'}."
        self.service.store.execute(
            "INSERT INTO statuspage_mappings (service_id, service_name, account, component_id, component_name, "
            "mapped_by, mapped_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(service_id) DO UPDATE SET "
            "service_name = excluded.service_name, account = excluded.account, component_id = excluded.component_id, "
            "component_name = excluded.component_name, mapped_by = excluded.mapped_by, mapped_at = excluded.mapped_at",
            [
                pd_service["id"],
                pd_service.get("name"),
                account,
                component_id,
                components[component_id],
                user_id,
                time.time(),
            ],
        )
        self.service.scheduler.run_now(RECONCILE_JOB)
        return (
            f"Mapped PagerDuty service *{escape(pd_service.get('name') or pd_service['id'])}* "
            f"(`{escape(pd_service['id'])}`, "
            f"{escape(account)}) to Statuspage component *{escape(components[component_id])}* "
            f"(`{escape(component_id)}`). Its incidents without a component tag now count for that component."
        )

    def unmap(self, service_text: str) -> str:
        if not service_text:
            return "Usage: `/statuspage unmap <PagerDuty service>`"
        rows = self.service.store.query(
            "SELECT * FROM statuspage_mappings WHERE service_id = ? OR lower(service_name) = lower(?)",
            [service_text, service_text],
        )
        if not rows:
            return f"There is no mapping for {escape(service_text)!r}. `/statuspage map` lists them."
        for row in rows:
            self.service.store.execute("DELETE FROM statuspage_mappings WHERE service_id = ?", [row["service_id"]])
        self.service.scheduler.run_now(RECONCILE_JOB)
        names = ", ".join(escape(r["service_name"] or r["service_id"]) for r in rows)
        return f"Removed the mapping of {names}."

    def _find_services(self, text: str) -> list[tuple[str, dict[str, Any]]]:
        found: list[tuple[str, dict[str, Any]]] = []
        for name, account in self.service.poller.accounts.items():
            found += [(name, s) for s in account.find_services(text)]
        exact = [(a, s) for a, s in found if s.get("id") == text or str(s.get("name", "")).lower() == text.lower()]
        return exact or found

    @staticmethod
    def _component(text: str, components: dict[str, str]) -> str | None:
        if text in components:
            return text
        matches = [i for i, name in components.items() if name.lower() == text.lower()]
        return matches[0] if len(matches) == 1 else None


def answer(service: StatuspageService, request: CommandRequest) -> str:
    """`/statuspage …` (after the ack, on the foundation's pool)."""
    return StatuspageCommands(service).answer(request.user_id, request.text)
