"""Whether regulation may move by itself right now, and why not (pure).

An automatic move also passes the one policy gate (the action's own budget, cool-down and the
actions kill switch); these are regulation's own rules on top: the regulation pause (the
button, or the circuit breaker that a failed move trips), a global budget of automatic moves
and each rule's own. When any says no, the move is proposed to a person instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import messages


@dataclass(frozen=True, kw_only=True, slots=True)
class SafetyFacts:
    """What the rules weigh; read from the store by the regulator."""

    kill_switch_by: str | None
    paused: tuple[str, str] | None
    moves_global: int
    budget_global: int
    moves_rule: int
    budget_rule: int


def refuse_auto(facts: SafetyFacts) -> str | None:
    """The reason an automatic move must wait for a person, or None when it may go ahead."""
    if facts.kill_switch_by is not None:
        return messages.regulation_kill_switch(facts.kill_switch_by)
    if facts.paused is not None:
        reason, by = facts.paused
        return messages.regulation_paused_reason(reason, by)
    if facts.moves_global >= facts.budget_global:
        return messages.regulation_budget("all rules", facts.budget_global)
    if facts.moves_rule >= facts.budget_rule:
        return messages.regulation_budget("this rule", facts.budget_rule)
    return None


def budget_of(text: str) -> tuple[int, float]:
    """``"4/1h"`` -> (4, 3600.0)."""
    from common.units import parse_duration

    count, window = text.split("/")
    return int(count), parse_duration(window)
