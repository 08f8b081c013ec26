"""Block Kit's limits as Slack enforces them, with Slack's own error messages.

`block_errors` walks a list of blocks and returns what Slack would list in `response_metadata.messages` (without the
"[ERROR] " prefix), e.g. "must be less than 3001 characters [json-pointer:/blocks/0/text/text]". Where a field may
hold one of several schemas (a section's text, an actions element, an accessory), Slack first reports
"failed to match all allowed schemas" at that field, then what failed inside it. Limits are Slack's published ones:
https://docs.slack.dev/reference/block-kit/blocks
https://docs.slack.dev/reference/block-kit/block-elements
https://docs.slack.dev/reference/block-kit/composition-objects
Real answers these messages were checked against: https://github.com/metabase/metabase/issues/74943 (section text),
https://github.com/ryanrosello-og/playwright-slack-report/issues/180 (50 blocks),
https://github.com/adobe/spacecat-api-service/issues/176 (25 actions elements),
https://github.com/getsentry/eng-pipes/issues/725 (10 fields),
https://github.com/grafana-cold-storage/oncall/pull/210 (100 blocks in a view).
"""

from __future__ import annotations

from typing import Any

MESSAGE_MAX_BLOCKS = 50
SURFACE_MAX_BLOCKS = 100  # Home tab and modals
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
SECTION_FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
CONTEXT_TEXT_MAX = 3000
ACTIONS_ELEMENTS_MAX = 25
BLOCK_ID_MAX = 255
ACTION_ID_MAX = 255
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
URL_MAX = 3000
IMAGE_ALT_TEXT_MAX = 2000
IMAGE_TITLE_MAX = 2000
PLACEHOLDER_MAX = 150
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
SELECT_OPTIONS_MAX = 100
OVERFLOW_OPTIONS = (2, 5)
CONFIRM_LIMITS = {"title": 100, "text": 300, "confirm": 30, "deny": 30}
BUTTON_STYLES = ("primary", "danger")
# Block types Slack accepts whose inner limits the fake does not check (nothing in Switchboard sends them).
UNCHECKED_BLOCKS = {"rich_text", "input", "file", "video", "markdown", "table", "call", "context_actions"}
UNION = "failed to match all allowed schemas"
Json = dict[str, Any]


def block_errors(blocks: Any, pointer: str = "/blocks", max_blocks: int = MESSAGE_MAX_BLOCKS) -> list[str]:
    """Every limit `blocks` breaks, in Slack's words; [] when Slack would take them."""
    errors = _Errors()
    if not isinstance(blocks, list):
        errors.add(UNION, pointer)
        return errors.found
    if len(blocks) > max_blocks:
        errors.add(f"no more than {max_blocks} items allowed", pointer)
    for index, block in enumerate(blocks):
        _block(errors, block, f"{pointer}/{index}")
    return errors.found


class _Errors:
    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, message: str, pointer: str) -> None:
        self.found.append(f"{message} [json-pointer:{pointer}]")

    def length(self, value: Any, limit: int, pointer: str, *, required: bool = False) -> bool:
        """Check a string field; False (and the error) if it breaks a limit."""
        if value is None:
            if required:
                self.add(f"missing required field: {pointer.rsplit('/', 1)[-1]}", pointer.rsplit("/", 1)[0])
            return not required
        if not isinstance(value, str):
            self.add("must be a string", pointer)
            return False
        if required and not value:
            self.add("must be more than 0 characters", pointer)
            return False
        if len(value) > limit:
            self.add(f"must be less than {limit + 1} characters", pointer)
            return False
        return True

    def count(self, items: Any, limit: int, pointer: str, *, minimum: int = 1) -> list[Any]:
        """Check an array field; returns its items (or [] when it is not an array)."""
        if not isinstance(items, list):
            self.add(UNION if items is not None else f"missing required field: {pointer.rsplit('/', 1)[-1]}", pointer)
            return []
        if len(items) > limit:
            self.add(f"no more than {limit} items allowed", pointer)
        elif len(items) < minimum:
            self.add(f"must provide at least {minimum} items", pointer)
        return items


def _block(errors: _Errors, block: Any, pointer: str) -> None:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        errors.add("missing required field: type" if isinstance(block, dict) else UNION, pointer)
        return
    errors.length(block.get("block_id"), BLOCK_ID_MAX, f"{pointer}/block_id")
    check = _BLOCKS.get(block["type"])
    if check is not None:
        check(errors, block, pointer)
    elif block["type"] not in UNCHECKED_BLOCKS:
        errors.add(UNION, pointer)  # an unknown block type matches no schema


def _section(errors: _Errors, block: Json, pointer: str) -> None:
    if block.get("text") is None and block.get("fields") is None:
        errors.add("must define either `text` or `fields`", pointer)
    if block.get("text") is not None:
        _text(errors, block["text"], SECTION_TEXT_MAX, f"{pointer}/text", union=True)
    if block.get("fields") is not None:
        fields = errors.count(block["fields"], SECTION_FIELDS_MAX, f"{pointer}/fields")
        for index, field in enumerate(fields):
            _text(errors, field, SECTION_FIELD_TEXT_MAX, f"{pointer}/fields/{index}", union=True)
    if block.get("accessory") is not None:
        _element(errors, block["accessory"], f"{pointer}/accessory")


def _header(errors: _Errors, block: Json, pointer: str) -> None:
    _text(errors, block.get("text"), HEADER_TEXT_MAX, f"{pointer}/text", plain_only=True)


def _context(errors: _Errors, block: Json, pointer: str) -> None:
    elements = errors.count(block.get("elements"), CONTEXT_ELEMENTS_MAX, f"{pointer}/elements")
    for index, element in enumerate(elements):
        at = f"{pointer}/elements/{index}"
        if isinstance(element, dict) and element.get("type") == "image":
            _image_fields(errors, element, at, union=True)
        else:
            _text(errors, element, CONTEXT_TEXT_MAX, at, union=True)


def _actions(errors: _Errors, block: Json, pointer: str) -> None:
    elements = errors.count(block.get("elements"), ACTIONS_ELEMENTS_MAX, f"{pointer}/elements")
    for index, element in enumerate(elements):
        _element(errors, element, f"{pointer}/elements/{index}")


def _divider(errors: _Errors, block: Json, pointer: str) -> None:
    pass  # nothing to limit but its block_id


def _image(errors: _Errors, block: Json, pointer: str) -> None:
    _image_fields(errors, block, pointer, union=False)
    if block.get("title") is not None:
        _text(errors, block["title"], IMAGE_TITLE_MAX, f"{pointer}/title", plain_only=True)


_BLOCKS = {
    "section": _section,
    "header": _header,
    "context": _context,
    "actions": _actions,
    "divider": _divider,
    "image": _image,
}


def _text(
    errors: _Errors, obj: Any, limit: int, pointer: str, *, union: bool = False, plain_only: bool = False
) -> None:
    """A text object (plain_text or mrkdwn; plain_text only where `plain_only`)."""
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if obj is None:
        errors.add(f"missing required field: {pointer.rsplit('/', 1)[-1]}", pointer.rsplit("/", 1)[0])
        return
    if not isinstance(obj, dict) or obj.get("type") not in allowed:
        errors.add(UNION, pointer)
        return
    inner = _Errors()
    inner.length(obj.get("text"), limit, f"{pointer}/text", required=True)
    _report(errors, inner, pointer, union)


def _image_fields(errors: _Errors, obj: Json, pointer: str, *, union: bool) -> None:
    inner = _Errors()
    if obj.get("slack_file") is None:
        inner.length(obj.get("image_url"), URL_MAX, f"{pointer}/image_url", required=True)
    inner.length(obj.get("alt_text"), IMAGE_ALT_TEXT_MAX, f"{pointer}/alt_text", required=True)
    _report(errors, inner, pointer, union)


def _element(errors: _Errors, element: Any, pointer: str) -> None:
    """An interactive element in an actions block or a section's accessory: always a union of schemas."""
    inner = _Errors()
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        errors.add(UNION, pointer)
        return
    inner.length(element.get("action_id"), ACTION_ID_MAX, f"{pointer}/action_id")
    kind = element["type"]
    if kind == "button":
        _text(inner, element.get("text"), BUTTON_TEXT_MAX, f"{pointer}/text", plain_only=True)
        inner.length(element.get("value"), BUTTON_VALUE_MAX, f"{pointer}/value")
        inner.length(element.get("url"), URL_MAX, f"{pointer}/url")
        inner.length(element.get("accessibility_label"), BUTTON_TEXT_MAX, f"{pointer}/accessibility_label")
        if element.get("style") is not None and element["style"] not in BUTTON_STYLES:
            inner.add(f"must be one of {list(BUTTON_STYLES)}", f"{pointer}/style")
    elif kind == "image":
        _image_fields(inner, element, pointer, union=False)
    elif kind == "overflow" or (kind in ("static_select", "multi_static_select") and "option_groups" not in element):
        low, high = OVERFLOW_OPTIONS if kind == "overflow" else (1, SELECT_OPTIONS_MAX)
        options = inner.count(element.get("options"), high, f"{pointer}/options", minimum=low)
        for index, option in enumerate(options):
            _option(inner, option, f"{pointer}/options/{index}")
    if element.get("placeholder") is not None:
        _text(inner, element["placeholder"], PLACEHOLDER_MAX, f"{pointer}/placeholder", plain_only=True)
    if element.get("confirm") is not None:
        _confirm(inner, element["confirm"], f"{pointer}/confirm")
    _report(errors, inner, pointer, union=True)


def _option(errors: _Errors, option: Any, pointer: str) -> None:
    if not isinstance(option, dict):
        errors.add(UNION, pointer)
        return
    _text(errors, option.get("text"), OPTION_TEXT_MAX, f"{pointer}/text", union=True)
    errors.length(option.get("value"), OPTION_VALUE_MAX, f"{pointer}/value", required=True)


def _confirm(errors: _Errors, confirm: Any, pointer: str) -> None:
    if not isinstance(confirm, dict):
        errors.add(UNION, pointer)
        return
    for name, limit in CONFIRM_LIMITS.items():  # all four are required; only `text` may be mrkdwn
        _text(errors, confirm.get(name), limit, f"{pointer}/{name}", union=name == "text", plain_only=name != "text")


def _report(errors: _Errors, inner: _Errors, pointer: str, union: bool) -> None:
    """Copy what failed inside a field, first saying the field matched none of its schemas if it has several."""
    if inner.found and union:
        errors.add(UNION, pointer)
    errors.found.extend(inner.found)
