"""Action plugins: one module per kind; ``REGISTRY`` maps a config ``kind`` to its class.

An ``[[actions]]`` entry whose kind is not registered here is rejected, so nothing can run
that was not both written as a module and declared in config. Each class's ``Spec`` is the
pydantic model its entry is validated against.
"""

from __future__ import annotations

from actions.base import Action
from actions.cleanup_files import CleanupFiles
from actions.fly_restart_machine import FlyRestartMachine
from actions.fly_rollback import FlyRollback
from actions.fly_scale_count import FlyScaleCount
from actions.fly_scale_vm import FlyScaleVm
from actions.fly_start_machine import FlyStartMachine
from actions.fly_stop_machine import FlyStopMachine
from actions.http_request import HttpRequest
from actions.renice_process import ReniceProcess
from actions.restart_component import RestartComponent
from actions.run_command import RunCommand
from actions.scale_component import ScaleComponent
from actions.signal_process import SignalProcess
from actions.start_component import StartComponent
from actions.stop_component import StopComponent

REGISTRY: dict[str, type[Action]] = {
    "cleanup_files": CleanupFiles,
    "fly_restart_machine": FlyRestartMachine,
    "fly_rollback": FlyRollback,
    "fly_scale_count": FlyScaleCount,
    "fly_scale_vm": FlyScaleVm,
    "fly_start_machine": FlyStartMachine,
    "fly_stop_machine": FlyStopMachine,
    "http_request": HttpRequest,
    "renice_process": ReniceProcess,
    "restart_component": RestartComponent,
    "run_command": RunCommand,
    "scale_component": ScaleComponent,
    "signal_process": SignalProcess,
    "start_component": StartComponent,
    "stop_component": StopComponent,
}
