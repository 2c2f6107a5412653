"""Component actions: restart, start or stop one supervised component, written once.

The three kinds (``restart_component``, ``start_component``, ``stop_component``) differ only in
the supervisor control they call and the words they report, so one class, ``ComponentAction``,
runs all three. Each kind keeps its own module, ``actions.<kind>`` (the registry's rule: a kind
is a module), which declares just its ``Spec`` and its verb.

A control that fails (the supervisor's own errors: an unknown name, a start that failed) is
the action's declared error, ``ComponentActionError``; ``execute`` calls the control named by
the verb and reports such a failure as a failed run whose summary is the error's text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar, Literal

from pydantic import Field

from actions.base import Action, ActionContext, ActionResult, ActionSpec

Verb = Literal["restart", "start", "stop"]
"""What a component action asks of the supervisor: also the name of its control
(``ComponentControls.restart`` / ``start`` / ``stop``)."""

PAST: dict[Verb, str] = {"restart": "restarted", "start": "started", "stop": "stopped"}


class ComponentActionError(Exception):
    """A supervisor control failed for one component; the text is the failed run's summary,
    e.g. "could not restart component api: no component named api"."""

    def __init__(self, verb: Verb, component: str, cause: BaseException) -> None:
        super().__init__(f"could not {verb} component {component}: {cause}")
        self.verb, self.component, self.cause = verb, component, cause


class ComponentSpec(ActionSpec):
    """The keys of a component action's entry; each kind narrows ``kind`` and words
    ``component``'s description."""

    component: str = Field(min_length=1, description="The [[components]] entry.")


class ComponentAction(Action):
    """Ask the supervisor to ``verb`` one configured component (by configured name only)."""

    Spec: ClassVar[type[ComponentSpec]]
    verb: ClassVar[Verb]

    def __init__(self, spec: ComponentSpec) -> None:
        super().__init__(spec)
        self.spec: ComponentSpec = spec

    def describe(self) -> str:
        return f"{self.verb} {self.spec.component}"

    async def execute(self, ctx: ActionContext, *, dry_run: bool) -> ActionResult:
        name = self.spec.component
        if dry_run:
            return ActionResult(ok=True, summary=f"would {self.verb} component {name}")
        control: Callable[[str], Awaitable[str]] = getattr(ctx.components, self.verb)
        try:
            what = await control(name)
        # The controls are the supervisor's and fail in their own ways (an unknown name, a
        # start that failed): any of them is this action's declared error.
        except Exception as exc:
            failed = ComponentActionError(self.verb, name, exc)
            return ActionResult(ok=False, summary=str(failed))
        return ActionResult(ok=True, summary=f"{PAST[self.verb]} component {name}: {what}")
