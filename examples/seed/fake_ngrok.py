"""A stand-in ngrok agent for the seed example and the tests: one tunnel, no ngrok account.

    python fake_ngrok.py --api-port 4040 --edge-port 4041 --name runner \
        --public-url https://runner-seed.ngrok-free.app --upstream http://127.0.0.1:5051

It serves the agent's local API on --api-port in the shapes a real v3 agent answers
(``GET /api/tunnels``, ``/api/tunnels/NAME``, ``/api/status``), and plays the ngrok edge on
--edge-port: every request is forwarded to --upstream, and an upstream that refuses is
answered 502 with ``ngrok-error-code: ERR_NGROK_8012``, as ngrok does. The ngrok check reaches
that edge through ``probe.probe_origin``. With a real agent (``ngrok http 5051``) drop the
``probe_origin`` and the component's command is ``["ngrok", "http", "5051"]``.
"""

from __future__ import annotations

import argparse

from aiohttp import web
from edge import edge_app, serve


def tunnel(args: argparse.Namespace, hits: list[int]) -> dict[str, object]:
    """The tunnel object of ``GET /api/tunnels`` (ngrok agent API, v3)."""
    zero = {"count": 0, "gauge": 0, "rate1": 0, "rate5": 0, "rate15": 0, "p50": 0, "p90": 0}
    return {
        "name": args.name,
        "ID": "5eed" * 8,
        "uri": f"/api/tunnels/{args.name}",
        "public_url": args.public_url,
        "proto": args.public_url.split("://", 1)[0],
        "config": {"addr": args.upstream, "inspect": True},
        "metrics": {"conns": {**zero, "count": hits[0]}, "http": {**zero, "count": hits[0]}},
    }


def api_app(args: argparse.Namespace, hits: list[int]) -> web.Application:
    async def tunnels(_: web.Request) -> web.Response:
        return web.json_response({"tunnels": [tunnel(args, hits)], "uri": "/api/tunnels"})

    async def one(request: web.Request) -> web.Response:
        if request.match_info["name"] != args.name:
            body = {"error_code": 100, "status_code": 404, "msg": "tunnel not found"}
            return web.json_response(body, status=404)
        return web.json_response(tunnel(args, hits))

    async def status(_: web.Request) -> web.Response:
        legs = [{"region": "us", "latency": "1ms"}]
        body = {"status": "online", "agent_version": "3-standin", "session": {"legs": legs}}
        return web.json_response({**body, "uri": "/api/status"})

    app = web.Application()
    app.router.add_get("/api/tunnels", tunnels)
    app.router.add_get("/api/tunnels/{name}", one)
    app.router.add_get("/api/status", status)
    return app


def refused(target: str) -> web.Response:
    text = f"The agent failed to establish a connection to the upstream {target}. ERR_NGROK_8012"
    return web.Response(status=502, text=text, headers={"ngrok-error-code": "ERR_NGROK_8012"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-port", type=int, default=4040)
    parser.add_argument("--edge-port", type=int, default=4041)
    parser.add_argument("--name", default="runner")
    parser.add_argument("--public-url", default="https://runner-seed.ngrok-free.app")
    parser.add_argument("--upstream", default="http://127.0.0.1:5051")
    args, _ = parser.parse_known_args()  # extra words (a test's marker) are ignored
    hits = [0, 0]
    edge = edge_app(args.upstream, refused, hits)
    serve({args.api_port: api_app(args, hits), args.edge_port: edge})


if __name__ == "__main__":
    main()
