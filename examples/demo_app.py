"""A tiny demo service for the example config: healthy, then degraded, then it crashes.

It serves ``/health`` on the given port. For its first 30 seconds it answers 200; then it
answers 500 (and logs an ERROR line) for 20 seconds; 60 seconds after start it exits with
status 1, so selfreg's supervisor restarts it and the cycle begins again. A newcomer running
the example sees checks pass, fail, recover and a component restart within about a minute.
Standard library only, so it starts fast and uses little memory.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEALTHY_FOR = 30.0
DEGRADED_FOR = 20.0
LIVES_FOR = 60.0
STARTED = time.monotonic()


def degraded() -> bool:
    age = time.monotonic() - STARTED
    return HEALTHY_FOR <= age < HEALTHY_FOR + DEGRADED_FOR


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/health":
            self.send_error(404)
            return
        bad = degraded()
        if bad:
            print(
                f"{time.strftime('%H:%M:%S')} ERROR database connection pool exhausted", flush=True
            )
        body = json.dumps({"status": "degraded" if bad else "ok"}).encode()
        self.send_response(500 if bad else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8788)
    parser.add_argument("--lives-for", type=float, default=LIVES_FOR)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"demo service on http://127.0.0.1:{args.port}/health", flush=True)
    time.sleep(args.lives_for)
    print(f"{time.strftime('%H:%M:%S')} FATAL demo service crashing on purpose", flush=True)
    sys.exit(1)


if __name__ == "__main__":
    main()
