"""Slack fake: the Web API at `/api/<method>` plus a Socket Mode WebSocket server, for the real slack_sdk and Bolt.

Web API answers are HTTP 200 `{"ok": true, ...}` or `{"ok": false, "error": ...}` like Slack. Payloads past
Block Kit's limits are always refused in Slack's words (`invalid_blocks` with `response_metadata.messages`);
Slack's per-method rate limits (HTTP 429 `ratelimited` + Retry-After) are counted once `vendor_limits` is on, and
tests may also inject a 429 as a fault. The WebSocket is plain ws:// on its own port because slack_sdk's
builtin Socket Mode client only uses TLS on port 443. Helper methods act as humans (post, edit, react, click,
run slash commands) and push the matching envelopes to the connected bot; `subscribe()` feeds a live transcript.

Modules: `fake` assembles `SlackFake`; `state` (the workspace), `render` (Slack's object shapes), `changes`
(state changes and who hears of them), `events_api`, `response_urls`, `socket_mode`, `web_api` with one module per
method family in `methods/`, `block_kit`, `block_limits` and `arguments` (what a request may contain),
`rate_limits` (each method's tier); `seeding`, `humans` and `inspection` are the API tests drive the fake with.
"""

from sandbox.fakes.slack.arguments import SlackMethodError
from sandbox.fakes.slack.fake import SlackFake
from sandbox.fakes.slack.identity import APP_ID, BOT_ID, BOT_NAME, BOT_REAL_NAME, BOT_USER_ID

__all__ = ["APP_ID", "BOT_ID", "BOT_NAME", "BOT_REAL_NAME", "BOT_USER_ID", "SlackFake", "SlackMethodError"]
