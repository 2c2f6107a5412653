"""The supervisor's refusals, worded for the operator who asked (Slack, CLI, an action)."""

from __future__ import annotations

from bot.errors import UserError


class UnknownComponent(UserError, KeyError):
    """A control named a component that is not configured."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        names = ", ".join(known) or "none"
        super().__init__(f'no component is named "{name}" (configured: {names})')

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class BadInstanceCount(UserError, ValueError):
    """``scale`` asked for a number of instances outside 1..``most``."""

    def __init__(self, name: str, wanted: int, most: int) -> None:
        self.name = name
        self.wanted = wanted
        super().__init__(f"component {name} can run 1 to {most} instances, not {wanted}")
