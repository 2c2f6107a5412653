"""The ``[api]`` section: who may use the management API (``/api/v1``) and as whom.

Each ``[[api.tokens]]`` entry names an identity, the environment variable holding its bearer
token (never the token itself: secrets come only from the environment), the approver id it
acts as (a Slack-style user id, like ``[cli] users`` maps local users to, so approver lists,
``[slack] permissions`` and the two-person rule hold for it) and its roles. ``api_secrets``
reads the tokens from the environment when the config loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot import messages
from bot.config.base import Section
from bot.errors import MISSING, ConfigProblem


class Role(StrEnum):
    """What a token may do. Every token may read; ``operate`` and ``approve`` add to it."""

    READ = "read"  # every GET: checks, incidents, proposals, components, silences, audit, health
    OPERATE = "operate"  # run checks; ack, silence, resolve incidents; silences; components
    APPROVE = "approve"  # approve and deny proposals; run actions (the policy gate decides)


class ApiToken(Section):
    """``[[api.tokens]]``: one identity of the management API."""

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        description="The identity's name, shown in the audit trail (door `api`).",
    )
    token_env: str = Field(
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="The environment variable holding this identity's bearer token (the token "
        "itself never goes in a file). Unset: the identity cannot sign in (logged at start).",
    )
    actor: str = Field(
        description="The Slack-style user id (U… or W…) it acts as: what `approvers`, "
        "`[slack] admins` and `permissions` name. The same id through Slack, the CLI and the "
        "API is one person (the two-person rule counts it once).",
    )
    roles: list[Literal["read", "operate", "approve"]] = Field(
        default_factory=lambda: ["read"],
        description="`read` (every GET), `operate` (run checks; ack, silence, resolve "
        "incidents; add and end silences; restart, stop, start components), `approve` "
        "(approve and deny proposals; run actions). Every token may read.",
    )

    @field_validator("actor")
    @classmethod
    def _an_id(cls, value: str) -> str:
        if not (value[:1] in ("U", "W") and value.isalnum()):
            raise ValueError(messages.api_actor_not_an_id(value))
        return value

    def may(self, role: Role) -> bool:
        return role is Role.READ or role in self.roles


class ApiSettings(Section):
    """``[api]``: the management API's identities; none configured: every /api/v1 route 401."""

    tokens: list[ApiToken] = Field(
        default_factory=list,
        description="The identities (`[[api.tokens]]`): name, token_env, actor, roles.",
    )

    @model_validator(mode="after")
    def _unique(self) -> ApiSettings:
        names = [t.name for t in self.tokens]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(messages.name_used_twice("api.tokens", name))
        return self


def api_secrets(
    settings: ApiSettings, env: Mapping[str, str]
) -> tuple[dict[str, str], list[ConfigProblem]]:
    """Each identity's token from its variable (identities whose variable is unset are left
    out), and a problem for two identities holding the same token."""
    found: dict[str, str] = {}
    problems = []
    for entry in settings.tokens:
        token = (env.get(entry.token_env) or "").strip()
        if not token:
            continue
        if (other := next((n for n, t in found.items() if t == token), None)) is not None:
            problems.append(
                ConfigProblem(
                    "environment",
                    entry.token_env,
                    MISSING,
                    messages.api_token_shared(other, entry.name),
                )
            )
        found[entry.name] = token
    return found, problems


def unset_api_tokens(settings: ApiSettings, tokens: Mapping[str, str]) -> list[tuple[str, str]]:
    """(identity, variable) of each ``[[api.tokens]]`` entry whose variable was not set."""
    return [(entry.name, entry.token_env) for entry in settings.tokens if entry.name not in tokens]
