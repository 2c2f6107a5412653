"""A service for remediation tests: it listens on a port, and in its first lives it stops
listening after a moment while staying alive (a hung service that a restart cures).

    python flaky_service.py PORT MARKER_FILE [BREAK_AFTER_SECONDS] [LIVES_THAT_BREAK]

MARKER_FILE gets one line per life: the pid of that life.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time


def serve(sock: socket.socket) -> None:
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        conn.close()


def main() -> None:
    port, marker = int(sys.argv[1]), sys.argv[2]
    break_after = float(sys.argv[3]) if len(sys.argv) > 3 else 1.5
    breaking_lives = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    lives = []
    if os.path.exists(marker):
        with open(marker) as handle:
            lives = handle.read().split()
    first_life = len(lives) < breaking_lives
    with open(marker, "a") as handle:
        handle.write(f"{os.getpid()}\n")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    threading.Thread(target=serve, args=(sock,), daemon=True).start()
    if first_life:
        time.sleep(break_after)
        sock.close()  # hung: alive, but nobody answers any more
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
