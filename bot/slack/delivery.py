"""Step 5 for Slack: deliver outbox rows as one message per incident, updated in place.

``incident.sync`` renders the incident as it is now and posts it (first time) or updates
it; replies go to its thread, so a reply never lands before its parent exists. Slack's
errors are classed here: a 429 or a 5xx is retried after Retry-After or a back-off; a bad
channel or token is permanent and recorded where an operator sees it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from actions.base import Action
from bot import messages
from bot.clock import Clock
from bot.engine.deploys import SeenDeploy, deploy_before, rollbacks_for
from bot.engine.offers import budget_windows, offers_for
from bot.errors import DeliveryError, PermanentDeliveryError
from bot.notify.base import OutboxMessage
from bot.records import Incident, IncidentKind, Offer
from bot.slack import render
from bot.slack.keyed_locks import KeyedLocks
from bot.store import incidents as rows
from bot.store import proposals, samples, slack_posts
from bot.store.db import Store

log = logging.getLogger(__name__)

# Retrying cannot fix these: the channel, the membership or the token must change first.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "restricted_action",
        "msg_too_long",
        "message_not_found",
        "cant_update_message",
    }
)
# Top-level messages carry this metadata event type with their outbox key, so a restart can
# find a message whose ts it never recorded (see _post_once).
POST_EVENT_TYPE = "selfreg_message"
POST_LOOKBACK = 30.0  # seconds before an attempt that the search also covers (clock skew)
PACE = 1.0  # seconds between messages to one channel: Slack's per-channel posting rate
SPARK_BUCKETS = 20


def classify(exc: SlackApiError) -> DeliveryError:
    """A Slack API error as a transient or permanent delivery error."""
    response = exc.response
    error = str(response.get("error", "unknown_error"))
    if response.status_code == 429 or error in ("ratelimited", "rate_limited"):
        retry_after = float(
            response.headers.get("Retry-After", response.headers.get("retry-after", 1)) or 1
        )
        return DeliveryError("slack", error, retry_after=retry_after)
    if error in PERMANENT:
        return PermanentDeliveryError("slack", error)
    return DeliveryError("slack", error)  # internal_error, fatal_error, 5xx: Slack's side


class SlackNotifier:
    """Delivers Slack outbox rows; records each incident's message ts in the store."""

    name = "slack"

    def __init__(
        self,
        client: AsyncWebClient,
        store: Store,
        clock: Clock,
        channel: str,
        actions: Mapping[str, Action] | None = None,
        interactive: bool = True,
    ) -> None:
        self.interactive = interactive
        self.actions = dict(actions or {})
        self.client = client
        self.store = store
        self.clock = clock
        self.channel = channel
        self._last_sent: dict[str, float] = {}
        self._locks = KeyedLocks()
        self.last_error: str | None = None

    async def deliver(self, message: OutboxMessage) -> None:
        try:
            await self._deliver(message)
        except SlackApiError as exc:
            error = classify(exc)
            self.last_error = error.reason
            raise error from None
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            raise DeliveryError("slack", self.last_error) from None
        self.last_error = None

    async def _deliver(self, message: OutboxMessage) -> None:
        kind = message.kind
        ref = message.ref or 0
        if kind == "incident.sync":
            await self._sync(ref)
        elif kind == "incident.reply":
            ts, channel = await self._ensure_posted(ref)
            if ts is not None:
                text = render.reply_text(
                    message.payload["text"], message.payload.get("mentions", [])
                )
                await self._call(
                    "chat_postMessage", channel, channel=channel, thread_ts=ts, text=text
                )
        elif kind == "incident.crosspost":
            await self._crosspost(message)
        elif kind == "digest.sync":
            await self._sync_digest(ref)
        elif kind == "notice.post":  # a plain notice in the alert channel, no buttons
            text = message.payload["text"]
            await self._call("chat_postMessage", self.channel, channel=self.channel, text=text)
        else:
            log.warning(messages.slack_row_unknown_kind(message.id, kind))

    async def _sync(self, incident_id: int) -> tuple[str | None, str]:
        """Post or update the incident's message; returns (ts, channel).

        One sync per incident at a time: a second would read no ts while the first is still
        posting, and post the message twice.
        """
        async with self._locks.hold(incident_id):
            return await self._sync_locked(incident_id)

    async def _sync_locked(self, incident_id: int) -> tuple[str | None, str]:
        incident = rows.get_incident(self.store, incident_id)
        if incident is None:
            return None, self.channel
        now = self.clock.now()
        deploy = None
        if incident.kind is IncidentKind.RULE:
            deploy = deploy_before(self.store, incident.check, incident.opened_at)
        rendered = render.render_incident(
            incident,
            now,
            self._spark(incident.check, incident.subject, incident.values, now),
            self._offers(incident, now, deploy),
            interactive=self.interactive,
            note=deploy.note(incident.opened_at) if deploy is not None else "",
        )
        ts, channel = incident.slack_ts, incident.slack_channel or self.channel
        if ts is None:
            thread_ts = None
            if incident.digest_id is not None:
                thread_ts = await self._sync_digest(incident.digest_id)
            key = f"incident:{incident.id}"
            ts, channel, fresh = await self._post_once(key, rendered, thread_ts)
            slack_posts.incident_posted(self.store, incident.id, key, channel, ts, now)
            if fresh:
                return ts, channel
        await self._update(channel, ts, rendered)
        slack_posts.incident_synced(self.store, incident.id, now)
        return incident.slack_ts, channel

    async def _ensure_posted(self, incident_id: int) -> tuple[str | None, str]:
        incident = rows.get_incident(self.store, incident_id)
        if incident is None:
            return None, self.channel
        if incident.slack_ts is not None:
            return incident.slack_ts, incident.slack_channel or self.channel
        return await self._sync(incident_id)

    async def _update(self, channel: str, ts: str, rendered: render.Rendered) -> None:
        """chat.update: the message at ``ts`` (an incident's or a digest's) shows ``rendered``."""
        await self._call(
            "chat_update",
            channel,
            channel=channel,
            ts=ts,
            blocks=rendered.blocks,
            text=rendered.text,
        )

    async def _post(
        self,
        channel: str,
        rendered: render.Rendered,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Any:
        """chat.postMessage, falling back to text alone when Slack rejects the blocks."""
        try:
            return await self._call(
                "chat_postMessage",
                channel,
                channel=channel,
                blocks=rendered.blocks,
                text=rendered.text,
                thread_ts=thread_ts,
                metadata=metadata,
            )
        except SlackApiError as exc:
            if exc.response.get("error") not in ("invalid_blocks", "invalid_blocks_format"):
                raise
            log.error(messages.slack_blocks_rejected(exc.response.get("errors")))
            return await self._call(
                "chat_postMessage",
                channel,
                channel=channel,
                text=rendered.text,
                thread_ts=thread_ts,
                metadata=metadata,
            )

    async def _crosspost(self, message: OutboxMessage) -> None:
        ts, channel = await self._ensure_posted(message.ref or 0)
        target = message.payload["channel"]
        link = ""
        if ts is not None:
            try:
                permalink = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
                link = messages.original_message_link(permalink["permalink"])
            except SlackApiError:
                link = ""
        text = render.reply_text(
            message.payload["text"] + link, message.payload.get("mentions", [])
        )
        await self._call("chat_postMessage", target, channel=target, text=text)

    async def _sync_digest(self, digest_id: int) -> str | None:
        place = slack_posts.digest_place(self.store, digest_id)
        if place is None:
            return None
        members = rows.in_digest(self.store, digest_id)
        rendered = render.render_digest(members, self.clock.now())
        channel, ts = place
        if ts is None:
            key = f"digest:{digest_id}"
            ts, channel, fresh = await self._post_once(key, rendered)
            slack_posts.digest_posted(self.store, digest_id, key, channel, ts)
            if fresh:
                return str(ts)
        await self._update(channel, str(ts), rendered)
        return str(ts)

    async def _post_once(
        self, key: str, rendered: render.Rendered, thread_ts: str | None = None
    ) -> tuple[str, str, bool]:
        """Post a top-level message at most once, even across a ``kill -9``; (ts, channel, fresh).

        A ``slack_posts`` row is written before the post and removed by the caller once the ts
        is stored. Finding one here means an earlier attempt may have reached Slack but died
        before recording the ts: the message is looked up by its metadata instead of being
        posted twice. ``fresh`` is False for a message found again (the caller updates it).
        """
        pending = slack_posts.pending_post(self.store, key)
        if pending is not None:
            pending_channel, started_at = pending
            found = await self._find_post(pending_channel, key, started_at, thread_ts)
            if found is not None:
                log.info(messages.slack_post_found_again(key))
                return found, pending_channel, False
        # wall-clock time on purpose: it is compared with the ts Slack gives the message
        slack_posts.begin_post(self.store, key, self.channel, time.time())
        metadata = {"event_type": POST_EVENT_TYPE, "event_payload": {"key": key}}
        response = await self._post(self.channel, rendered, thread_ts, metadata)
        return str(response["ts"]), str(response["channel"]), True

    async def _find_post(
        self, channel: str, key: str, started_at: float, thread_ts: str | None
    ) -> str | None:
        """The ts of our message carrying ``key`` posted since ``started_at``, if Slack has it.

        A lookup Slack refuses for good (say ``missing_scope``) is logged and the message is
        posted again: a duplicate is better than a lost alert. A transient error is raised.
        """
        oldest = f"{started_at - POST_LOOKBACK:.6f}"
        try:
            if thread_ts is None:
                response = await self._call(
                    "conversations_history",
                    channel,
                    channel=channel,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=200,
                )
            else:
                response = await self._call(
                    "conversations_replies",
                    channel,
                    channel=channel,
                    ts=thread_ts,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=200,
                )
        except SlackApiError as exc:
            if not isinstance(classify(exc), PermanentDeliveryError):
                raise
            log.warning(messages.slack_post_not_looked_up(key, exc.response.get("error")))
            return None
        for message in response.get("messages", []):
            metadata = message.get("metadata") or {}
            if (
                metadata.get("event_type") == POST_EVENT_TYPE
                and (metadata.get("event_payload") or {}).get("key") == key
            ):
                return str(message["ts"])
        return None

    async def _call(self, method: str, pace_key: str, /, **kwargs: Any) -> Any:
        """One Web API call, paced to about one per second per channel (``pace_key``)."""
        wait = self._last_sent.get(pace_key, 0.0) + PACE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_sent[pace_key] = time.monotonic()
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        return await getattr(self.client, method)(**kwargs)

    def _spark(self, check: str, subject: str, values: Any, now: float) -> list[float]:
        """The last hour of the incident's main metric, in equal buckets."""
        metric = "latency" if "latency" in values else next(iter(sorted(values)), None)
        if metric is None:
            return []
        start = now - 3600
        return samples.bucket_averages(
            self.store, check, subject, metric, start, 3600 / SPARK_BUCKETS
        )

    def _offers(self, incident: Incident, now: float, deploy: SeenDeploy | None) -> list[Offer]:
        """The incident's stored proposals as the message shows them; after a deploy, a
        rollback reads "roll back to <the release before>"."""
        if not self.actions:
            return []
        stored = proposals.for_offers(self.store, incident.id, budget_windows(self.actions), now)
        labels = {}
        if deploy is not None and deploy.previous:
            label = messages.roll_back_to(deploy.previous)
            labels = {name: label for name in rollbacks_for(deploy, self.actions)}
        return offers_for(stored, self.actions, now, labels)

    def reconfigure(self, *, actions: Mapping[str, Action]) -> None:
        """A reload changed the configured actions: offers are drawn from the new ones."""
        self.actions = dict(actions)
