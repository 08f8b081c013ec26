"""Block Kit as Slack enforces it: message content limits, the App Home view shape, and finding a clicked button.

Block limits are checked by `block_limits`; a message past them is refused with `invalid_blocks` and Slack's
messages in `response_metadata.messages`, a Home tab view with `invalid_arguments`. Other limits:
message `text` past 40,000 characters is `msg_too_long` and more than 100 attachments `too_many_attachments`
(https://docs.slack.dev/reference/methods/chat.postMessage); a view past 250 kB is `view_too_large` and its
private_metadata holds at most 3,000 characters (https://docs.slack.dev/reference/methods/views.publish,
https://docs.slack.dev/reference/views).
"""

from __future__ import annotations

import json

from sandbox.fakes.slack.arguments import Json, SlackMethodError, json_arg
from sandbox.fakes.slack.block_limits import MESSAGE_MAX_BLOCKS, SURFACE_MAX_BLOCKS, block_errors

TEXT_MAX_CHARS = 40_000
MAX_ATTACHMENTS = 100
VIEW_MAX_BYTES = 250_000
VIEW_FIELD_LIMITS = {"private_metadata": 3000, "callback_id": 255, "external_id": 255}
BLOCK_KIT_ERRORS = {"invalid_blocks", "msg_too_long", "too_many_attachments", "invalid_arguments", "view_too_large"}
_BUTTON_CONTAINERS = ("elements", "accessory")


def refusal(error: str, messages: list[str]) -> SlackMethodError:
    """Slack's answer to a payload past its limits: the error plus what failed, in `response_metadata.messages`."""
    logged = [f"[ERROR] {message}" for message in messages]
    if error == "invalid_blocks":
        return SlackMethodError(error, errors=list(messages), response_metadata={"messages": logged})
    return SlackMethodError(error, response_metadata={"messages": logged})


def message_content(args: Json, *, partial: bool = False) -> Json:
    """text/blocks/attachments of a request; `partial` (chat.update) leaves out what the caller left out."""
    content: Json = {}
    if "text" in args or not partial:
        content["text"] = str(args.get("text") or "")
    for name in ("blocks", "attachments"):
        if name not in args:
            continue
        value = json_arg(args, name, f"invalid_{name}")
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, dict) for v in value)):
            raise SlackMethodError(f"invalid_{name}")
        content[name] = value or None
    check_message_limits(content)
    return content


def check_message_limits(content: Json) -> None:
    """Refuse message content (text, blocks, attachments) past Slack's limits, as chat.* and response_urls do."""
    attachments = content.get("attachments")
    if isinstance(attachments, list) and len(attachments) > MAX_ATTACHMENTS:
        raise SlackMethodError("too_many_attachments")
    blocks = content.get("blocks") or []
    errors = block_errors(blocks, "/blocks", MESSAGE_MAX_BLOCKS)
    if errors:
        raise refusal("invalid_blocks", errors)
    if not (content.get("text") or blocks or content.get("attachments")):
        raise SlackMethodError("no_text")
    if len(content.get("text") or "") > TEXT_MAX_CHARS:
        raise SlackMethodError("msg_too_long")


def home_view(args: Json) -> Json:
    """The `view` argument of views.publish: an App Home view within Slack's limits (100 blocks)."""
    view = json_arg(args, "view", "invalid_arguments")
    if not isinstance(view, dict) or view.get("type") != "home" or not isinstance(view.get("blocks"), list):
        raise SlackMethodError("invalid_arguments")
    if len(json.dumps(view)) > VIEW_MAX_BYTES:
        raise SlackMethodError("view_too_large")
    errors = block_errors(view["blocks"], "/view/blocks", SURFACE_MAX_BLOCKS)
    for name, limit in VIEW_FIELD_LIMITS.items():
        value = view.get(name)
        if isinstance(value, str) and len(value) > limit:
            errors.append(f"must be less than {limit + 1} characters [json-pointer:/view/{name}]")
    if errors:
        raise refusal("invalid_arguments", errors)
    return view


def find_button(message: Json, action_id: str) -> tuple[str | None, Json]:
    """The (block_id, element) of the button with `action_id` in a message's blocks; (None, {}) if it has none."""
    for block in message.get("blocks", []):
        for container in _BUTTON_CONTAINERS:
            elements = block.get(container)
            elements = elements if isinstance(elements, list) else [elements] if elements else []
            for element in elements:
                if isinstance(element, dict) and element.get("action_id") == action_id:
                    return block.get("block_id"), element
    return None, {}
