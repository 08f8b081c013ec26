"""Posts to Slack for the support desk: each queued post goes out once, in order per thread (or channel).

The `support.post` outbox effect sends every unsent post of its thread up to and past its own, oldest first, so
a post that fails (Slack 429, outage) holds back the ones after it instead of letting them overtake it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from bot.capability import Foundation
from bot.clients.slack import SlackApiError, slack_error
from bot.outbox import Outbox, RetryLater
from bot.support import records
from bot.support.config import SupportConfig
from bot.support.identifiers import LINK_EMAIL_TICKET
from bot.support.message_parts import slack_messages
from bot.support.oncall import OnCallNotice
from bot.support.rules import out_of_hours
from bot.text import quoted

log = logging.getLogger(__name__)

TRANSIENT_SLACK_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}


class SlackPoster:
    def __init__(self, foundation: Foundation, config: SupportConfig):
        self.slack = foundation.slack
        self.store = foundation.store
        self.outbox: Outbox = foundation.outbox
        self.config = config
        self.oncall = OnCallNotice(foundation.settings, foundation.directory, config.escalation_policy)
        # Slack allows about one message a second per channel; tests run unpaced.
        self.pace_seconds = 1.0 * foundation.settings.retry_profile.pacing
        self._last_post: dict[str, float] = {}
        self.shadow = foundation.shadow

    def queue_announcement(self, db: Any, thread: dict[str, Any], url: str, asked_at: float) -> None:
        """The link, who is on call, and the out-of-hours notice, in that order."""
        channel, thread_id = thread["channel_id"], thread["id"]
        text = f"Hello, your new support request is {url}."
        records.queue_post(
            db, self.outbox, source=f"link:{thread_id}", channel=channel, kind="text", text=text, thread_id=thread_id
        )
        if self.config.escalation_policy:
            records.queue_post(
                db,
                self.outbox,
                source=f"oncall:{thread_id}",
                channel=channel,
                kind="oncall",
                text=None,
                thread_id=thread_id,
            )
        if out_of_hours(self.config.office_hours, asked_at):
            records.queue_post(
                db,
                self.outbox,
                source=f"ooh:{thread_id}",
                channel=channel,
                kind="text",
                text=self.config.out_of_hours_message,
                thread_id=thread_id,
            )

    # --- sending ---------------------------------------------------------------------------------
    def try_send_posts(self, thread_id: int) -> None:
        """Send a thread's queued posts now (the queued effects retry whatever fails here)."""
        if self.shadow.active("support"):
            return  # in shadow mode the queued effects are recorded by the outbox, never sent
        post = self.store.query_one(
            "SELECT id FROM support_posts WHERE thread_id = ? AND posted_at IS NULL ORDER BY id DESC LIMIT 1",
            [thread_id],
        )
        if post is None:
            return
        try:
            self.send_posts({"post_id": post["id"]})
        except Exception as error:
            log.info("sending thread %s's posts now failed (the outbox retries): %s", thread_id, quoted(error))

    def send_posts(self, payload: dict[str, Any]) -> None:
        post = self.store.query_one("SELECT * FROM support_posts WHERE id = ?", [payload["post_id"]])
        if post is None or post["posted_at"] is not None:
            return
        while True:  # re-read each time: posting a thread's parent queues more posts for the thread
            pending = records.pending_posts(self.store, post)
            if not pending:
                return
            self._send_post(pending[0])

    def _mark_posted(self, db: Any, post_id: int, slack_ts: str | None, error: str | None = None) -> None:
        db.conn.execute(
            "UPDATE support_posts SET posted_at = ?, slack_ts = ?, error = ? WHERE id = ?",
            [time.time(), slack_ts, error, post_id],
        )

    def _pace(self, channel: str) -> None:
        """Slack allows about one post per second per channel. Waiting is the outbox's job (RetryLater does not
        use up the effect's attempts), so a burst here never holds up other capabilities' effects."""
        wait = self._last_post.get(channel, 0.0) + self.pace_seconds - time.monotonic()
        if wait > 0:
            raise RetryLater(f"pacing posts to {channel}", seconds=wait)
        self._last_post[channel] = time.monotonic()

    def _send_post(self, post: dict[str, Any]) -> None:
        thread = records.thread_by_id(self.store, post["thread_id"]) if post["thread_id"] else None
        thread_ts = thread["thread_ts"] if thread else None
        channel = post["channel_id"]
        if thread is not None and thread["state"] == "forgotten":
            with self.store.write() as db:
                self._mark_posted(db, post["id"], None, "thread forgotten")
            return
        if thread is not None and not thread_ts and post["kind"] not in ("parent", "report"):
            # An emailed ticket whose top-level post Slack refused: its replies must not land in the channel.
            with self.store.write() as db:
                self._mark_posted(db, post["id"], None, "no thread to reply in")
            return
        try:
            if post["kind"] == "reaction":
                if thread_ts:
                    self._react(channel, thread_ts, post["text"])
                slack_ts = thread_ts
            else:
                text = self.oncall.text() if post["kind"] == "oncall" else post["text"]
                if not text:
                    with self.store.write() as db:
                        self._mark_posted(db, post["id"], None, "nothing to say")
                    return
                in_thread = None if post["kind"] in ("parent", "report") else thread_ts
                self._pace(channel)
                slack_ts = self._post_message(channel, text, in_thread)
        except SlackApiError as error:
            code, status = slack_error(error), getattr(error.response, "status_code", 200)
            if code in TRANSIENT_SLACK_ERRORS or status == 429 or status >= 500:
                raise  # the outbox waits (Retry-After) and tries again
            log.error("Slack refused support post %s in %s: %s", post["source"], channel, quoted(code))
            with self.store.write() as db:
                self._mark_posted(db, post["id"], None, code)
            return
        with self.store.write() as db:
            self._mark_posted(db, post["id"], slack_ts)
            if post["kind"] == "parent" and thread is not None:
                self._parent_posted(db, thread, slack_ts)

    def _post_message(self, channel: str, text: str, thread_ts: str | None) -> str:
        """Post all of `text` and return the first message's ts. A queued part is one message within Block Kit's
        limits (see message_parts.py); only text that was not split when queued (the on-call notice, made now, or
        a post queued by an older version) can take more, posted right after each other."""
        first, *rest = slack_messages(text)
        common = {"channel": channel, "thread_ts": thread_ts, "unfurl_links": False, "unfurl_media": False}
        answer = self.slack.chat_postMessage(**common, **first)
        for content in rest:
            self.slack.chat_postMessage(**common, **content)
        return str(answer["ts"])

    def _react(self, channel: str, ts: str, name: str) -> None:
        try:
            self.slack.reactions_add(channel=channel, timestamp=ts, name=name)
        except SlackApiError as error:
            if slack_error(error) != "already_reacted":
                raise

    def _parent_posted(self, db: Any, thread: dict[str, Any], slack_ts: str) -> None:
        """An emailed ticket's top-level post exists: it becomes the thread (its replies were queued with it)."""
        db.conn.execute("UPDATE support_threads SET thread_ts = ? WHERE id = ?", [slack_ts, thread["id"]])
        self.outbox.enqueue(
            f"support:email-linked:{thread['id']}", LINK_EMAIL_TICKET, {"thread_id": thread["id"]}, db=db
        )
