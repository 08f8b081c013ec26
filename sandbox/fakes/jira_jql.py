"""Just enough JQL for the Jira fake: the clauses Switchboard's pollers and lookups send.

Supported: `AND`/`OR`/`NOT` with parentheses; `= != ~ !~ > >= < <=`, `in (...)`, `not in (...)`,
`is [not] EMPTY`; quoted or bare values; dates as `"yyyy-MM-dd HH:mm"`, `"yyyy/MM/dd"`, relative
`-5m`/`"-1d 2h"`, `now()` and `startOfDay()`; `currentUser()`; `ORDER BY f [ASC|DESC], ...`.
Anything else fails with the message shape Jira uses, so a query the fake can't read fails loudly.

An issue is evaluated through its *facts*: a dict from canonical field name to a list of strings
(value fields: every accepted spelling, e.g. a status name and id), a string (text fields) or a
float/None (date fields). The fake builds those facts; this module knows nothing about its state.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Facts = Mapping[str, Any]
Predicate = Callable[[Facts], bool]

VALUE_FIELDS = {"project", "key", "status", "statuscategory", "priority", "issuetype", "labels", "resolution"}
USER_FIELDS = {"assignee", "reporter", "creator"}
TEXT_FIELDS = {"summary", "description", "comment", "text"}
DATE_FIELDS = {"created", "updated", "resolutiondate"}
ALIASES = {"issuekey": "key", "id": "key", "type": "issuetype", "resolved": "resolutiondate", "label": "labels"}
SORTABLE = {"created", "updated", "key", "priority", "status", "summary", "resolutiondate", "issuetype", "project"}
KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}
DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
PERIOD_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60}
DATE_HELP = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
    "or a period format e.g. '-5d', '4w 2d'."
)

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|!~|>=|<=|=|~|>|<)
      | (?P<punct>[(),])
      | (?P<word>[^\s=!~<>(),"']+)
    )""",
    re.VERBOSE,
)


class JqlError(Exception):
    """A query Jira would answer with 400; the message is Jira's wording."""


@dataclass
class Token:
    kind: str  # str | op | punct | word | end
    text: str
    at: int

    @property
    def keyword(self) -> str | None:
        return self.text.lower() if self.kind == "word" and self.text.lower() in KEYWORDS else None


@dataclass
class JqlContext:
    """What the parser needs from the fake: the clock, the caller, and the values that exist."""

    now: float
    current_user: list[str] = field(default_factory=list)
    known: dict[str, set[str]] = field(default_factory=dict)  # field -> lower-cased values that exist


@dataclass
class Query:
    where: Predicate | None  # None: no restriction at all (an unbounded query)
    order: list[tuple[str, bool]]  # (canonical field, descending)

    def matches(self, facts: Facts) -> bool:
        return self.where is None or self.where(facts)


def compile_jql(text: str, context: JqlContext) -> Query:
    return _Parser(_tokenize(text), context).parse()


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.lastgroup is None:
            quote = text[pos:].lstrip()[:1]
            raise JqlError(f"Error in the JQL Query: The quoted string {quote!s} has not been completed.")
        kind = match.lastgroup
        value = match.group(kind)
        tokens.append(Token(kind, value, match.start(kind)))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _unquote(token: Token) -> str:
    if token.kind != "str":
        return token.text
    return re.sub(r"\\(.)", r"\1", token.text[1:-1])


class _Parser:
    def __init__(self, tokens: list[Token], context: JqlContext):
        self.tokens = tokens
        self.pos = 0
        self.context = context

    # --- token helpers ---------------------------------------------------------------------------
    @property
    def current(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        return self.current.keyword in words

    def expect(self, what: str) -> JqlError:
        token = self.current
        if token.kind == "end":
            return JqlError(f"Error in the JQL Query: Expecting {what} before the end of the query.")
        return JqlError(
            f"Error in the JQL Query: Expecting {what} but got '{token.text}'. (line 1, character {token.at + 1})"
        )

    # --- grammar ---------------------------------------------------------------------------------
    def parse(self) -> Query:
        where = None if self.at_keyword("order") or self.current.kind == "end" else self.or_expr()
        order = self.order_by() if self.at_keyword("order") else []
        if self.current.kind != "end":
            raise self.expect("either 'OR' or 'AND'")
        return Query(where, order)

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.at_keyword("or"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda facts: any(p(facts) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while self.at_keyword("and"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda facts: all(p(facts) for p in parts))

    def unary(self) -> Predicate:
        if self.at_keyword("not"):
            self.take()
            inner = self.unary()
            return lambda facts: not inner(facts)
        if self.current.text == "(" and self.current.kind == "punct":
            self.take()
            inner = self.or_expr()
            if self.current.text != ")":
                raise self.expect("')'")
            self.take()
            return inner
        return self.clause()

    def order_by(self) -> list[tuple[str, bool]]:
        self.take()
        if not self.at_keyword("by"):
            raise self.expect("'by'")
        self.take()
        order: list[tuple[str, bool]] = []
        while True:
            token = self.take()
            if token.kind not in ("word", "str") or token.keyword:
                self.pos -= 1
                raise self.expect("a field name")
            name = _canonical(_unquote(token))
            if name not in SORTABLE:
                raise JqlError(f"Not able to sort using field '{_unquote(token)}'.")
            descending = False
            if self.at_keyword("asc", "desc"):
                descending = self.take().text.lower() == "desc"
            order.append((name, descending))
            if self.current.text != ",":
                return order
            self.take()

    def clause(self) -> Predicate:
        token = self.take()
        if token.kind not in ("word", "str") or token.keyword:
            self.pos -= 1
            raise self.expect("a field name")
        raw_name = _unquote(token)
        name = _canonical(raw_name)
        if name not in VALUE_FIELDS | USER_FIELDS | TEXT_FIELDS | DATE_FIELDS:
            raise JqlError(f"Field '{raw_name}' does not exist or you do not have permission to view it.")
        operator = self.operator()
        if operator in ("is", "is not"):
            return self.emptiness(name, operator == "is not")
        if name in TEXT_FIELDS:
            return self.text_clause(name, raw_name, operator)
        if name in DATE_FIELDS:
            return self.date_clause(name, raw_name, operator)
        return self.value_clause(name, raw_name, operator)

    def operator(self) -> str:
        token = self.current
        if token.kind == "op":
            return self.take().text
        if token.keyword == "in":
            self.take()
            return "in"
        if token.keyword in ("not", "is"):
            first = self.take().text.lower()
            if first == "not" and self.at_keyword("in"):
                self.take()
                return "not in"
            if first == "is":
                if self.at_keyword("not"):
                    self.take()
                    return "is not"
                return "is"
            self.pos -= 1
        raise self.expect("operator")

    def emptiness(self, name: str, negated: bool) -> Predicate:
        if not self.at_keyword("empty", "null"):
            raise self.expect("'EMPTY'")
        self.take()
        return lambda facts: (facts.get(name) in (None, "", [])) != negated

    def operand(self) -> list[str]:
        """One value, a function result, or a parenthesised list, as strings."""
        if self.current.kind == "punct" and self.current.text == "(":
            self.take()
            values = [*self.operand()]
            while self.current.text == ",":
                self.take()
                values.extend(self.operand())
            if self.current.text != ")":
                raise self.expect("')'")
            self.take()
            return values
        token = self.take()
        if token.kind not in ("word", "str") or (token.keyword and token.keyword not in ("empty", "null")):
            self.pos -= 1
            raise self.expect("either a value, list or function")
        if token.kind == "word" and self.current.text == "(":
            return self.function(token.text)
        return [_unquote(token)]

    def function(self, name: str) -> list[str]:
        self.take()
        if self.take().text != ")":
            self.pos -= 1
            raise self.expect("')'")
        lowered = name.lower()
        if lowered == "now":
            return [f"@{self.context.now}"]
        if lowered == "startofday":
            return [f"@{self.context.now - self.context.now % 86400}"]
        if lowered == "currentuser":
            return list(self.context.current_user)
        raise JqlError(f"Unable to find JQL function '{name}()'.")

    def value_clause(self, name: str, raw_name: str, operator: str) -> Predicate:
        if operator not in ("=", "!=", "in", "not in"):
            raise JqlError(f"The operator '{operator}' is not supported by the '{raw_name}' field.")
        values = self.operand()
        if operator in ("=", "!=") and len(values) != 1:
            raise JqlError(f"The operator '{operator}' does not support the list of values.")
        self.check_known(name, raw_name, values)
        wanted = {v.lower() for v in values}

        def hit(facts: Facts) -> bool:
            return any(str(v).lower() in wanted for v in facts.get(name) or [])

        if operator in ("=", "in"):
            return hit
        return lambda facts: bool(facts.get(name)) and not hit(facts)

    def check_known(self, name: str, raw_name: str, values: list[str]) -> None:
        known = self.context.known.get(name)
        if known is None:
            return
        for value in values:
            if value.lower() in known:
                continue
            if name == "key":
                raise JqlError(f"An issue with key '{value}' does not exist for field '{raw_name}'.")
            raise JqlError(f"The value '{value}' does not exist for the field '{raw_name}'.")

    def text_clause(self, name: str, raw_name: str, operator: str) -> Predicate:
        if operator not in ("~", "!~"):
            raise JqlError(f"The operator '{operator}' is not supported by the '{raw_name}' field.")
        values = self.operand()
        if len(values) != 1:
            raise JqlError(f"The operator '{operator}' does not support the list of values.")
        terms = re.findall(r"[\w*]+", values[0].lower())

        def contains(facts: Facts) -> bool:
            words = re.findall(r"\w+", str(facts.get(name) or "").lower())
            return bool(terms) and all(_term_in(term, words) for term in terms)

        return contains if operator == "~" else (lambda facts: not contains(facts))

    def date_clause(self, name: str, raw_name: str, operator: str) -> Predicate:
        if operator not in ("=", "!=", ">", ">=", "<", "<="):
            raise JqlError(f"The operator '{operator}' is not supported by the '{raw_name}' field.")
        values = self.operand()
        if len(values) != 1:
            raise JqlError(f"The operator '{operator}' does not support the list of values.")
        bound = _parse_date(values[0], raw_name, self.context.now)
        compare = _COMPARE[operator]

        def check(facts: Facts) -> bool:
            value = facts.get(name)
            return value is not None and compare(float(value), bound)

        return check


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: int(a // 60) == int(b // 60),
    "!=": lambda a, b: int(a // 60) != int(b // 60),
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _canonical(name: str) -> str:
    lowered = name.lower()
    return ALIASES.get(lowered, lowered)


def _term_in(term: str, words: list[str]) -> bool:
    if term.endswith("*"):
        return any(word.startswith(term.rstrip("*")) for word in words)
    return term in words


def _parse_date(value: str, field_name: str, now: float) -> float:
    """A JQL date literal as epoch seconds (the API user's zone is UTC in the fake)."""
    if value.startswith("@"):  # produced by a date function
        return float(value[1:])
    text = value.strip()
    for fmt in DATE_FORMATS:
        try:
            return float(calendar.timegm(time.strptime(text, fmt)))
        except ValueError:
            continue
    period = re.fullmatch(r"([-+]?)\s*((?:\d+\s*[wdhm]\s*)+)", text)
    if period:
        seconds = sum(int(n) * PERIOD_UNITS[unit] for n, unit in re.findall(r"(\d+)\s*([wdhm])", period.group(2)))
        return now - seconds if period.group(1) == "-" else now + seconds
    raise JqlError(f"Date value '{value}' for field '{field_name}' is invalid. {DATE_HELP}")
