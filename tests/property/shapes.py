"""Adversarial inputs of a given size, shared by the property tests and `bench/parsers.py`.

What makes a parser slow is rarely random text: it is a long run of the characters it treats as markup, or an
opening repeated and never closed, which lets a backtracking regular expression retry every start position (or a
recursive decoder go deep). Each shape is a function of a size in characters returning text of about that size.
"""

from __future__ import annotations

import json
from collections.abc import Callable

KB = 1000
Shape = Callable[[int], str]


def repeated(fragment: str) -> Shape:
    """`fragment` over and over, cut to `size` characters."""
    return lambda size: (fragment * (size // len(fragment) + 1))[:size]


def _between(opening: str, middle: str, closing: str) -> Shape:
    """`opening` × k, `middle`, `closing` × k: nesting as deep as the size allows."""

    def build(size: int) -> str:
        depth = max(1, (size - len(middle)) // (len(opening) + len(closing)))
        return opening * depth + middle + closing * depth

    return build


def _padded_message(message: dict, field: Callable[[dict, str], None], filler: str) -> Shape:
    """A valid-looking message whose one field is grown until the JSON has about `size` characters."""

    def build(size: int) -> str:
        overhead = len(json.dumps(message))
        copy = json.loads(json.dumps(message))
        field(copy, filler * max(1, (size - overhead) // len(json.dumps(filler)[1:-1])))
        return json.dumps(copy)

    return build


# Text for the on-call parser, the Zendesk → Slack converter and the Slack escapers.
TEXT_SHAPES: dict[str, Shape] = {
    "[ run": repeated("["),
    "( run": repeated("("),
    "< run": repeated("<"),
    "* run": repeated("*"),
    "_ run": repeated("_"),
    "\\ run": repeated("\\"),
    "` run": repeated("`"),
    "~ run": repeated("~"),
    "# run": repeated("#"),
    '" run': repeated('"'),
    "? run + x": lambda size: "?" * (size - 1) + "x",
    "letter run": repeated("x"),
    "space run": lambda size: "a" + " " * (size - 2) + "b",
    "newline run": lambda size: "a" + "\n" * (size - 2) + "b",
    "http:// repeated": repeated("http://"),
    "unclosed [x](http://…": repeated("[x](http://"),
    "nested [[a](u)](u)…": _between("[", "a", "](http://x.example/)"),
    "unclosed **a": repeated("**a "),
    "unclosed ~~a": repeated("~~a "),
    "unclosed *a": repeated("*a "),
    "unclosed <http://x|": repeated("<http://x|"),
    "unclosed <@U1|": repeated("<@U0ALICE|"),
    "a-a-a- (host-like)": repeated("a-"),
    "a.a.a. (host-like)": repeated("a."),
    "heading + space run": lambda size: "# a" + " " * (size - 4) + "x",
    "bullet + space run": lambda size: "-" + " " * (size - 2) + "x",
    "quoted header + letters": lambda size: "From: " + "x" * (size - 6),
    "@here repeated": repeated("@here "),
    "&amp; repeated": repeated("&amp;"),
    "closed links": repeated("[docs](https://x.example/a) <https://x.example|x> <#C0OPS|ops> "),
    "schedules P1,": repeated("PABC123,"),
    "targets <#C…>": repeated("<#C0123ABC|ops> "),
}

_BROADCAST = {"type": "broadcast", "users": [{"slackId": "U0ALICE"}], "body": {"github": {"title": "t", "body": "b"}}}
_HIGH = {"type": "high-priority", "body": {"pagerduty": {"title": "down"}}}


def _set_slack_message(message: dict, value: str) -> None:
    message["body"]["slack"] = {"message": value}


def _set_request_id(message: dict, value: str) -> None:
    message["requestId"] = value


def _set_users(message: dict, value: str) -> None:
    message["users"] = [{"slackId": f"U{index:07d}", "github": "octocat"} for index in range(len(value) // 46)]


def _set_labels(message: dict, value: str) -> None:
    message["body"]["github"]["labels"] = [f"label-{index}" for index in range(len(value) // 13)]


def _set_deep_body(message: dict, value: str) -> None:
    message["body"]["pagerduty"]["body"] = value  # a long string after a moderately deep detour below
    message["body"]["pagerduty"]["details"] = json.loads("[" * 200 + "]" * 200)


# Raw MESSAGE-SPEC bodies (JSON text).
JSON_SHAPES: dict[str, Shape] = {
    "deep arrays": _between("[", "", "]"),
    "deep objects": _between('{"a":', "1", "}"),
    "unclosed arrays": repeated("["),
    "long message text": _padded_message(_BROADCAST, _set_slack_message, "x"),
    "message of markup": _padded_message(_BROADCAST, _set_slack_message, "<!channel> [x](http://"),
    "requestId of \\u0000": _padded_message(_HIGH, _set_request_id, "\x00"),
    "many users": _padded_message(_BROADCAST, _set_users, "x"),
    "many labels": _padded_message(_BROADCAST, _set_labels, "x"),
    "200 deep + long text": _padded_message(_HIGH, _set_deep_body, "y"),
    "long number": repeated("1"),
    "long string": lambda size: '"' + "x" * (size - 2) + '"',
}
