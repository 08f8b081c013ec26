"""Hypothesis strategies and settings shared by the property tests.

Random characters alone rarely hit the interesting cases (a `<!channel>` inside a link, a Markdown link whose label
is a URL), so most text is built from fragments of the markup each parser reads, mixed with arbitrary text.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# No deadline: timing is not what these tests assert (the suite's timeout guards against a hang). No example
# database: a failure is reproduced from the example it prints, not from failures saved by earlier runs.
PROPERTY = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

SLACK_FRAGMENTS = ("<", ">", "|", "&", "&amp;", "&lt;", "&gt;", "!", "!channel", "!here", "!everyone", "@", "#")
MENTION_FRAGMENTS = ("!subteam^S0OPS", "!date^1392734382^{date}", "@U0ALICE", "@W0BOB", "#C0OPS", "#G0PRIV")
BROADCAST_FRAGMENTS = ("@here", "@channel", "@everyone", "@Here", "@\u2060here", "\u2060", "\u200b")
URL_FRAGMENTS = ("http://", "https://", "mailto:", "a@b.example", "evil.example", "sso.acme.com/login", "www.", "/")
MARKDOWN_FRAGMENTS = ("[", "]", "(", ")", "](", "*", "**", "_", "__", "~", "~~", "`", "```", "\\", "# ", "- ", "> ")
EMAIL_FRAGMENTS = ("--", "On Mon, Bob wrote:", "Sent from my phone", "-----Original Message-----", "From: a@b")
COMMAND_FRAGMENTS = ("=", ",", '"', "'", "“", "”", "P0ABC12", "S0GRP12", "link", "&#32;", "{code}", "[~admin]")
OTHER_FRAGMENTS = (" ", "\n", "\t", "\r\n", "\x00", "\x01", "é", "😀", "x", "label", "0")
MARKUP_FRAGMENTS = (
    SLACK_FRAGMENTS
    + MENTION_FRAGMENTS
    + BROADCAST_FRAGMENTS
    + URL_FRAGMENTS
    + MARKDOWN_FRAGMENTS
    + EMAIL_FRAGMENTS
    + COMMAND_FRAGMENTS
    + OTHER_FRAGMENTS
)

fragment = st.sampled_from(MARKUP_FRAGMENTS)
markup_text = st.lists(st.one_of(fragment, fragment, st.text(max_size=8)), max_size=40).map("".join)
"""Text made mostly of markup fragments: what an attacker would try first."""

any_text = st.one_of(markup_text, st.text(max_size=200))

_URL_TAIL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~/?=&%#:@!$'()*+,;", max_size=30)
url = st.one_of(
    st.builds(
        lambda scheme, host, tail: f"{scheme}{host}/{tail}",
        st.sampled_from(["https://", "http://", "HTTPS://", "mailto:", "javascript:", "ftp://", ""]),
        st.sampled_from(["x.example", "sso.acme.com", "evil.example", "a@b.example", "10.0.0.1"]),
        _URL_TAIL,
    ),
    markup_text,
)
"""URLs as a vendor or producer writes them, safe and unsafe schemes, and arbitrary text in their place."""

label = st.one_of(
    st.sampled_from(
        [
            "docs",
            "Reset password",
            "https://sso.acme.com/login",
            "sso.acme.com",
            "www.acme.com",
            "admin@acme.com",
            "x.example",
            "HTTPS://X.EXAMPLE",
            "evil.example/",
            "mailto:a@b.example",
        ]
    ),
    markup_text,
    st.none(),
)


# --- checks shared by the tests ------------------------------------------------------------------------
# A link target as `bot.text.link` lets one through: a safe scheme, and no `<`, `>`, `|`, space or line feed.
SAFE_TARGET = re.compile(r"(?i)(?:https?://|mailto:)[^<>| \n]*")
BROADCAST_TOKENS = ("<!channel", "<!here", "<!everyone")
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")
# A label "shows" a URL, host or address when it has a scheme, `www.`, a dotted name ending in letters, or `@`.
_SHOWS_URL = re.compile(
    r"(?i)(?<![a-z0-9+.-])[0-9+.-]*[a-z][a-z0-9+.-]*://"  # a scheme (anchored at its run, so linear)
    r"|\bwww\."
    r"|@"
    r"|(?<![\w.-])[a-z0-9-]*[a-z0-9]\.(?:[a-z0-9-]+\.)*[a-z]{2,}\b"  # a dotted name ending in letters
)


def slack_tokens(text: str) -> list[str]:
    """The `<…>` tokens Slack would read as links, mentions or specials."""
    return _SLACK_TOKEN.findall(text)


def unescape(text: str) -> str:
    """Slack's three entities back to characters (`&amp;` last, as it was escaped first)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _normal(target: str) -> str:
    text = target.strip().lower().removeprefix("mailto:").rstrip("/")
    for scheme in ("https://", "http://"):
        text = text.removeprefix(scheme)
    return text


def misleading_labels(text: str) -> list[str]:
    """Every `<target|label>` link in Slack text whose label shows a URL, host or address other than its target."""
    found = []
    for token in slack_tokens(text):
        target, bar, shown = token.partition("|")
        if not bar or not SAFE_TARGET.fullmatch(target):
            continue  # not a link (mentions and channels carry names, not targets)
        shown = unescape(shown)
        if _SHOWS_URL.search(shown) and _normal(shown) != _normal(unescape(target)):
            found.append(token)
    return found
