"""A stand-in for the seed system's own services, where the real ones are not at hand: the
Python runner (port 5051) and the Node.js server (port 5555) both answer like this.

    python service.py runner 5051

``GET /health`` answers ``{"status": "ok", "service": NAME}``; any other GET answers a line of
text. It runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import sys

from aiohttp import web
from edge import serve


def service_app(name: str) -> web.Application:
    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "service": name})

    async def anything(request: web.Request) -> web.Response:
        return web.Response(text=f"{name} answers {request.path}\n")

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/{tail:.*}", anything)
    return app


if __name__ == "__main__":
    serve({int(sys.argv[2]): service_app(sys.argv[1])})
