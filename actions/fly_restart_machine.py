"""``fly_restart_machine``: restart one Fly machine, under its lease, and wait for it.

Declarations only: ``actions.fly_machine.FlyMachineAction`` runs it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actions.fly_machine import FlyMachineAction, FlyMachineSpec


class FlyRestartMachineSpec(FlyMachineSpec):
    """An ``[[actions]]`` entry of kind ``fly_restart_machine``."""

    kind: Literal["fly_restart_machine"] = Field(description='Always "fly_restart_machine".')


class FlyRestartMachine(FlyMachineAction):
    """Restart the Fly machine the incident names (or the configured one)."""

    Spec = FlyRestartMachineSpec
    verb = "restart"
