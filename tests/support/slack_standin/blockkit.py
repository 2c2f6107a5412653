"""Server-side Block Kit validator: the limits Slack enforces on `blocks` and views.

Slack rejects a bad payload with `invalid_blocks` and a message ending in a JSON pointer; the
wording here imitates real replies but is not a contract (tests assert the error code only).
Only the rules SLACK-STANDIN.md lists, plus a few equally cheap ones, are checked: this is a
net for the bot's renderer, not a full schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000

BLOCK_TYPES = frozenset(
    {
        "section",
        "divider",
        "image",
        "actions",
        "context",
        "input",
        "header",
        "file",
        "rich_text",
        "video",
        "markdown",
    }
)
ELEMENT_TYPES = frozenset(
    {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "timepicker",
        "overflow",
        "radio_buttons",
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "rich_text_input",
        "file_input",
        "image",
        "workflow_button",
    }
)
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})


class BlocksFormatError(ValueError):
    """`blocks` was not a JSON array of objects: Slack answers `invalid_blocks_format`."""


def parse_blocks(raw: Any) -> list[Any]:
    """Accept blocks as a list or a JSON string (form-encoded calls send a string)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise BlocksFormatError("blocks is not valid JSON") from exc
    if not isinstance(raw, list):
        raise BlocksFormatError("blocks must be an array")
    return raw


def validate_blocks(blocks: list[Any], *, limit: int = MAX_MESSAGE_BLOCKS, base: str = "/blocks"):
    """Return every rule the blocks break, each as `<what> [json-pointer:<where>]`."""
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(_msg(f"no more than {limit} items allowed", base))
    seen_block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"{base}/{i}"
        errors.extend(_check_block(block, where))
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if isinstance(block_id, str):
            if block_id in seen_block_ids:
                errors.append(_msg("duplicate block_id", f"{where}/block_id"))
            seen_block_ids.add(block_id)
    return errors


def error_body(errors: list[str]) -> dict[str, Any]:
    """The `invalid_blocks` reply body for a list of validator messages."""
    return {
        "ok": False,
        "error": "invalid_blocks",
        "errors": errors,
        "response_metadata": {"messages": ["[ERROR] " + e for e in errors]},
    }


def _msg(what: str, where: str) -> str:
    return f"{what} [json-pointer:{where}]"


def _too_long(value: Any, limit: int, where: str) -> Iterator[str]:
    if isinstance(value, str) and len(value) > limit:
        yield _msg(f"must be less than {limit + 1} characters", where)


def _check_block(block: Any, where: str) -> Iterator[str]:
    if not isinstance(block, dict):
        yield _msg("must provide an object", where)
        return
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        yield _msg(f"unsupported type: {kind}", f"{where}/type")
        return
    yield from _too_long(block.get("block_id"), 255, f"{where}/block_id")
    checker = _BLOCK_CHECKS.get(kind)
    if checker is not None:
        yield from checker(block, where)


def _check_text(obj: Any, where: str, *, limit: int, plain_only: bool = False) -> Iterator[str]:
    if not isinstance(obj, dict):
        yield _msg("must provide an object", where)
        return
    kind = obj.get("type")
    if kind not in TEXT_TYPES or (plain_only and kind != "plain_text"):
        allowed = "plain_text" if plain_only else "plain_text or mrkdwn"
        yield _msg(f"must be {allowed}", f"{where}/type")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        yield _msg("must be more than 0 characters", f"{where}/text")
        return
    yield from _too_long(text, limit, f"{where}/text")


def _check_section(block: dict[str, Any], where: str) -> Iterator[str]:
    text, fields = block.get("text"), block.get("fields")
    if text is None and not fields:
        yield _msg("must contain either text or fields", where)
    if text is not None:
        yield from _check_text(text, f"{where}/text", limit=3000)
    if fields is not None:
        if not isinstance(fields, list) or len(fields) > 10:
            yield _msg("no more than 10 items allowed", f"{where}/fields")
        else:
            for j, item in enumerate(fields):
                yield from _check_text(item, f"{where}/fields/{j}", limit=2000)
    if block.get("accessory") is not None:
        yield from _check_element(block["accessory"], f"{where}/accessory")


def _check_header(block: dict[str, Any], where: str) -> Iterator[str]:
    yield from _check_text(block.get("text"), f"{where}/text", limit=150, plain_only=True)


def _check_actions(block: dict[str, Any], where: str) -> Iterator[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        yield _msg("must provide at least 1 item", f"{where}/elements")
        return
    if len(elements) > 25:
        yield _msg("no more than 25 items allowed", f"{where}/elements")
    yield from _check_elements(elements, f"{where}/elements")


def _check_context(block: dict[str, Any], where: str) -> Iterator[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        yield _msg("must provide at least 1 item", f"{where}/elements")
        return
    if len(elements) > 10:
        yield _msg("no more than 10 items allowed", f"{where}/elements")
    for j, item in enumerate(elements):
        if isinstance(item, dict) and item.get("type") == "image":
            continue
        yield from _check_text(item, f"{where}/elements/{j}", limit=3000)


def _check_image(block: dict[str, Any], where: str) -> Iterator[str]:
    if not block.get("image_url") and not block.get("slack_file"):
        yield _msg("must provide image_url or slack_file", where)
    if not block.get("alt_text"):
        yield _msg("must be more than 0 characters", f"{where}/alt_text")
    if block.get("title") is not None:
        yield from _check_text(block["title"], f"{where}/title", limit=2000, plain_only=True)


def _check_input(block: dict[str, Any], where: str) -> Iterator[str]:
    yield from _check_text(block.get("label"), f"{where}/label", limit=2000, plain_only=True)
    if block.get("element") is None:
        yield _msg("must provide an object", f"{where}/element")
    else:
        yield from _check_element(block["element"], f"{where}/element")


def _check_elements(elements: list[Any], where: str) -> Iterator[str]:
    seen: set[str] = set()
    for j, element in enumerate(elements):
        yield from _check_element(element, f"{where}/{j}")
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if isinstance(action_id, str):
            if action_id in seen:
                yield _msg("duplicate action_id", f"{where}/{j}/action_id")
            seen.add(action_id)


def _check_element(element: Any, where: str) -> Iterator[str]:
    if not isinstance(element, dict):
        yield _msg("must provide an object", where)
        return
    kind = element.get("type")
    if kind not in ELEMENT_TYPES:
        yield _msg(f"unsupported type: {kind}", f"{where}/type")
        return
    yield from _too_long(element.get("action_id"), 255, f"{where}/action_id")
    if kind == "button":
        yield from _check_button(element, where)


def _check_button(element: dict[str, Any], where: str) -> Iterator[str]:
    yield from _check_text(element.get("text"), f"{where}/text", limit=75, plain_only=True)
    yield from _too_long(element.get("value"), 2000, f"{where}/value")
    yield from _too_long(element.get("url"), 3000, f"{where}/url")
    style = element.get("style")
    if style is not None and style not in ("primary", "danger"):
        yield _msg("must be one of primary, danger", f"{where}/style")


_BLOCK_CHECKS = {
    "section": _check_section,
    "header": _check_header,
    "actions": _check_actions,
    "context": _check_context,
    "image": _check_image,
    "input": _check_input,
}


def validate_view(view: Any) -> list[str]:
    """Return every rule a modal breaks: title/submit/close, blocks, private_metadata."""
    if not isinstance(view, dict):
        return [_msg("must provide an object", "/view")]
    errors: list[str] = []
    if view.get("type") not in ("modal", "home"):
        errors.append(_msg("must be modal or home", "/view/type"))
    if view.get("type") == "modal" or view.get("title") is not None:
        errors.extend(_check_text(view.get("title"), "/view/title", limit=24, plain_only=True))
    for key in ("submit", "close"):
        if view.get(key) is not None:
            errors.extend(_check_text(view[key], f"/view/{key}", limit=24, plain_only=True))
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        errors.append(_msg("must provide at least 1 item", "/view/blocks"))
    else:
        errors.extend(validate_blocks(blocks, limit=MAX_VIEW_BLOCKS, base="/view/blocks"))
    errors.extend(_too_long(view.get("private_metadata"), 3000, "/view/private_metadata"))
    errors.extend(_too_long(view.get("callback_id"), 255, "/view/callback_id"))
    return errors
