"""Action plugins: one module per kind; ``REGISTRY`` maps a config ``kind`` to its class.

An ``[[actions]]`` entry whose kind is not registered here is rejected, so nothing can run
that was not both written as a module and declared in config. Each class's ``Spec`` is the
pydantic model its entry is validated against.
"""

from __future__ import annotations

from actions.base import Action
from actions.cleanup_files import CleanupFiles
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
    "http_request": HttpRequest,
    "renice_process": ReniceProcess,
    "restart_component": RestartComponent,
    "run_command": RunCommand,
    "scale_component": ScaleComponent,
    "signal_process": SignalProcess,
    "start_component": StartComponent,
    "stop_component": StopComponent,
}
