"""What ``selfreg audit verify`` finds, in words: each way a trail can be rewritten is named."""

from __future__ import annotations

from bot.messages.common import plural, utc_time


def audit_link_broken(previous: int) -> str:
    return f"it does not follow row {previous}: a row between them was removed or changed"


def audit_content_changed() -> str:
    return "its content does not match its digest (the row was changed)"


def audit_unkeyed_after_keyed() -> str:
    return "an unkeyed row after the trail was keyed: the chain was rewritten without the key"


def audit_other_key(found: str, ours: str) -> str:
    return (
        f"it was keyed with key {found}, not with this key ({ours}): the chain was rewritten, "
        "or this is not the key it was written with (SELFREG_AUDIT_KEY, or audit.key beside "
        "the store)"
    )


def audit_no_key() -> str:
    return (
        "it is keyed, and no audit key was found to check it: set SELFREG_AUDIT_KEY, or put "
        "back audit.key beside the store"
    )


def audit_truncated(last: int, written_at: float, where: str) -> str:
    end = f"the trail ends at row {last}" if last else "the trail is empty"
    return (
        f"the anchor written {utc_time(written_at)} in {where} names it, and it is gone "
        f"({end}): the newest rows were removed"
    )


def audit_rewritten(written_at: float, where: str) -> str:
    return (
        f"its digest differs from the anchor written {utc_time(written_at)} in {where}: "
        "the chain was rewritten"
    )


def audit_verified(count: int, anchors: int, unkeyed: int) -> str:
    old = f"; {unkeyed} older rows carry unkeyed digests" if unkeyed else ""
    agree = "agrees" if anchors == 1 else "agree"
    checked = f"{plural(anchors, 'anchor')} outside the store {agree}"
    return f"audit trail intact: {plural(count, 'row')} verified, {checked}{old}."


def audit_anchored(row: int, digest: str, why: str) -> str:
    """The log line beside each anchor written outside the store."""
    return f"audit head anchored ({why}): row {row}, digest {digest[:16]}"
