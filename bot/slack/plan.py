"""Slack's side of regulation: ``/selfreg plan [schedule ID | cancel RUN | pause | resume]``
and the *Approve at quiet time* button under a proposal that may wait."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

from bot import messages
from bot.errors import BadCommand, UserError
from bot.records import Incident

if TYPE_CHECKING:
    from bot.engine.regulate.make import Regulation

VERBS = ("schedule", "cancel", "pause", "resume")
Refusal = Callable[[dict[str, Any], dict[str, Any]], Awaitable[str | None]]


def plan_answer(
    regulation: Regulation | None, args: Sequence[str], user: str, admins: Collection[str]
) -> str:
    """The reply to ``/selfreg plan ...``; resuming automatic regulation is for admins (the
    breaker asked a person to look first), pausing for anyone (the safe direction)."""
    if regulation is None:
        return messages.regulation_not_configured()
    if not args:
        return messages.plan_text(regulation.planner.document())
    verb = args[0].lower()
    if verb not in VERBS or len(args) > 2:
        raise BadCommand(messages.bad_arguments(messages.USAGE_PLAN, messages.plan_usage()))
    if verb == "resume" and user not in admins:
        raise UserError(messages.admins_only("plan resume"))
    return regulation.command(verb, args[1] if len(args) > 1 else "", user)


def pause_action(regulation: Regulation | None) -> Callable[[Incident, str], Awaitable[None]]:
    """*Pause regulation* on a regulation incident: anyone in the channel may pause automatic
    regulation (the safe direction); its thread says who did."""

    async def pause(incident: Incident, user: str) -> None:
        if regulation is None:
            raise UserError(messages.regulation_not_configured())
        regulation.mover.pause(user, True, incident.id)

    return pause


def quiet_listener(
    regulation: Regulation | None, refusal_of: Refusal
) -> Callable[..., Awaitable[None]]:
    """*Approve at quiet time*: the same checks as Approve (its own message, still open), then
    the proposal is scheduled for its check's next quiet window; the thread says when."""

    async def listener(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        await ack()
        refusal = await refusal_of(body, action)
        if refusal is None and regulation is None:
            refusal = messages.regulation_not_configured()
        if refusal is None:
            assert regulation is not None
            user = body.get("user", {}).get("id", "")
            try:
                regulation.command("schedule", str(action["value"]), user)
                return
            except UserError as exc:
                refusal = str(exc)
        await respond(response_type="ephemeral", replace_original=False, text=refusal)

    return listener
