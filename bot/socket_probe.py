"""Whether a selfreg answers on a data folder's control socket: the one-instance probe.

Kept apart from ``bot.control`` (the socket's server and client) so that whatever must refuse
to act while selfreg runs (a restore, a second start) can ask without importing the engine.
Imports nothing of the project.
"""

from __future__ import annotations

import socket
from pathlib import Path


def socket_in_use(path: Path) -> bool:
    """True when something accepts connections on the socket at ``path``."""
    if not path.exists():
        return False
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True
