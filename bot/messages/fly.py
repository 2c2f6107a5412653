"""Deploy tracking (the ``fly`` check): the deploy notice and what an incident says about it.

Read in Slack (the notice in the alert channel, the line on an incident message, the rollback
button), on the console and in the JSON log.
"""

from __future__ import annotations

from bot.messages.common import human_duration, plural


def deployed(app: str, version: str, previous: str, regions: tuple[str, ...], machines: int) -> str:
    """The notice posted once per deploy: "gpt-cursor-runner v18 deployed to sea, 2 machines
    (was v17)"."""
    where = ", ".join(regions) or "no region"
    return f"{app} {version} deployed to {where}, {plural(machines, 'machine')} (was {previous})"


def after_deploy(version: str, after: float) -> str:
    """The line on an incident that opened soon after a deploy."""
    return f"Started {human_duration(after)} after {version} was deployed."


def roll_back_to(version: str) -> str:
    """The rollback offer's label on such an incident."""
    return f"roll back to {version}"


def deploy_affects_unknown(check: str, name: str) -> str:
    """A config problem: ``deploy_affects`` names no check."""
    return f'checks "{check}": deploy_affects names "{name}", which is not a [[checks]] entry'


def rollback_check_unknown(action: str, check: str) -> str:
    """A config problem: a rollback's ``check`` is not a fly check."""
    return f'actions "{action}": check "{check}" is not a [[checks]] entry of kind "fly"'
