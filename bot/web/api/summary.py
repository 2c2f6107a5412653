"""``GET /api/v1/health``: the performance summary the original specification asked for.

One document in five parts: ``system`` (this host's CPU, memory, load and the data folder's
disk, selfreg's own process and event-loop lag, and the checks that watch the host),
``components`` (the supervisor's live view), ``external_services`` (every other check: HTTP,
TCP, certificates, Fly, tunnels, Prometheus, ...), ``peers`` (checks of kind ``peer``, present
only when one is configured) and ``alerts`` (open incidents, proposals waiting, silences in
force, deliveries that failed, Slack and the heartbeat). ``overall`` is the worst status seen.
"""

from __future__ import annotations

import os
from typing import Any

import psutil

from bot.store import incidents as incident_rows
from bot.store import proposals as proposal_rows
from bot.web.api.context import ApiContext
from checks.base import Status

HOST_KINDS = frozenset({"system", "process", "selfreg", "logfile"})
"""Check kinds about this host itself; every other kind but ``peer`` is an external service."""


def host_facts(data_dir: os.PathLike[str] | str) -> dict[str, Any]:
    """This host now: CPU (since the previous call), memory, load, the data folder's disk."""
    folder = data_dir if os.path.isdir(data_dir) else "/"
    memory = psutil.virtual_memory()
    return {
        "cpu_percent": psutil.cpu_percent(interval=None),
        "cpu_count": psutil.cpu_count(),
        "memory_percent": memory.percent,
        "memory_available_bytes": memory.available,
        "load": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "disk_percent": psutil.disk_usage(str(folder)).percent,
    }


async def health_summary(api: ApiContext) -> dict[str, Any]:
    """The summary document (see the module's docstring)."""
    status = api.status()
    kinds = api.check_kinds()
    by_kind: dict[str, list[dict[str, Any]]] = {"host": [], "external": [], "peer": []}
    for state in status["checks"]:
        kind = kinds.get(state["check"], "")
        part = "host" if kind in HOST_KINDS else "peer" if kind == "peer" else "external"
        by_kind[part].append({**state, "kind": kind})
    now = api.now()
    waiting, silences = await api.reader.run(
        lambda r: (
            len(proposal_rows.open_proposals(r.store())),
            len(incident_rows.active_silences(r.store(), now)),
        )
    )
    document: dict[str, Any] = {
        "at": now,
        "overall": Status.worst([Status(s["status"]) for s in status["checks"]]).value,
        "system": {
            "host": host_facts(api.data_dir),
            "selfreg": status.get("selfreg", {}),
            "checks": by_kind["host"],
        },
        "components": status["components"],
        "external_services": by_kind["external"],
        "alerts": {
            "open_incidents": status.get("incidents", []),
            "proposals_waiting": waiting,
            "silences_in_force": silences,
            "delivery_failures": status.get("delivery_failures", []),
            "slack": status.get("slack", {}),
            "heartbeat": status.get("heartbeat", {}),
        },
    }
    if by_kind["peer"]:
        document["peers"] = by_kind["peer"]
    return document
