"""Regulation (issue 17): scale moves, their incidents, the safety rules, detectors and the
plan. Read in Slack (the regulation incident and its thread), on the console and by
``selfreg plan``."""

from __future__ import annotations

from bot.messages.common import human_duration, mention_user

WHY = {
    "above": "above its band",
    "below": "below its band",
    "forecast": "heading above its band",
}


def regulation_summary(
    rule: str, metric: str, value: float, low: float, high: float, why: str, eta: float | None
) -> str:
    """The regulation incident's line: which rule, the signal against its band."""
    text = f"regulation {rule}: {metric} {value:.4g} is {WHY.get(why, why)} ({low:.4g}..{high:.4g})"
    if why == "forecast" and eta is not None:
        text += f"; at this rate it reaches {high:.4g} in {human_duration(eta)}"
    return text


def regulation_move(
    action: str, metric: str, value: float, low: float, high: float, why: str, auto: bool
) -> str:
    """A move in the thread: done by selfreg, or proposed to a person."""
    band = f"{metric} {value:.4g}, band {low:.4g}..{high:.4g}"
    if auto:
        return f"⚖️ selfreg runs {action} by itself ({band}, {WHY.get(why, why)})"
    return f"⚖️ selfreg proposes {action} ({band}, {WHY.get(why, why)})"


def regulation_settled(metric: str, value: float, low: float, high: float) -> str:
    return f"{metric} {value:.4g} is back inside its band ({low:.4g}..{high:.4g})"


def regulation_kill_switch(by: str) -> str:
    return f"proposed instead of run: actions are paused by {mention_user(by)}"


def regulation_paused_reason(reason: str, by: str) -> str:
    if reason == "on":
        return f"proposed instead of run: regulation is paused by {mention_user(by)}"
    return f"proposed instead of run: regulation is paused ({reason})"


def regulation_budget(scope: str, budget: int) -> str:
    return f"proposed instead of run: the budget of {budget} automatic moves for {scope} is spent"


def regulation_breaker(rule: str, action: str, state: str) -> str:
    return f"circuit breaker: {action} of rule {rule} came out {state.replace('_', ' ')}"


def regulation_breaker_ask(reason: str) -> str:
    return (
        f"🛑 {reason}. Automatic regulation is paused: moves are now proposed to people. "
        "Resume with `selfreg plan resume` or `/selfreg plan resume` once it is understood."
    )


def regulation_failed() -> str:
    return "regulation failed on this sample; the checks go on"


def regulation_paused_by(paused: bool, by: str) -> str:
    """The answer to the button and to ``plan pause|resume``."""
    if paused:
        return f"⏸️ automatic regulation paused by {mention_user(by)}: moves are proposed instead"
    return f"▶️ automatic regulation resumed by {mention_user(by)}"


def regulate_check_unknown(rule: str, check: str) -> str:
    return f'regulate.scale "{rule}": check names "{check}", which is not a [[checks]] entry'


def regulate_action_wrong(rule: str, key: str, action: str) -> str:
    sign = "a positive" if key == "up" else "a negative"
    return (
        f'regulate.scale "{rule}": {key} names "{action}", which must be a scale_component or '
        f"fly_scale_count [[actions]] entry with {sign} step"
    )


def regulate_auto_needs_low_risk(rule: str, action: str) -> str:
    return f'regulate.scale "{rule}": mode "auto" needs action "{action}" to have risk "low"'


def title_regulation(what: str) -> str:
    return f"⚖️ REGULATION  {what}"


def regulation_not_configured() -> str:
    return "no [[regulate.scale]] rules are configured: there is no regulation to pause"


PAUSE_REGULATION_BUTTON = "Pause regulation"
