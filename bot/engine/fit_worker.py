"""The fit worker's own side: ``python -m bot.engine.fit_worker`` (``bot.engine.predict.fit``).

It reads calls from stdin and writes answers to stdout, each a frame: 8 bytes of length
(big-endian) and a pickle. A call is ``(function, args)``; an answer is ``(pid, result,
None)`` or ``(pid, None, traceback text)``. It ends at end-of-file on stdin, which is also
what it sees when selfreg is gone (even after a ``kill -9``): no thread watches the parent.
Pickle is safe here: both ends are selfreg, on a pipe nobody else holds.

Anything a library prints would corrupt the frames, so the answers go to a private copy of
the original stdout and file descriptor 1 is pointed at stderr.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback
from typing import Any, BinaryIO

HEADER = 8


def read_frame(stream: BinaryIO) -> Any | None:
    """The next pickled frame of ``stream``; None at end-of-file."""
    header = stream.read(HEADER)
    if len(header) < HEADER:
        return None
    size = int.from_bytes(header, "big")
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)


def frame(value: Any) -> bytes:
    """``value`` as one frame: its pickle's length, then the pickle."""
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return len(body).to_bytes(HEADER, "big") + body


def answer(call: tuple[Any, tuple[Any, ...]]) -> tuple[int, Any, str | None]:
    """Run one call: (pid, result, None), or (pid, None, the error and its traceback as
    text): unpickling a scikit-learn error in selfreg would import scikit-learn."""
    fit, args = call
    try:
        return os.getpid(), fit(*args), None
    except Exception:
        return os.getpid(), None, traceback.format_exc()


def main() -> None:
    """Answer calls until stdin ends."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    calls = sys.stdin.buffer
    while (call := read_frame(calls)) is not None:
        out.write(frame(answer(call)))
        out.flush()


if __name__ == "__main__":
    main()
