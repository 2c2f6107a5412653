"""Reading what a Nagios-compatible plugin prints, by the Monitoring Plugins guidelines.

A plugin's output is ``TEXT | PERFDATA`` on the first line, then optional long text lines;
the first later line holding a ``|`` starts more performance data, which may go on over the
lines after it::

    DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968
    / 15272 MB (77%);
    /boot 68 MB (69%); | /boot=68MB;88;93;0;98
    /home=69357MB;253404;253409;0;253414

A performance datum is ``'label'=value[UOM];[warn];[crit];[min];[max]``, separated by
spaces. A label holding spaces or ``=`` is quoted with single quotes (a quote inside is
written twice); the value may be ``U`` (could not be determined); UOM is empty (a number),
``s``/``ms``/``us``, ``%``, ``B``/``KB``/``MB``/``GB``/``TB`` or ``c`` (a counter).
Times are turned into seconds and sizes into bytes (1 KB = 1024 B, as the Monitoring
Plugins count), so a metric keeps one unit whatever the plugin printed; ``%`` and ``c``
stay as they are. The thresholds and bounds are kept as written (they may be ranges such
as ``@10:20``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_DATUM = re.compile(
    r"""\s*(?:'(?P<quoted>(?:[^']|'')+)'|(?P<label>[^\s'=]+))
        =(?P<value>U|[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
        (?P<uom>[a-zA-Z%]*)
        (?P<rest>(?:;[^;\s]*){0,4})""",
    re.VERBOSE,
)
_FACTOR = {
    "": 1.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "%": 1.0,
    "b": 1.0,
    "kb": 1024.0,
    "mb": 1024.0**2,
    "gb": 1024.0**3,
    "tb": 1024.0**4,
    "c": 1.0,
}


@dataclass(frozen=True, slots=True)
class PerfDatum:
    """One performance datum; ``value`` in seconds or bytes when the plugin gave a time or a
    size, None for ``U``. ``uom`` is the unit as printed."""

    label: str
    value: float | None
    uom: str = ""
    warn: str = ""
    crit: str = ""
    min: str = ""
    max: str = ""


@dataclass(frozen=True, slots=True)
class PluginOutput:
    """A plugin's output taken apart: the summary line, long text and performance data."""

    summary: str
    long_text: list[str] = field(default_factory=list)
    perfdata: list[PerfDatum] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    """Performance data text that does not follow the format (reported, never fatal)."""


def parse_output(text: str) -> PluginOutput:
    """Split a plugin's standard output into summary, long text and performance data."""
    lines = text.splitlines()
    first = lines[0] if lines else ""
    summary, _, perf_texts = first.partition("|")
    perf = [perf_texts]
    long_text: list[str] = []
    in_perf = False
    for line in lines[1:]:
        if in_perf:
            perf.append(line)
            continue
        words, bar, more = line.partition("|")
        if words.strip():
            long_text.append(words.rstrip())
        if bar:
            in_perf = True
            perf.append(more)
    data: list[PerfDatum] = []
    malformed: list[str] = []
    for chunk in perf:
        found, bad = parse_perfdata(chunk)
        data += found
        malformed += bad
    return PluginOutput(
        summary=summary.strip(), long_text=long_text, perfdata=data, malformed=malformed
    )


def parse_perfdata(text: str) -> tuple[list[PerfDatum], list[str]]:
    """Every datum in ``text``, and the pieces that are not one."""
    data: list[PerfDatum] = []
    malformed: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        match = _DATUM.match(text, pos)
        end = match.end() if match else len(text)
        if match and (end == len(text) or text[end].isspace()):
            datum = _datum(match)
            if datum is None:
                malformed.append(match.group(0).strip())
            else:
                data.append(datum)
        else:
            end = _next_space(text, pos)
            malformed.append(text[pos:end])
        pos = end
    return data, malformed


def _datum(match: re.Match[str]) -> PerfDatum | None:
    """The datum a match describes; None when its unit is not one of the guidelines'."""
    uom = match.group("uom")
    factor = _FACTOR.get(uom.lower())
    if factor is None:
        return None
    label = match.group("quoted")
    label = label.replace("''", "'") if label is not None else match.group("label")
    raw = match.group("value")
    value = None if raw == "U" else float(raw) * factor
    limits = [*match.group("rest").split(";")[1:], "", "", "", ""][:4]
    return PerfDatum(label, value, uom, *limits)


def _next_space(text: str, pos: int) -> int:
    """Where the word starting at ``pos`` ends (a quoted label may hold spaces)."""
    if text[pos] == "'":
        close = text.find("'", pos + 1)
        while close != -1 and text[close + 1 : close + 2] == "'":
            close = text.find("'", close + 2)
        pos = close + 1 if close != -1 else len(text)
    space = re.compile(r"\s").search(text, pos)
    return space.start() if space else len(text)
