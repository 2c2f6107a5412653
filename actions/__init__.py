"""Action plugins: one module per kind; ``REGISTRY`` maps a config ``kind`` to its class.

An ``[[actions]]`` entry whose kind is not registered here is rejected, so nothing can run
that was not both written as a module and declared in config. Each class's ``Spec`` is the
pydantic model its entry is validated against. A kind's module is imported the first time
the kind is asked for (``common.plugins``): only the kinds a config uses are loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.plugins import Registry

if TYPE_CHECKING:
    from actions.base import Action

REGISTRY: Registry[Action] = Registry(
    "actions",
    {
        "cleanup_files": "CleanupFiles",
        "fly_restart_machine": "FlyRestartMachine",
        "fly_rollback": "FlyRollback",
        "fly_scale_count": "FlyScaleCount",
        "fly_scale_vm": "FlyScaleVm",
        "fly_start_machine": "FlyStartMachine",
        "fly_stop_machine": "FlyStopMachine",
        "http_request": "HttpRequest",
        "renice_process": "ReniceProcess",
        "restart_component": "RestartComponent",
        "run_command": "RunCommand",
        "scale_component": "ScaleComponent",
        "signal_process": "SignalProcess",
        "start_component": "StartComponent",
        "stop_component": "StopComponent",
    },
)
