"""Text from vendors (PagerDuty names, Zendesk comments, Jira summaries) made safe for Slack.

Slack treats `<…>` as markup (`<!channel>` notifies everyone) and `&` as an entity start; its docs ask for
exactly these three escapes. Plain `@channel`/`@here`/`@everyone` only ping when `link_names` is set, which the
bot never sets, but a zero-width joiner keeps them inert everywhere, including in copies humans paste on.
"""

from __future__ import annotations

import re
import time

_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def escape(text: str) -> str:
    """Vendor text as literal Slack text: no links, mentions or broadcasts survive."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@\u2060\\1", escaped)


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def ago(ts: float | None, now: float | None = None) -> str:
    """'3m ago' / 'in 2m' / 'never' — short enough for a Block Kit context line."""
    if ts is None:
        return "never"
    delta = (now or time.time()) - ts
    future = delta < 0
    delta = abs(delta)
    if delta < 60:
        text = f"{int(delta)}s"
    elif delta < 3600:
        text = f"{int(delta // 60)}m"
    elif delta < 86400:
        text = f"{int(delta // 3600)}h"
    else:
        text = f"{int(delta // 86400)}d"
    return f"in {text}" if future else f"{text} ago"
