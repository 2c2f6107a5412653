"""Draw one metric's chart as a PNG: the program selfreg starts to draw a chart for Slack.

``python -m common.png_chart`` reads a chart as JSON on stdin and writes the PNG to stdout;
it exits 2 with the reason on stderr when the chart cannot be drawn. selfreg runs it as a
short-lived child process, so the drawing's memory is never selfreg's.

The picture is drawn on a small RGB ``Canvas`` (rectangles, lines, squares) written as PNG
with nothing but ``zlib`` and ``struct``: matplotlib would draw the same chart for about 60 MB
of imports and a second of start-up, in a process started only to draw one picture.

The JSON: ``start``, ``end`` (the time axis), ``points`` [[t, v]...] or ``bands``
[[t, low, mean, high]...], ``limits`` [[name, value]...] (``warning`` / ``critical``),
``anomalies`` [[t, v]...], ``span`` [opened, ended] (the incident, shaded), ``forecast``
[[t, v, half-width]...], optional ``width`` and ``height``.
"""

from __future__ import annotations

import itertools
import json
import struct
import sys
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# ---- a small RGB canvas that writes PNG -------------------------------------------------
Color = tuple[int, int, int]


class Canvas:
    """A ``width`` x ``height`` picture filled with ``background``."""

    def __init__(self, width: int, height: int, background: Color = (255, 255, 255)) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def set(self, x: int, y: int, color: Color) -> None:
        """Colour one pixel; outside the canvas is ignored."""
        if 0 <= x < self.width and 0 <= y < self.height:
            at = (y * self.width + x) * 3
            self.pixels[at : at + 3] = bytes(color)

    def get(self, x: int, y: int) -> Color:
        at = (y * self.width + x) * 3
        r, g, b = self.pixels[at : at + 3]
        return (r, g, b)

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        """Fill the rectangle between two corners (both included), clipped to the canvas."""
        left, right = max(0, min(x0, x1)), min(self.width - 1, max(x0, x1))
        top, bottom = max(0, min(y0, y1)), min(self.height - 1, max(y0, y1))
        if left > right or top > bottom:
            return
        row = bytes(color) * (right - left + 1)
        for y in range(top, bottom + 1):
            at = (y * self.width + left) * 3
            self.pixels[at : at + len(row)] = row

    def line(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        color: Color,
        width: int = 1,
        dash: tuple[int, int] | None = None,
    ) -> None:
        """A straight line ``width`` pixels thick; ``dash`` = (on, off) lengths in pixels."""
        steps = max(1, int(max(abs(x1 - x0), abs(y1 - y0))))
        half = width // 2
        for i in range(steps + 1):
            if dash and i % (dash[0] + dash[1]) >= dash[0]:
                continue
            x = round(x0 + (x1 - x0) * i / steps)
            y = round(y0 + (y1 - y0) * i / steps)
            if width == 1:
                self.set(x, y, color)
            else:
                self.rect(x - half, y - half, x - half + width - 1, y - half + width - 1, color)

    def polyline(self, points: list[tuple[float, float]], color: Color, width: int = 1) -> None:
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            self.line(x0, y0, x1, y1, color, width)

    def square(self, x: float, y: float, size: int, color: Color) -> None:
        """An outlined square of side ``size`` centred on (x, y): a mark."""
        h = size // 2
        cx, cy = round(x), round(y)
        for a, b, c, d in ((-h, -h, h, -h), (-h, h, h, h), (-h, -h, -h, h), (h, -h, h, h)):
            self.line(cx + a, cy + b, cx + c, cy + d, color, 2)

    def png(self) -> bytes:
        """The picture as a PNG file (8-bit RGB, no filtering, zlib level 6)."""
        stride = self.width * 3
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * stride : (y + 1) * stride]) for y in range(self.height)
        )
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 6))
            + _chunk(b"IEND", b"")
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def read_png(data: bytes) -> Canvas:
    """Decode a PNG this module wrote (8-bit RGB, filter 0): for tests and checks."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    at, width, height, idat = 8, 0, 0, b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    raw = zlib.decompress(idat)
    canvas = Canvas(width, height)
    stride = width * 3
    for y in range(height):
        row = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        if row[0] != 0:
            raise ValueError("only unfiltered rows are read")
        canvas.pixels[y * stride : (y + 1) * stride] = row[1:]
    return canvas


# ---- the chart -------------------------------------------------------------------------
MARGIN = 12

# 3 x 5 glyphs for the numbers written on the chart, each row three bits, top first
GLYPHS = {
    "0": (7, 5, 5, 5, 7), "1": (2, 6, 2, 2, 7), "2": (7, 1, 7, 4, 7), "3": (7, 1, 7, 1, 7),
    "4": (5, 5, 7, 1, 1), "5": (7, 4, 7, 1, 7), "6": (7, 4, 7, 5, 7), "7": (7, 1, 1, 1, 1),
    "8": (7, 5, 7, 5, 7), "9": (7, 5, 7, 1, 7), ".": (0, 0, 0, 0, 2), "-": (0, 0, 7, 0, 0),
    "+": (0, 2, 7, 2, 0), "e": (0, 7, 7, 4, 7), ":": (0, 2, 0, 2, 0), " ": (0, 0, 0, 0, 0),
}  # fmt: skip
SCALE = 2
"""Pixels per glyph dot: 6 x 10 pixels a character."""


def text(canvas: Canvas, x: int, y: int, words: str, color: Color) -> None:
    """Write ``words`` (digits and ``.-+e: ``) with its top-left corner at (x, y)."""
    for i, char in enumerate(words):
        for row, bits in enumerate(GLYPHS.get(char, GLYPHS[" "])):
            for col in range(3):
                if bits & (4 >> col):
                    left, top = x + (i * 4 + col) * SCALE, y + row * SCALE
                    canvas.rect(left, top, left + SCALE - 1, top + SCALE - 1, color)


COLORS = {
    "frame": (200, 205, 212),
    "plot": (248, 249, 251),
    "span": (253, 226, 226),
    "band": (200, 222, 248),
    "value": (9, 105, 218),
    "warning": (191, 135, 0),
    "critical": (207, 34, 46),
    "forecast": (110, 118, 129),
    "interval": (228, 231, 235),
    "anomaly": (130, 80, 223),
}


class ChartError(ValueError):
    """Why a chart cannot be drawn (said in the thread instead of a picture)."""


@dataclass(frozen=True, slots=True)
class Layout:
    """Where values land: the plot's box in pixels and the time and value ranges it shows."""

    left: int
    top: int
    right: int
    bottom: int
    t0: float
    t1: float
    v0: float
    v1: float

    def x(self, t: float) -> float:
        return self.left + (t - self.t0) / (self.t1 - self.t0) * (self.right - self.left)

    def y(self, v: float) -> float:
        return self.top + (self.v1 - v) / (self.v1 - self.v0) * (self.bottom - self.top)


def layout(spec: Mapping[str, Any]) -> Layout:
    """The layout ``render`` uses for ``spec`` (tests find a threshold's row with it)."""
    width, height = int(spec.get("width", 800)), int(spec.get("height", 300))
    values = [p[1] for p in spec.get("points", [])]
    values += [b[1] for b in spec.get("bands", [])] + [b[3] for b in spec.get("bands", [])]
    if not values:
        raise ChartError("no samples in the chart's range")
    values += [float(limit[1]) for limit in spec.get("limits", [])]
    values += [f[1] + f[2] for f in spec.get("forecast", [])]
    values += [f[1] - f[2] for f in spec.get("forecast", [])]
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or 1.0
    t0, t1 = float(spec["start"]), float(spec["end"])
    if t1 <= t0:
        raise ChartError("the chart's range is empty")
    return Layout(MARGIN, MARGIN, width - MARGIN, height - MARGIN, t0, t1, low - pad, high + pad)


def render(spec: Mapping[str, Any]) -> bytes:
    """The chart of ``spec`` as PNG bytes; raises ``ChartError`` when it cannot be drawn."""
    at = layout(spec)
    canvas = Canvas(int(spec.get("width", 800)), int(spec.get("height", 300)))
    canvas.rect(at.left - 1, at.top - 1, at.right + 1, at.bottom + 1, COLORS["frame"])
    canvas.rect(at.left, at.top, at.right, at.bottom, COLORS["plot"])
    if span := spec.get("span"):
        x0, x1 = at.x(max(at.t0, span[0])), at.x(min(at.t1, span[1]))
        canvas.rect(round(x0), at.top, round(x1), at.bottom, COLORS["span"])
    _bands(canvas, at, spec.get("bands", []))
    _forecast(canvas, at, spec.get("forecast", []))
    line = spec.get("points") or [(b[0], b[2]) for b in spec.get("bands", [])]
    canvas.polyline([(at.x(t), at.y(v)) for t, v in line], COLORS["value"], 2)
    for name, value in spec.get("limits", []):
        y = round(at.y(float(value)))
        color = COLORS.get(name, COLORS["critical"])
        canvas.line(at.left, y, at.right, y, color, 1, dash=(8, 4))
    for t, v in spec.get("anomalies", []):
        canvas.square(at.x(t), at.y(v), 9, COLORS["anomaly"])
    _labels(canvas, at, spec.get("limits", []))
    return canvas.png()


def _labels(canvas: Canvas, at: Layout, limits: Sequence[Sequence[Any]]) -> None:
    """The value range at the left edge, each threshold's value at the right end of its line."""
    text(canvas, at.left + 4, at.top + 4, f"{at.v1:.4g}", COLORS["forecast"])
    text(canvas, at.left + 4, at.bottom - 14, f"{at.v0:.4g}", COLORS["forecast"])
    for name, value in limits:
        label = f"{float(value):.4g}"
        line = round(at.y(float(value)))
        y = line - 13 if line - 13 >= at.top + 2 else line + 4  # above its line, else below
        x = at.right - 4 - len(label) * 4 * SCALE
        text(canvas, x, y, label, COLORS.get(name, COLORS["critical"]))


def _bands(canvas: Canvas, at: Layout, bands: Sequence[Sequence[float]]) -> None:
    for i, (t, low, _, high) in enumerate(bands):
        nxt = bands[i + 1] if i + 1 < len(bands) else None
        x0 = round(at.x(t))
        x1 = round(at.x(nxt[0])) if nxt else x0 + 1
        canvas.rect(x0, round(at.y(high)), max(x0, x1 - 1), round(at.y(low)), COLORS["band"])


def _forecast(canvas: Canvas, at: Layout, ahead: Sequence[Sequence[float]]) -> None:
    if not ahead:
        return
    for (t0, v0, w0), (t1, v1, w1) in itertools.pairwise(ahead):
        for x in range(round(at.x(t0)), round(at.x(t1)) + 1):
            share = (x - at.x(t0)) / max(1.0, at.x(t1) - at.x(t0))
            v, w = v0 + (v1 - v0) * share, w0 + (w1 - w0) * share
            canvas.rect(x, round(at.y(v + w)), x, round(at.y(v - w)), COLORS["interval"])
        canvas.line(at.x(t0), at.y(v0), at.x(t1), at.y(v1), COLORS["forecast"], 2, dash=(6, 4))


def main() -> int:
    """Read the chart on stdin, write the PNG to stdout; exit 2 with the reason if it fails."""
    try:
        spec = json.load(sys.stdin)
        data = render(spec)
    except (ChartError, ValueError, KeyError, TypeError, IndexError) as exc:
        print(str(exc) or type(exc).__name__, file=sys.stderr)
        return 2
    sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
