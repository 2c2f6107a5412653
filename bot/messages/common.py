"""The small formatting every audience shares: times, durations, mentions, counts, sizes.

Pure functions with no project imports but the records-free units, so every other messages
module (and the CLI's tables) can build on them.
"""

from __future__ import annotations

import re
import time

from common.units import format_duration


def clock_time(at: float) -> str:
    """Local wall-clock time of day, as the console and tables show it."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def subject_label(check: str, subject: str) -> str:
    """``api-health`` or ``host /data`` for a check's subject."""
    return f"{check} {subject}" if subject else check


def human_duration(seconds: float) -> str:
    """``"4 m 12 s"``, ``"2 h 5 m"``, ``"3 d 4 h"``: the two largest units (the sentence style)."""
    return format_duration(seconds, style="sentence")


def mention_user(actor: str) -> str:
    """A Slack mention for a user id, else the name as given (CLI users, 'selfreg')."""
    return f"<@{actor}>" if actor[:1] in ("U", "W") and actor.isalnum() else actor


_SLACK_MARKUP = re.compile(r"<([@!#])(?:subteam\^)?([^>|]+)(?:\|([^>]*))?>|<([^>|]+)\|([^>]+)>")


def plain_text(text: str) -> str:
    """Slack markup as a terminal shows it: ``<@U1>`` -> ``@U1``, ``<!here>`` -> ``@here``,
    ``<url|label>`` -> ``label (url)``; the console and the CLI print the Slack sentences."""

    def one(match: re.Match[str]) -> str:
        sigil, target, label, url, link_label = match.groups()
        if url is not None:
            return f"{link_label} ({url})"
        if label:
            return f"{'#' if sigil == '#' else '@'}{label}"
        return f"{'#' if sigil == '#' else '@'}{target}"

    return _SLACK_MARKUP.sub(one, text)


def mention(target: str) -> str:
    """Slack mention syntax for user ids, user-group ids and @here / @channel."""
    if target in ("@here", "@channel", "@everyone"):
        return f"<!{target[1:]}>"
    if target.startswith("S") and target.isalnum():
        return f"<!subteam^{target}>"
    return mention_user(target)


def utc_time(at: float) -> str:
    """``2026-03-01 14:05:09 UTC``: mail and webhooks reach people in other time zones."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def error_text(exc: BaseException) -> str:
    """An exception as a reason; some (a bare ``TimeoutError``) have no text of their own."""
    return str(exc) or type(exc).__name__


def file_size(size: int) -> str:
    """Bytes for people: ``2.4 MB``, ``812 kB``, ``90 B``."""
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} B"


def ms(seconds: float) -> str:
    """``"12 ms"`` under a second, ``"1.4 s"`` above: how long a step took."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def plural(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
