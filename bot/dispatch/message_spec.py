"""The Dispatch MESSAGE-SPEC (mapbox/dispatch HEAD): parsing and validation, every problem named by its path.

Existing producers keep working unchanged: `high` is an alias of `high-priority`, `gitHubRepo` of `githubRepo`,
the legacy `label` of `labels`, an unknown `type` is routed as high priority with a warning, a missing `users`
array means one user sent to the defaults. Unlike the original, every problem is reported at once, before anything
is sent, and `body.pagerduty.service` is honoured.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

SELF_SERVICE, BROADCAST, HIGH, LOW, NAG = "self-service", "broadcast", "high-priority", "low-priority", "nag"
TYPES = (SELF_SERVICE, BROADCAST, HIGH, LOW, NAG)
ALIASES = {"high": HIGH}
GITHUB_TYPES = frozenset({SELF_SERVICE, BROADCAST, LOW, NAG})  # types that keep a GitHub issue as audit trail
SLACK_TYPES = frozenset({SELF_SERVICE, BROADCAST, NAG})  # types that message people

MAX_REQUEST_ID = 128
MAX_TITLE = 256  # GitHub rejects longer issue titles
MAX_SLACK_TEXT = 40_000  # Slack's message limit
MAX_SECTION = 3000  # Block Kit section text limit (prompts and responses are one section)
MAX_BUTTON = 75  # Block Kit button label limit

_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")
_GITHUB_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9_.-]+)?")
_REPO = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)?")
_PD_SERVICE = re.compile(r"[A-Za-z0-9]{2,32}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InvalidMessage(ValueError):
    """The message cannot be routed; `errors` lists every problem, each naming the field's path."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Defaults:
    """What the bot's settings supply when a message leaves something out."""

    repo: str  # owner/name (GITHUB_REPO)
    github_user: str | None = None  # GITHUB_DEFAULT_USER
    default_channel: str | None = None  # SLACK_DEFAULT_CHANNEL
    pagerduty_service: str | None = None  # PAGERDUTY_SERVICE_ID


@dataclass(frozen=True)
class Recipient:
    slack_id: str | None  # None: "defaulted", the alert goes to the default channel with a note
    slack: str | None = None  # handle, for readability and the broadcast recipient list
    github: str | None = None  # login or org/team mentioned in the issue

    @property
    def defaulted(self) -> bool:
        return self.slack_id is None

    @property
    def listed_as(self) -> str:
        """How the broadcast issue lists this recipient: the handle, else the Slack ID."""
        return self.slack or self.slack_id or "(default channel)"


@dataclass(frozen=True)
class Message:
    type: str
    requested_type: str  # as sent: "high", or an unknown type routed as high priority
    request_id: str
    repo: str | None  # owner/name, for the types with a GitHub issue
    pagerduty_service: str | None
    retrigger: bool = True
    recipients: tuple[Recipient, ...] = ()
    github_title: str = ""
    github_body: str = ""
    labels: tuple[str, ...] = ()
    slack_message: str = ""
    prompt: str | None = None
    yes_label: str = "Yes"
    no_label: str = "No"
    yes_response: str | None = None
    no_response: str | None = None
    pagerduty_title: str = ""
    pagerduty_body: str | None = None
    mention: str | None = None  # GitHub login tagged at the end of self-service / low-priority issues
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def title(self) -> str:
        """The alert's headline: the GitHub title, or the PagerDuty title for high priority."""
        return self.pagerduty_title if self.type == HIGH else self.github_title

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Message:
        data = json.loads(text)
        data["recipients"] = tuple(Recipient(**r) for r in data["recipients"])
        data["labels"] = tuple(data["labels"])
        data["warnings"] = tuple(data["warnings"])
        return cls(**data)


class _Reader:
    """Collects problems while reading fields by path, so that one answer lists all of them."""

    def __init__(self, data: Mapping[str, Any]):
        self.data = data
        self.errors: list[str] = []

    def get(self, path: str) -> Any:
        node: Any = self.data
        for part in path.split("."):
            if not isinstance(node, Mapping):
                return None
            node = node.get(part)
        return node

    def object(self, path: str) -> None:
        value = self.get(path)
        if value is not None and not isinstance(value, Mapping):
            self.errors.append(f"{path} must be an object")

    def text(self, path: str, *, required_for: str | None = None, limit: int | None = None) -> str | None:
        value = self.get(path)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required_for:
                self.errors.append(f"{path} is required for {required_for}")
            return None
        if not isinstance(value, str):
            self.errors.append(f"{path} must be a string")
            return None
        if limit is not None and len(value) > limit:
            self.errors.append(f"{path} must be at most {limit} characters (it has {len(value)})")
        return value


def _decode(raw: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidMessage(["message is not UTF-8 text"]) from error
    try:
        data = json.loads(raw)
    except RecursionError as error:  # json.loads recurses per level: a hostile producer can nest past the limit
        raise InvalidMessage(["message is nested too deeply"]) from error
    except ValueError as error:
        detail = f"{error.msg} at line {error.lineno} column {error.colno}" if hasattr(error, "msg") else str(error)
        raise InvalidMessage([f"message is not valid JSON: {detail}"]) from error
    if not isinstance(data, dict):
        raise InvalidMessage([f"message must be a JSON object, got {type(data).__name__}"])
    return data


def _repo(reader: _Reader, defaults: Defaults) -> str:
    spelled = {key: reader.get(key) for key in ("githubRepo", "gitHubRepo") if reader.get(key) is not None}
    for key, value in spelled.items():
        if not isinstance(value, str) or not _REPO.fullmatch(value.strip()):
            reader.errors.append(f"{key} must be a repository name or owner/name such as alerts, got {value!r}")
            return defaults.repo
    names = {value.strip() for value in spelled.values()}
    if len(names) > 1:
        reader.errors.append("githubRepo and gitHubRepo name different repositories; send one of them")
    if not names:
        return defaults.repo
    name = names.pop()
    return name if "/" in name else f"{defaults.repo.split('/', 1)[0]}/{name}"


def _users(reader: _Reader, kind: str, defaults: Defaults, warnings: list[str]) -> tuple[Recipient, ...]:
    raw = reader.get("users")
    if raw is not None and not isinstance(raw, list):
        reader.errors.append("users must be an array")
        return ()
    found: list[Recipient] = []
    for index, user in enumerate(raw or []):
        path = f"users[{index}]"
        if not isinstance(user, Mapping):
            reader.errors.append(f"{path} must be an object")
            continue
        slack_id, slack, github = user.get("slackId"), user.get("slack"), user.get("github")
        if slack_id is not None and (not isinstance(slack_id, str) or not _SLACK_USER.fullmatch(slack_id.strip())):
            reader.errors.append(f"{path}.slackId must be a Slack user ID such as U012AB3CD, got {slack_id!r}")
            slack_id = None
        if slack is not None and not isinstance(slack, str):
            reader.errors.append(f"{path}.slack must be a string")
            slack = None
        if github is not None:
            login = github.strip().lstrip("@") if isinstance(github, str) else ""
            if not _GITHUB_LOGIN.fullmatch(login):
                reader.errors.append(f"{path}.github must be a GitHub login without @, got {github!r}")
            github = login or None
        slack_id = slack_id.strip() if isinstance(slack_id, str) else None
        found.append(Recipient(slack_id, (slack or "").strip().lstrip("@") or None, github or defaults.github_user))
        if slack_id is None and kind in SLACK_TYPES and defaults.default_channel is None:
            reader.errors.append(f"{path}.slackId is required: SLACK_DEFAULT_CHANNEL is not set")
    if not found:
        if kind in SLACK_TYPES and defaults.default_channel is None:
            reader.errors.append("users is required: SLACK_DEFAULT_CHANNEL is not set, so this alert has nowhere to go")
        found.append(Recipient(None, None, defaults.github_user))  # the original's "undefined user": both defaults
    unique: dict[str, Recipient] = {}
    for position, recipient in enumerate(found):
        key = recipient.slack_id or f"#{position}"
        if key in unique:
            warnings.append(f"users lists {recipient.slack_id} more than once; they get one message")
            continue
        unique[key] = recipient
    return tuple(unique.values())


def _labels(reader: _Reader) -> tuple[str, ...]:
    labels: list[str] = []
    many, one = reader.get("body.github.labels"), reader.get("body.github.label")
    if many is not None:
        if not isinstance(many, list) or not all(isinstance(x, str) and x.strip() for x in many):
            reader.errors.append("body.github.labels must be an array of label names")
        else:
            labels += [x.strip() for x in many]
    if one is not None:
        if not isinstance(one, str) or not one.strip():
            reader.errors.append("body.github.label must be a label name")
        else:
            labels.append(one.strip())
    return tuple(dict.fromkeys(labels))


def _service(reader: _Reader, kind: str, defaults: Defaults) -> str | None:
    for path in ("body.pagerduty.service", "pagerDutyServiceId"):
        value = reader.get(path)
        if value is None:
            continue
        if not isinstance(value, str) or not _PD_SERVICE.fullmatch(value.strip()):
            reader.errors.append(f"{path} must be a PagerDuty service ID such as PABC123, got {value!r}")
            return None
        return value.strip()
    if defaults.pagerduty_service:
        return defaults.pagerduty_service
    if kind == HIGH:
        reader.errors.append("pagerDutyServiceId is required: PAGERDUTY_SERVICE_ID is not set")
    elif kind == SELF_SERVICE:
        reader.errors.append(
            "pagerDutyServiceId is required for self-service (a No answer escalates): PAGERDUTY_SERVICE_ID is not set"
        )
    return None


def parse_message(
    raw: str | bytes | Mapping[str, Any], defaults: Defaults, new_request_id: Callable[[], str] | None = None
) -> Message:
    """A routable Message, or InvalidMessage listing every problem. Pure: no I/O."""
    reader = _Reader(_decode(raw))
    warnings: list[str] = []
    requested = reader.get("type")
    if requested is None:
        raise InvalidMessage([f"type is required (one of {', '.join(TYPES)})"])
    if not isinstance(requested, str):
        raise InvalidMessage([f"type must be a string (one of {', '.join(TYPES)})"])
    kind = ALIASES.get(requested, requested)
    if kind not in TYPES:
        warnings.append(f"type {requested!r} is not recognized; routed as high-priority to PagerDuty")
        kind = HIGH
    request_id = reader.get("requestId")
    if request_id is None:
        request_id = (new_request_id or (lambda: secrets.token_hex(6)))()
    elif not isinstance(request_id, str) or not request_id.strip() or _CONTROL.search(request_id):
        reader.errors.append("requestId must be a non-empty string without control characters")
    elif len(request_id) > MAX_REQUEST_ID:
        reader.errors.append(f"requestId must be at most {MAX_REQUEST_ID} characters")
    retrigger = reader.get("retrigger")
    if retrigger is not None and not isinstance(retrigger, bool):
        reader.errors.append("retrigger must be true or false")
    for path in ("body", "body.github", "body.slack", "body.slack.actions", "body.pagerduty"):
        reader.object(path)
    fields: dict[str, Any] = {}
    repo = _repo(reader, defaults) if kind in GITHUB_TYPES else None
    if kind == HIGH:
        fields["pagerduty_title"] = reader.text("body.pagerduty.title", required_for=kind) or ""
        fields["pagerduty_body"] = reader.text("body.pagerduty.body")
        recipients: tuple[Recipient, ...] = ()
    else:
        recipients = _users(reader, kind, defaults, warnings)
        fields["github_title"] = reader.text("body.github.title", required_for=kind, limit=MAX_TITLE) or ""
        fields["github_body"] = reader.text("body.github.body", required_for=kind) or ""
        fields["labels"] = _labels(reader)
        fields["mention"] = recipients[0].github if recipients else defaults.github_user
        if kind == LOW:
            recipients = ()  # low priority only tags the first user's GitHub login; nobody is messaged
        elif kind == SELF_SERVICE and len(recipients) > 1:
            warnings.append("self-service asks only users[0]; the other users are ignored")
            recipients = recipients[:1]
    if kind in SLACK_TYPES:
        needs_prompt = kind if kind == SELF_SERVICE else None
        fields["slack_message"] = reader.text("body.slack.message", required_for=kind, limit=MAX_SLACK_TEXT) or ""
        fields["prompt"] = reader.text("body.slack.prompt", required_for=needs_prompt, limit=MAX_SECTION)
        yes = reader.text("body.slack.actions.yes", required_for=needs_prompt, limit=MAX_BUTTON)
        no = reader.text("body.slack.actions.no", required_for=needs_prompt, limit=MAX_BUTTON)
        fields["yes_label"], fields["no_label"] = yes or "Yes", no or "No"
        fields["yes_response"] = reader.text("body.slack.actions.yes_response", limit=MAX_SECTION)
        fields["no_response"] = reader.text("body.slack.actions.no_response", limit=MAX_SECTION)
    service = _service(reader, kind, defaults) if kind in (HIGH, SELF_SERVICE) else None
    if reader.errors:
        raise InvalidMessage(reader.errors)
    return Message(
        type=kind,
        requested_type=requested,
        request_id=str(request_id).strip(),
        repo=repo,
        pagerduty_service=service,
        retrigger=True if retrigger is None else bool(retrigger),
        recipients=recipients,
        warnings=tuple(warnings),
        **fields,
    )
