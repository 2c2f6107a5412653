"""Units an operator writes in selfreg.toml: durations, percentages and byte sizes.

They live in the top-level package ``common`` because every part of selfreg reads them: the
plugin packages (checks, actions, models), which may not import ``bot``, and the core config,
messages, CLI and Slack. Each is a pydantic ``Annotated`` type, so a bad value is rejected
with its key path by the config loader. ``format_duration`` and ``format_size`` write values
back for people; durations in one of two documented styles (see ``format_duration``).

Bytes are written in three styles, each asserted word for word by tests, and no two give the
same text for every size, so each stays where it is used:

- ``format_size`` here: config notation, ``"512MB"``, ``"1.5kB"`` (cleanup summaries, the
  config reference);
- ``bot.messages.file_size``: one decimal and a space, up to GB, ``"2.0 kB"``, ``"29.3 MB"``
  (backups);
- ``checks.system.human_bytes``: whole numbers from 10 up, up to TB, ``"29 GB"``,
  ``"1.2 kB"`` (the system check's summaries).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, PlainSerializer

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)
_SIZE_FACTOR = {"": 1, "b": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}


def parse_duration(value: object) -> float:
    """Return seconds for ``"30s"``, ``"5m"``, ``"1h30m"``, ``"250ms"`` or a bare number.

    Raises ``ValueError`` with the accepted forms when the text is not a duration.
    """
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '30s', '5m' or '1h'")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if not isinstance(value, str):
        raise ValueError("expected a duration such as '30s', '5m' or '1h'")
    text = value.strip().lower().replace(" ", "")
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_SECONDS[match.group(2)]
        pos = match.end()
    if not text or pos != len(text):
        raise ValueError("expected a duration such as '30s', '5m' or '1h'")
    return total


DurationStyle = Literal["config", "sentence"]
"""How ``format_duration`` writes a duration; see there."""

_DURATION_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def format_duration(seconds: float, style: DurationStyle = "config") -> str:
    """Render seconds for people, in one of two styles, both asserted word for word:

    - ``"config"`` (the default): the way an operator writes it in selfreg.toml, so it reads
      back with ``parse_duration``: every unit, no spaces, milliseconds under a second:
      ``90`` -> ``"1m30s"``, ``0.25`` -> ``"250ms"``, ``604800`` -> ``"7d"``. Used next to
      configured values: timeouts, ages, budgets, a run's length.
    - ``"sentence"``: for a sentence about elapsed time (how long an incident was open, an
      uptime, a prediction's horizon): the two largest units, spaced, whole seconds (negatives
      as 0): ``252`` -> ``"4 m 12 s"``, ``7500`` -> ``"2 h 5 m"``, ``0.4`` -> ``"0 s"``.
    """
    sentence = style == "sentence"
    if not sentence and seconds != 0 and round(seconds * 1000) < 1000:  # 0.9996: "1s"
        return f"{round(seconds * 1000)}ms"
    rest = max(round(seconds), 0)
    parts = []
    for unit, size in _DURATION_UNITS:
        if rest >= size:
            count, rest = divmod(rest, size)
            parts.append(f"{count} {unit}" if sentence else f"{count}{unit}")
            if sentence and len(parts) == 2:
                break
    if sentence:
        return " ".join(parts) or "0 s"
    return "".join(parts) or "0s"


def parse_percent(value: object) -> float:
    """Return a percentage (0-100) for ``"80%"`` or a bare number."""
    if isinstance(value, bool):
        raise ValueError("expected a percentage such as '80%'")
    if isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
        try:
            number = float(text)
        except ValueError:
            raise ValueError("expected a percentage such as '80%'") from None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise ValueError("expected a percentage such as '80%'")
    if not 0 <= number <= 100:
        raise ValueError("a percentage lies between 0% and 100%")
    return number


def parse_size(value: object) -> float:
    """Return bytes for ``"512MB"``, ``"2GiB"``, ``"100k"`` or a bare number of bytes."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as '512MB'")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not (match := _SIZE.match(value)):
        raise ValueError("expected a size such as '512MB' or '2GiB'")
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    binary = "i" in unit
    letter = unit[:1] if unit not in ("b", "") else ""
    factor = 1024 ** "kmgt".index(letter) * 1024 if binary and letter else _SIZE_FACTOR[letter]
    return number * factor


def format_size(size: float) -> str:
    """Render bytes the way an operator writes them: ``512000000`` -> ``"512MB"``."""
    for unit, factor in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= factor:
            return f"{size / factor:g}{unit}"
    return f"{size:g}B"


def _serialize_duration(seconds: float) -> str:
    return format_duration(seconds)


Duration = Annotated[
    float, BeforeValidator(parse_duration), PlainSerializer(_serialize_duration, return_type=str)
]
"""Seconds, written in config as ``"30s"``, ``"5m"``, ``"1h"``."""

Percent = Annotated[float, BeforeValidator(parse_percent)]
"""A percentage 0-100, written in config as ``"80%"``."""

Size = Annotated[float, BeforeValidator(parse_size)]
"""Bytes, written in config as ``"512MB"`` or ``"2GiB"``."""
