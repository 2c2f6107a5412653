"""A stand-in cloudflared connector for the seed example and the tests: no Cloudflare account.

    python fake_cloudflared.py --metrics-port 20241 --edge-port 20242 \
        --upstream http://127.0.0.1:5555

It serves cloudflared's metrics server on --metrics-port in the shapes cloudflared answers
(``GET /ready``: ``{"status":200,"readyConnections":4,...}``; ``GET /metrics``: Prometheus text
with ``cloudflared_tunnel_ha_connections``, ``cloudflared_tunnel_total_requests`` and
``cloudflared_tunnel_request_errors``; ``GET /quicktunnel``; ``GET /healthcheck``), and plays
the Cloudflare edge on --edge-port: every request is forwarded to --upstream, an upstream that
refuses is a 502 and counts as a request error. The cloudflared check reaches that edge through
``probe.probe_origin``. With a real connector the component's command is
``["cloudflared", "tunnel", "--metrics", "127.0.0.1:20241", "run", "node"]``.
"""

from __future__ import annotations

import argparse

from aiohttp import web
from edge import edge_app, serve

CONNECTOR = "5eed5eed-0000-4000-8000-5eed5eed5eed"


def metrics_text(ha_connections: int, hits: list[int]) -> str:
    """The metrics cloudflared's checks read, named and typed as cloudflared names them."""
    lines = [
        "# HELP cloudflared_tunnel_ha_connections Number of active ha connections",
        "# TYPE cloudflared_tunnel_ha_connections gauge",
        f"cloudflared_tunnel_ha_connections {ha_connections}",
        "# HELP cloudflared_tunnel_total_requests Amount of requests proxied through all the tunnels",
        "# TYPE cloudflared_tunnel_total_requests counter",
        f"cloudflared_tunnel_total_requests {hits[0]}",
        "# HELP cloudflared_tunnel_request_errors Count of error proxying to origin",
        "# TYPE cloudflared_tunnel_request_errors counter",
        f"cloudflared_tunnel_request_errors {hits[1]}",
    ]
    return "\n".join(lines) + "\n"


def metrics_app(ha_connections: int, hits: list[int]) -> web.Application:
    async def ready(_: web.Request) -> web.Response:
        status = 200 if ha_connections > 0 else 503
        body = {"status": status, "readyConnections": ha_connections, "connectorId": CONNECTOR}
        return web.json_response(body, status=status)

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(text=metrics_text(ha_connections, hits), content_type="text/plain")

    async def quicktunnel(_: web.Request) -> web.Response:
        return web.json_response({"hostname": ""})

    async def healthcheck(_: web.Request) -> web.Response:
        return web.Response(text="OK\n")

    app = web.Application()
    app.router.add_get("/ready", ready)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/quicktunnel", quicktunnel)
    app.router.add_get("/healthcheck", healthcheck)
    return app


def refused(_: str) -> web.Response:
    return web.Response(status=502, text="Bad gateway")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics-port", type=int, default=20241)
    parser.add_argument("--edge-port", type=int, default=20242)
    parser.add_argument("--upstream", default="http://127.0.0.1:5555")
    parser.add_argument("--ha-connections", type=int, default=4)
    args, _ = parser.parse_known_args()  # extra words (a test's marker) are ignored
    hits = [0, 0]
    edge = edge_app(args.upstream, refused, hits)
    serve({args.metrics_port: metrics_app(args.ha_connections, hits), args.edge_port: edge})


if __name__ == "__main__":
    main()
