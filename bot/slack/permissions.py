"""Who may run which command: user ids, user-group ids (resolved through Slack), '*', admins."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages

log = logging.getLogger(__name__)

GROUP_CACHE_FOR = 300.0  # seconds a user group's members are trusted before asking again


class Permissions:
    """Answers "may this user run this command?"; commands left out of the map are open."""

    def __init__(
        self,
        rules: Mapping[str, Sequence[str]],
        admins: Sequence[str],
        client: AsyncWebClient | None,
    ) -> None:
        self.rules = {name: list(ids) for name, ids in rules.items()}
        self.admins = set(admins)
        self.client = client
        self._groups: dict[str, tuple[float, set[str]]] = {}

    async def allows(self, command: str, user: str) -> bool:
        if user in self.admins:
            return True
        allowed = self.rules.get(command)
        if allowed is None or "*" in allowed or user in allowed:
            return True
        for group in (g for g in allowed if g.startswith("S")):
            if user in await self.members(group):
                return True
        return False

    async def members(self, group: str) -> set[str]:
        """A user group's members, cached; empty (nobody) when Slack cannot say."""
        cached = self._groups.get(group)
        if cached and time.monotonic() - cached[0] < GROUP_CACHE_FOR:
            return cached[1]
        if self.client is None:
            return set()
        try:
            response = await self.client.usergroups_users_list(usergroup=group)
            users = set(response.get("users", []))
        except SlackApiError as exc:
            log.warning(messages.user_group_unlisted(group, exc.response.get("error")))
            return cached[1] if cached else set()
        self._groups[group] = (time.monotonic(), users)
        return users

    def reconfigure(self, *, rules: Mapping[str, Sequence[str]], admins: Sequence[str]) -> None:
        """A live reload's ``[slack] permissions`` and ``admins`` (cached groups stay valid)."""
        self.rules = {name: list(ids) for name, ids in rules.items()}
        self.admins = set(admins)
