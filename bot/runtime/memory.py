"""Hand freed heap memory back to the operating system (glibc's ``malloc_trim``).

Start-up (imports, config validation, migrations, the first round) and every round after it
allocate and free many small blocks; glibc keeps the freed pages mapped, so the resident
size stays at the high-water mark. ``malloc_trim(0)`` returns the whole free pages of every
arena. Called once selfreg has started and then by the minutely rollup job; it costs well
under a millisecond. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable


@functools.cache
def _libc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` among the symbols already loaded, or None (another C library)."""
    try:
        return ctypes.CDLL(None).malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


def trim_heap() -> None:
    """Return the heap's free pages to the operating system, where the C library can."""
    trim = _libc_trim()
    if trim is not None:
        trim(0)
