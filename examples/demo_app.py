"""A tiny demo service for the example config: healthy, then failing until someone restarts it.

It serves ``/health`` on the given port. For its first 20 seconds it answers 200; from then on
it answers 500 (and logs an ERROR line per request) until it is restarted, which is what the
example's ``restart-demo`` action does once a person approves it (``selfreg approve 1``), so
there is time to read the proposal, watch an escalation step and approve. If nobody does, it
crashes on purpose 150 seconds after its start (exit status 1, a FATAL line): selfreg's
supervisor restarts it at once and the cycle begins again.

``DEMO_HEALTHY_FOR`` and ``DEMO_LIVES_FOR`` (seconds, in the environment selfreg passes to its
components) change the two times, e.g. for a quicker test run. Standard library only, so it
starts fast and uses little memory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEALTHY_FOR = float(os.environ.get("DEMO_HEALTHY_FOR", "20"))
LIVES_FOR = float(os.environ.get("DEMO_LIVES_FOR", "150"))
STARTED = time.monotonic()


def degraded() -> bool:
    return time.monotonic() - STARTED >= HEALTHY_FOR


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
