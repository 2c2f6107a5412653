"""The Slack Web API client: one made per config, over the runtime's shared HTTP pool, and
the token check at start.

``make_client`` points slack_sdk at ``SLACK_API_URL`` (a stand-in in tests) and over the
shared session's keep-alive connections; ``check_token`` is ``auth.test``: a rejected token
stops selfreg, an unreachable Slack only warns (the outbox holds messages until it is back).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.config import SlackConnection
from bot.errors import SlackRejectedToken

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
CALL_TIMEOUT = 30.0  # seconds per Web API call, slack_sdk's own default


def make_client(
    connection: SlackConnection, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """The Web API client; SLACK_API_URL points it at a stand-in in tests.

    ``session`` is the runtime's shared HTTP session: every call then reuses its pool of
    keep-alive connections (without it slack_sdk opens a session, so a connection and a TLS handshake,
    per call; measured by ``bench/slack_connections.py``). Its owner closes it, never the
    client. The session's ``trust_env`` decides any proxy, ``NO_PROXY`` included: slack_sdk
    would otherwise take ``HTTPS_PROXY`` alone and pass it on every call.
    """
    client = AsyncWebClient(
        token=connection.bot_token,
        base_url=connection.api_url or DEFAULT_API_URL,
        session=_over(session) if session is not None else None,
    )
    if session is not None:
        client.proxy = None
    return client


def _over(shared: aiohttp.ClientSession) -> aiohttp.ClientSession:
    """A session over ``shared``'s connection pool (not owning it: closing ``shared`` closes
    the pool) with slack_sdk's per-call timeout, which it applies only to sessions it makes."""
    return aiohttp.ClientSession(
        connector=shared.connector,
        connector_owner=False,
        timeout=aiohttp.ClientTimeout(total=CALL_TIMEOUT),
        trust_env=shared.trust_env,
    )


async def check_token(client: AsyncWebClient) -> dict[str, Any] | None:
    """auth.test at start: a rejected token stops selfreg; Slack unreachable only warns."""
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        if error in (
            "invalid_auth",
            "not_authed",
            "account_inactive",
            "token_revoked",
            "token_expired",
        ):
            raise SlackRejectedToken(error) from None
        log.warning(messages.slack_auth_failed(error))
        return None
    except Exception as exc:  # network down at start: the outbox holds messages until it is back
        log.warning(messages.slack_unreachable_log(str(exc)))
        return None
    return dict(response.data) if isinstance(response.data, dict) else None


def workspace_url(found: dict[str, Any] | None) -> str | None:
    """The workspace's address from ``auth.test`` (``https://acme.slack.com/``), or None.

    A top-level message's permalink is this address plus ``archives/CHANNEL/pTS`` (the shape
    ``chat.getPermalink`` answers), so the dashboard links to the exact message without a call.
    """
    url = str((found or {}).get("url") or "")
    return url if url.startswith("https://") and url.endswith("/") else None
