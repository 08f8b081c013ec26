"""Every Dispatch outbox step and its handler, in one table: issue → messages → prompt → answer effects.

Each handler reads the alert's rows, does one vendor write, and records the result together with the next steps in
one transaction. A handler that runs again (a retry, a restart, a duplicate row) sees the recorded state and does
nothing twice: issues, comments and Slack posts go through the attempt journal (a retry looks for the earlier
result before writing), PagerDuty incidents carry an incident_key, closing and chat.update are idempotent.
The work is done by collaborators named after it; this module only builds them and lists their handlers.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.clients.slack import WebClient
from bot.dispatch import rules
from bot.dispatch.alerts import AlertStore
from bot.dispatch.config import DispatchConfig
from bot.dispatch.escalation import Escalation
from bot.dispatch.follow_ups import FollowUps
from bot.dispatch.github_audit import GitHubAudit
from bot.dispatch.issue_filing import IssueFiling
from bot.dispatch.issue_updates import IssueUpdates
from bot.dispatch.paging import Pager
from bot.dispatch.slack_delivery import SlackDelivery
from bot.dispatch.slack_posting import SlackPoster
from bot.outbox import Handler
from bot.store import Store


class DispatchEffects:
    def __init__(
        self,
        store: Store,
        slack: WebClient,
        github: GitHubAudit,
        pager: Pager,
        follow_ups: FollowUps,
        config: DispatchConfig,
        kick: Callable[[], None],
        on_prompt: Callable[[float, float], None],
    ):
        alerts = AlertStore(store)
        timeout = config.confirm_timeout_seconds
        self.filing = IssueFiling(store, alerts, github, follow_ups, kick)
        poster = SlackPoster(store, slack, alerts)
        self.delivery = SlackDelivery(
            store, alerts, poster, follow_ups, timeout, kick, on_prompt, allow_mentions=config.allow_mentions
        )
        self.escalation = Escalation(store, alerts, pager, follow_ups, timeout, kick)
        self.issue_updates = IssueUpdates(store, alerts, github, follow_ups, kick)

    def handlers(self) -> dict[str, Handler]:
        """Outbox kind -> handler, for every `dispatch.*` step."""
        return {
            rules.ISSUE_STEP: self.filing.open_issue,
            rules.MESSAGE_STEP: self.delivery.send_message,
            rules.PROMPT_STEP: self.delivery.send_prompt,
            rules.POST_STEP: self.delivery.post,
            rules.UPDATE_PROMPT_STEP: self.delivery.update_prompt,
            rules.UPDATE_ACK_STEP: self.delivery.update_acknowledged,
            rules.PAGE_STEP: self.escalation.page,
            rules.CLOSE_STEP: self.issue_updates.close_issue,
            rules.COMMENT_STEP: self.issue_updates.comment,
            rules.ACK_COMMENT_STEP: self.issue_updates.comment_acknowledgements,
        }
