"""A small RGB canvas that writes PNG: rectangles, lines (solid or dashed) and squares.

Enough for a line chart, with nothing but ``zlib`` and ``struct``: matplotlib would draw the
same chart for about 60 MB of imports and a second of start-up, in a process started only to
draw one picture. Pixels are (r, g, b) tuples; (0, 0) is the top-left corner.
"""

from __future__ import annotations

import struct
import zlib

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
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
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
