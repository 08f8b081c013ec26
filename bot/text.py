"""Text crossing a trust boundary, made safe for where it goes.

Into Slack: Slack treats `<…>` as markup (`<!channel>` notifies everyone, `<url|label>` is a link whose label can
show another URL) and `&` as an entity start; its docs ask for exactly these three escapes
(https://api.slack.com/reference/surfaces/formatting#escaping). Plain `@channel`/`@here`/`@everyone` only ping
when `link_names` is set, which the bot never sets, but a zero-width joiner keeps them inert everywhere, including
in copies humans paste on. Out of Slack: GitHub turns `@user` and `@org/team` into notifications, Jira's wiki
markup turns `[~user]`, `{…}` and `[label|url]` into mentions, macros and links, and a newline in a log argument
could forge a log line.
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


_URLISH = re.compile(r"(?i)[a-z][a-z0-9+.-]*://|\bwww\.|\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b|@")
_SAFE_SCHEMES = ("http://", "https://", "mailto:")
LONGEST_PLAIN_LABEL = 200  # a longer label always shows its target (and _URLISH never scans 40 kB of it)


def _same_target(label: str, url: str) -> bool:
    def norm(text: str) -> str:
        text = text.strip().lower().removeprefix("mailto:").rstrip("/")
        for scheme in ("https://", "http://"):
            text = text.removeprefix(scheme)
        return text

    return norm(label) == norm(url)


def link(url: str, label: str | None = None, *, strict: bool = False) -> str:
    """A Slack link to `url`, with `label` shown when it cannot mislead.

    A label that shows a URL, host or address other than the target would let its author disguise where a click
    goes, so such a label is followed by the real target: `label (https://evil.example/login)`. With `strict`
    (both parts written by a vendor's user or a producer) every label that differs from its target shows the
    target. A target that is not http(s) or mailto is not linked at all.
    """
    url = url.strip()
    if not url.lower().startswith(_SAFE_SCHEMES) or any(c in "<>|" or c.isspace() or not c.isprintable() for c in url):
        return escape(f"{label} ({url})" if label and not _same_target(label, url) else url)
    target = url.replace("&", "&amp;")
    if not label or not label.strip() or _same_target(label, url):
        return f"<{target}>"
    if strict or len(label) > LONGEST_PLAIN_LABEL or _URLISH.search(label):
        return f"{escape(label)} (<{target}>)"
    return f"<{target}|{escape(label)}>"


_TOKEN = re.compile(r"<([^<>\s][^<>\n]*)>")
_USER_OR_GROUP = re.compile(r"(?:@[UW][A-Z0-9]+|!subteam\^[A-Z0-9]+)(?:\|[^<>]*)?")
_CHANNEL = re.compile(r"#[CG][A-Z0-9]+(?:\|[^<>]*)?")


def producer_text(text: str, *, allow_mentions: bool = False) -> str:
    """Slack mrkdwn written by someone outside Slack (an alarm producer) made safe to post.

    Channel links stay; links are rebuilt by `link(strict=True)`; user and usergroup mentions stay only when
    allowed; `<!channel>`, `<!here>`, `<!everyone>` and every other special token never survive; stray `<`, `>`
    are escaped. Entities the producer wrote (`&amp;`) are kept.
    """
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        out.append(_plain(text[position : match.start()]))
        out.append(_token(match.group(1), allow_mentions))
        position = match.end()
    out.append(_plain(text[position:]))
    return "".join(out)


def _plain(text: str) -> str:
    return _BROADCAST.sub("@\u2060\\1", text.replace("<", "&lt;").replace(">", "&gt;"))


def _token(inner: str, allow_mentions: bool) -> str:
    if _USER_OR_GROUP.fullmatch(inner):
        return f"<{inner}>" if allow_mentions else escape(f"<{inner}>")
    if _CHANNEL.fullmatch(inner):
        return f"<{inner}>"
    if inner.startswith(("!", "@", "#")):
        return escape(f"<{inner}>")
    url, _, label = inner.partition("|")
    if not url.lower().startswith(_SAFE_SCHEMES):
        return escape(f"<{inner}>")
    return link(url.replace("&amp;", "&"), label or None, strict=True)


_GITHUB_MENTION = re.compile(r"(?<![\w`])@(?=[A-Za-z0-9])")


def for_github(text: str) -> str:
    """Slack text for a GitHub issue or comment body: `@user` and `@org/team` are shown but never notify
    (a zero-width space after the `@`)."""
    return _GITHUB_MENTION.sub("@\u200b", text)


_JIRA_MARKUP = re.compile(r"([\\{}\[\]|*_+^~?!#-])")


def for_jira(text: str) -> str:
    """Plain text for a Jira (wiki markup) description or comment: markup characters are escaped, so vendor text
    cannot mention (`[~user]`), link (`[label|url]`), run macros (`{…}`) or format."""
    return _JIRA_MARKUP.sub(r"\\\1", text)


def quoted(value: object) -> str:
    """A value from outside (a user's text, a vendor's name) as one log token: quoted, newlines and control
    characters escaped, so it cannot forge a log line."""
    return repr(str(value)[:500])


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
