"""``fly_start_machine``: start one Fly machine, under its lease, and wait for it.

Declarations only: ``actions.fly_machine.FlyMachineAction`` runs it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actions.fly_machine import FlyMachineAction, FlyMachineSpec


class FlyStartMachineSpec(FlyMachineSpec):
    """An ``[[actions]]`` entry of kind ``fly_start_machine``."""

    kind: Literal["fly_start_machine"] = Field(description='Always "fly_start_machine".')


class FlyStartMachine(FlyMachineAction):
    """Start the Fly machine the incident names (or the configured one)."""

    Spec = FlyStartMachineSpec
    verb = "start"
