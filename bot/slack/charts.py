"""Posting an incident's PNG chart into its Slack thread (the "Show chart" button and
``/selfreg chart ID``), through Slack's upload flow: ``files.getUploadURLExternal``, the bytes
to the URL it returns, ``files.completeUploadExternal`` into the thread (slack_sdk's
``files_upload_v2``). A chart that cannot be drawn, or an upload Slack refuses, is said in
the thread instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.clock import Clock
from bot.engine.charts import Limits
from bot.engine.incident_chart import incident_chart
from bot.errors import ChartUnavailable, IncidentNotFound
from bot.records import Incident
from bot.store import Store
from bot.store.incidents import get_incident

log = logging.getLogger(__name__)


class ChartPoster:
    """Draws an incident's chart and posts it in the incident's thread, in the background."""

    def __init__(
        self,
        client: AsyncWebClient,
        store: Store,
        clock: Clock,
        limits: Callable[[str], Mapping[str, Limits]],
    ) -> None:
        self.client = client
        self.store = store
        self.clock = clock
        self.limits = limits
        self._tasks: set[asyncio.Task[None]] = set()

    def incident(self, incident_id: int) -> Incident:
        """The incident a chart is asked for; ``UserError`` when there is none to post under."""
        found = get_incident(self.store, incident_id)
        if found is None:
            raise IncidentNotFound(incident_id)
        if not found.slack_channel or not found.slack_ts:
            raise ChartUnavailable(incident_id, messages.CHART_NO_THREAD)
        return found

    def post_soon(self, incident: Incident, user: str) -> None:
        """Start drawing and posting; Slack's three seconds to answer are not waited on it."""
        task = asyncio.create_task(self.post(incident, user), name=f"chart:{incident.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait for the charts being posted (tests, and a stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def post(self, incident: Incident, user: str) -> None:
        """Draw the chart and upload it into the thread; say why in the thread if it fails."""
        channel, thread = incident.slack_channel, incident.slack_ts
        try:
            drawn = await incident_chart(
                self.store, incident, self.limits(incident.check), self.clock.now()
            )
            await self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread,
                content=drawn.png,
                filename=messages.chart_filename(incident.id, drawn.metric),
                title=messages.chart_filename(incident.id, drawn.metric),
                initial_comment=messages.chart_caption(
                    incident.id, drawn.metric, drawn.limits, user
                ),
            )
        except ChartUnavailable as exc:
            await self._say(channel, thread, str(exc))
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            log.warning(messages.chart_upload_failed(incident.id, error))
            await self._say(channel, thread, messages.chart_unavailable(incident.id, error))

    async def _say(self, channel: str | None, thread: str | None, text: str) -> None:
        try:
            await self.client.chat_postMessage(channel=channel or "", thread_ts=thread, text=text)
        except SlackApiError as exc:
            log.warning(messages.chart_upload_failed(0, str(exc.response.get("error"))))
