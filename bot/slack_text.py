"""Text from vendors (PagerDuty names, Zendesk comments, Jira summaries) made safe for Slack.

Slack treats `<…>` as markup (`<!channel>` notifies everyone) and `&` as an entity start; its docs ask for
exactly these three escapes. Plain `@channel`/`@here`/`@everyone` only ping when `link_names` is set, which the
bot never sets, but a zero-width joiner keeps them inert everywhere, including in copies humans paste on.
"""

from __future__ import annotations

import re

_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def escape(text: str) -> str:
    """Vendor text as literal Slack text: no links, mentions or broadcasts survive."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@\u2060\\1", escaped)


def mention(user_id: str) -> str:
    return f"<@{user_id}>"
