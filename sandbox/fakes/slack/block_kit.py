"""Block Kit as Slack enforces it: message content limits, the App Home view shape, and finding a clicked button."""

from __future__ import annotations

from sandbox.fakes.slack.arguments import Json, SlackMethodError, json_arg

TEXT_MAX_CHARS = 40_000
MAX_BLOCKS = 50
HOME_MAX_BLOCKS = 100
_BUTTON_CONTAINERS = ("elements", "accessory")


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
    blocks = content.get("blocks") or []
    if len(blocks) > MAX_BLOCKS or any("type" not in block for block in blocks):
        raise SlackMethodError("invalid_blocks")
    if not (content.get("text") or blocks or content.get("attachments")):
        raise SlackMethodError("no_text")
    if len(content.get("text") or "") > TEXT_MAX_CHARS:
        raise SlackMethodError("msg_too_long")
    return content


def home_view(args: Json) -> Json:
    """The `view` argument of views.publish, which must be an App Home view of at most 100 blocks."""
    view = json_arg(args, "view", "invalid_arguments")
    if not isinstance(view, dict) or view.get("type") != "home" or not isinstance(view.get("blocks"), list):
        raise SlackMethodError("invalid_arguments")
    if len(view["blocks"]) > HOME_MAX_BLOCKS:
        raise SlackMethodError("invalid_arguments")
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
