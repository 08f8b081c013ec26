"""Text in both directions: Slack mrkdwn → plain text for Zendesk, Zendesk comments → safe Slack mrkdwn.

Pure functions, no servers: the rules that the original tool fixed bug by bug (emoji aliases, mailto links,
signatures, markdown) live here in one place, with unit tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from bot.text import escape, link

SUBJECT_LIMIT = 80


def help_text(ticket_url: str | None, resolve_status: str, *, emailed: bool = False) -> str:
    """The answer to `help` in a support thread (the commands are recognised by `rules.thread_command`). In the
    thread of an emailed ticket replies are internal notes unless they start with `reply:` (`rules.comment_for`)."""
    ticket = f"ticket {ticket_url}" if ticket_url else "the ticket"
    rest = (
        "Anything else you write in this thread is added to the ticket as an internal note; start it with "
        "`reply:` to send it to the requester."
        if emailed
        else "Anything else you write in this thread is added to the ticket as a comment."
    )
    return (
        "🤖 I understand these commands in a support thread:\n"
        "• `help` — this list\n"
        f"• `resolve`, `resolve ticket`, ✅ or 🆗 — mark {ticket} {resolve_status}\n"
        f"{rest}"
    )


def email_thread_notice(requester: str) -> str:
    """The last line of an emailed ticket's first Slack message: what happens to replies in its thread.
    `requester` is Slack-safe text already."""
    return (
        "🔒 Replies in this thread are internal notes on the ticket. Start a reply with `reply:` to send it to "
        f"{requester} by email."
    )


# --- Slack → Zendesk ---------------------------------------------------------------------------------
_SLACK_MARKUP = re.compile(r"<([^<>]*)>")


def slack_to_plain(text: str, name_of: Callable[[str], str]) -> str:
    """Slack message text as readable plain text: mentions become @names, links `label (url)`."""

    def replace(match: re.Match[str]) -> str:
        inner = match[1]
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return "@" + (label or name_of(target[1:]))
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith(("!subteam^", "!date^")):
            return label or "@team"
        if target.startswith("!"):
            return "@" + (label.lstrip("@") if label else target[1:].split("^")[0])
        if target.startswith("mailto:"):
            return label or target[len("mailto:") :]
        if label and label != target:
            return f"{label} ({target})"
        return target

    plain = _SLACK_MARKUP.sub(replace, text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def subject_from(text: str, limit: int = SUBJECT_LIMIT) -> str:
    """The first non-empty line, shortened at a word boundary."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "") or "Support request from Slack"
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0] if " " in line[: limit - 1] else line[: limit - 1]
    return cut.rstrip(" ,;:-") + "…"


def files_text(files: list[dict[str, str]]) -> str:
    """Attachment lines (name: permalink) appended to a ticket or comment."""
    if not files:
        return ""
    lines = [f"- {f.get('name') or 'file'}: {f.get('permalink') or '(no link)'}" for f in files]
    return "\n\nAttachments:\n" + "\n".join(lines)


def ticket_description(text: str, author: str, permalink: str, files: list[dict[str, str]]) -> str:
    body = text.strip() or "(no text)"
    return f"{body}{files_text(files)}\n\n—\nPosted in Slack by {author}: {permalink}"


def comment_from_slack(author: str, text: str, files: list[dict[str, str]], edited: bool) -> str:
    marker = "Slack, edited" if edited else "Slack"
    return f"{author} ({marker}): {text.strip()}{files_text(files)}"


# --- permalinks --------------------------------------------------------------------------------------
def permalink(workspace_url: str, channel: str, ts: str) -> str:
    return f"{workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


_PERMALINK = re.compile(r"/archives/(?P<channel>[CGD][A-Z0-9]+)/p(?P<digits>\d{7,})")


def parse_permalink(text: str) -> tuple[str, str] | None:
    """(channel, thread ts) from a pasted Slack message link; a reply's link yields its thread's ts."""
    cleaned = text.strip().strip("<>").split("|")[0]
    match = _PERMALINK.search(cleaned)
    if not match:
        return None
    digits = match["digits"]
    ts = f"{digits[:-6]}.{digits[-6:]}"
    thread_ts = parse_qs(urlsplit(cleaned).query).get("thread_ts", [""])[0]
    return match["channel"], thread_ts or ts


# --- Zendesk → Slack ---------------------------------------------------------------------------------
_SIGNATURE = re.compile(r"^(--|-- |—|__+|Sent from my \w+.*)\s*$", re.IGNORECASE)
_QUOTE_HEADERS = (
    re.compile(r"^On .{4,200}wrote:\s*$", re.IGNORECASE),
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^From: .*[<@].*$"),  # an Outlook-style quoted header names a mailbox
    re.compile(r"^#+-? ?Please type your reply above this line ?-?#+\s*$", re.IGNORECASE),
)


def trim_email(body: str) -> str:
    """Drop an email's signature and the quoted history under it."""
    kept: list[str] = []
    for line in body.replace("\r\n", "\n").split("\n"):
        stripped = line.rstrip()
        if _SIGNATURE.match(stripped) or any(p.match(stripped.strip()) for p in _QUOTE_HEADERS):
            break
        kept.append(stripped)
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()  # trailing quoted lines ("> earlier message") and blank lines
    return "\n".join(kept).strip()


_SAFE_URL = re.compile(r"(https?://|mailto:)[^\s|<>]+", re.IGNORECASE)
# Linear time on any input: a label or target never spans the start of another link, and bold or struck text
# never spans its own delimiter, so a failed match never rescans what the next attempt reads.
_MD_LINK = re.compile(r"\[([^\[\]\n]+)\]\(([^)\s\[]+)\)")
_MD_BOLD = re.compile(r"(\*\*|__)(?=\S)((?:(?!\1).)+?)(?<=\S)\1")
_MD_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_MD_STRIKE = re.compile(r"~~(?=\S)((?:(?!~~).)+?)(?<=\S)~~")
_MD_HEADING = re.compile(r"^#{1,6}[ \t]+(.+)$", re.MULTILINE)  # one line (never `\s`); closing #s cut by `_heading`
_MD_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+", re.MULTILINE)
_SLACK_TOKEN = re.compile(r"<[^<>]*>")
_PLACEHOLDER = re.compile(r"\x01(\d+)\x01")
_BOLD_MARK = "\x00"
_TOKEN_MARK = "\x01"


def _unescape(text: str) -> str:
    """The inverse of `bot.text.escape` for `&`, `<`, `>` (`&amp;` last, as escape replaced `&` first)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _heading(line: str) -> str:
    """A heading's text without its optional closing `#`s (cut here, not by a regex that would rescan the line)."""
    text = line.rstrip(" \t")
    return text.rstrip("#").rstrip(" \t") or text


def markdown_to_mrkdwn(text: str) -> str:
    """Zendesk (Markdown) formatting as Slack mrkdwn. Call on text that is already Slack-escaped.

    Both parts of a Markdown link are written by whoever wrote the comment or email, so the link is rebuilt by
    `bot.text.link(strict=True)`: a label that differs from its target is followed by the real target, and
    `[https://sso.acme.com/login](https://evil.example/login)` cannot pass for a link to sso.acme.com.
    """

    def markdown_link(match: re.Match[str]) -> str:
        label, url = match[1], match[2]
        if not _SAFE_URL.fullmatch(url):  # `[x](!channel)` must not become a `<!channel|x>` broadcast
            return match[0]
        return link(_unescape(url), _unescape(label), strict=True)

    text = text.replace(_BOLD_MARK, "").replace(_TOKEN_MARK, "")  # our own markers, never the author's
    converted = _MD_LINK.sub(markdown_link, text)
    # The links' `<…>` (the only ones: the text was escaped) are set aside, so formatting never edits a target.
    tokens: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        tokens.append(match[0])
        return f"{_TOKEN_MARK}{len(tokens) - 1}{_TOKEN_MARK}"

    converted = _SLACK_TOKEN.sub(set_aside, converted)
    converted = _MD_HEADING.sub(lambda m: f"{_BOLD_MARK}{_heading(m[1])}{_BOLD_MARK}", converted)
    converted = _MD_BOLD.sub(lambda m: f"{_BOLD_MARK}{m[2]}{_BOLD_MARK}", converted)
    converted = _MD_ITALIC.sub(lambda m: f"_{m[1]}_", converted)
    converted = _MD_STRIKE.sub(lambda m: f"~{m[1]}~", converted)
    converted = _MD_BULLET.sub(lambda m: f"{m[1]}• ", converted)
    converted = _PLACEHOLDER.sub(lambda m: tokens[int(m[1])], converted)
    return converted.replace(_BOLD_MARK, "*")


def zendesk_to_slack(body: str, ticket_url: str, limit: int | None = None) -> str:
    """A Zendesk comment body as safe Slack text: trimmed, escaped (no broadcasts), formatted. Whole by default
    (a long comment is posted in several parts); with `limit`, an excerpt that says where the rest is."""
    text = trim_email(body) or body.strip()
    if limit is not None and len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + f" … (the rest is in Zendesk: {ticket_url})"
    return markdown_to_mrkdwn(escape(text))


def ticket_link(url: str, ticket_id: int) -> str:
    return f"<{url}|#{ticket_id}>"
