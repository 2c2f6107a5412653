"""The two-person rule across the API and Slack, against a real selfreg in this process with
the Slack stand-in (socket mode): an approval through the API as ``U0ALICE`` and a click by
Alice herself are one person; Bob's click is the second approval, and the action runs. The
audit trail names each door."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import aiohttp

from bot.config import load_settings
from bot.runtime import Runtime
from bot.store import audit
from bot.store import proposals as store_proposals
from tests.support.servers import free_port
from tests.support.slack_selfreg import ALICE, BOB, CHANNEL, slack_env, top_level
from tests.support.slack_standin import SlackEmulator
from tests.web.conftest import API_CONFIG, TOKENS, ApiClient
from tests.web.test_api import open_incident


def approvals(runtime: Runtime) -> list[tuple[str, bool, str]]:
    return [
        (row["actor"], detail["allowed"], detail["door"])
        for row in audit.rows(runtime.store)
        if row["kind"] == "decision.approve"
        for detail in [json.loads(row["detail"])]
    ]


async def test_one_person_through_the_api_and_slack_and_a_second_one_in_slack(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    (tmp_path / "selfreg.toml").write_text(API_CONFIG.format(port=free_port()))
    env = slack_env(emu, tmp_path / "data", TEST_API_ALICE=TOKENS["alice-bot"])
    runtime = Runtime(load_settings(str(tmp_path / "selfreg.toml"), env), out=io.StringIO())
    await runtime.start()
    try:
        await asyncio.to_thread(emu.wait_connected, 10)
        [proposal] = store_proposals.for_incident(runtime.store, open_incident(runtime))
        button = f"proposal.approve.{proposal.id}"

        def posted() -> object:
            found = [m for m in top_level(emu) if button in json.dumps(m.blocks)]
            return found[0] if found else None

        message = await asyncio.to_thread(emu.wait_for, posted, 20)
        async with aiohttp.ClientSession() as http:
            api = ApiClient(http, runtime.web_url)
            first = await api.call("POST", f"/proposals/{proposal.id}/approve", as_="alice-bot")
        assert first.status == 200 and first.body["decision"]["runs"] is False

        await asyncio.to_thread(emu.click, CHANNEL, message.ts, button, user=ALICE)
        await asyncio.to_thread(emu.wait_for, lambda: len(approvals(runtime)) == 2, 10)
        await asyncio.to_thread(emu.click, CHANNEL, message.ts, button, user=BOB)
        await asyncio.to_thread(emu.wait_for, lambda: len(approvals(runtime)) == 3, 10)
        await runtime.remediation.wait_idle(10)  # type: ignore[union-attr]

        assert approvals(runtime) == [
            (ALICE, True, "api"),
            (ALICE, False, "slack"),
            (BOB, True, "slack"),
        ]
        done = store_proposals.get(runtime.store, proposal.id)
        assert done is not None and done.approvals == (ALICE, BOB)
    finally:
        await runtime.stop()
