"""``fly_stop_machine``: stop one Fly machine, under its lease, and wait for it.

Declarations only: ``actions.fly_machine.FlyMachineAction`` runs it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actions.fly_machine import FlyMachineAction, FlyMachineSpec


class FlyStopMachineSpec(FlyMachineSpec):
    """An ``[[actions]]`` entry of kind ``fly_stop_machine``."""

    kind: Literal["fly_stop_machine"] = Field(description='Always "fly_stop_machine".')


class FlyStopMachine(FlyMachineAction):
    """Stop the Fly machine the incident names (or the configured one)."""

    Spec = FlyStopMachineSpec
    verb = "stop"
