"""The ``[cli]`` section: who a local user of the ``selfreg`` command is to the policy.

The control socket (mode 0600) lets only selfreg's own OS user (and root) in at all; this
table says which approver each local user name acts as, so the approver lists, the two-person
rule and ``[slack] permissions`` hold for the terminal as they do for Slack. A module of its
own like ``lifecycle``; ``schema`` assembles the whole file.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from bot import messages
from bot.config.base import Section

EVERYONE = "*"
"""The key that maps every local user the table does not name."""


class CliSettings(Section):
    """``[cli]``: local user names and the approver each acts as through `selfreg` commands."""

    users: dict[str, str] = Field(
        default_factory=dict,
        description='Local user name -> the Slack user id it acts as, e.g. `{ alice = "U012ABC" }` '
        "(what `approvers`, `[slack] admins` and `permissions` name; without Slack, any id of "
        'that form you also list there); `"*"` maps every other local user. Unmapped users '
        "may read (status, alerts, history, logs) but not ack, silence, run, approve, deny or "
        "control components.",
    )

    @field_validator("users")
    @classmethod
    def _user_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for local_user, actor in value.items():
            if not (actor[:1] in ("U", "W") and actor.isalnum()):
                raise ValueError(messages.cli_user_not_an_id(local_user, actor))
        return value

    def approver_for(self, local_user: str) -> str | None:
        """The approver ``local_user`` acts as, or None when the table does not map them."""
        return self.users.get(local_user) or self.users.get(EVERYONE) or None
