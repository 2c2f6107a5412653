"""Check plugins: one module per kind; ``REGISTRY`` maps a config ``kind`` to its class.

Each kind's module is imported the first time the kind is asked for (``common.plugins``), so
a process holds the code of the kinds its config uses and no other; ``specs`` names the kinds
whose config entry model lives apart from their runtime code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.plugins import Registry

if TYPE_CHECKING:
    from checks.base import Check

REGISTRY: Registry[Check] = Registry(
    "checks",
    {
        "alertmanager": "AlertmanagerCheck",
        "cloudflared": "CloudflaredCheck",
        "exec": "ExecCheck",
        "fly": "FlyCheck",
        "http": "HttpCheck",
        "logfile": "LogfileCheck",
        "ngrok": "NgrokCheck",
        "peer": "PeerCheck",
        "process": "ProcessCheck",
        "prometheus": "PrometheusCheck",
        "selfreg": "SelfregCheck",
        "sync": "SyncCheck",
        "system": "SystemCheck",
        "tcp": "TcpCheck",
    },
    specs={"http": "http_spec:HttpSpec", "peer": "peer_spec:PeerSpec"},  # no aiohttp to validate
)
