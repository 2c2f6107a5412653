"""Prediction incidents in Slack (the stand-in, a real Runtime in this process): their own
message with Useful / False alarm, feedback recorded with who clicked, precision in the
thread, a threshold that rises after false alarms, and ``/selfreg predict``."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from bot.config import load_settings
from bot.engine.runner import RunResult
from bot.runtime import Runtime
from bot.store import predictions
from checks.base import Observation, Status
from tests.support.db import rows
from tests.support.slack_selfreg import (
    ALICE,
    BOB,
    CHANNEL,
    block_text,
    slack_env,
    top_level,
)
from tests.support.slack_standin import SlackEmulator

CONFIG = """
[models]
warmup = 50
false_alarms = 1

[[checks]]
kind = "tcp"
name = "db-port"
port = 5432
interval = "1h"
enabled = false
connect_time = { warn = "300ms", critical = "2s" }
"""


def feed(runtime: Runtime, values: list[float]) -> None:
    assert runtime.runner is not None
    check = runtime.runner.checks["db-port"]
    for value in values:
        observation = Observation(
            check="db-port",
            status=Status.OK,
            summary=f"connected in {value * 1000:.0f} ms",
            values={"connect_time": value, "up": 1.0},
            at=runtime.clock.now(),
        )
        runtime.runner.record(
            [RunResult(check=check, observations=[observation], state_writes={}, duration=0)]
        )


def buttons(message) -> dict[str, str]:
    return {
        e["text"]["text"]: e["action_id"]
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    }


async def test_feedback_buttons_record_who_clicked_and_raise_the_threshold(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    (tmp_path / "selfreg.toml").write_text(CONFIG)
    env = slack_env(emu, tmp_path / "data")
    runtime = Runtime(
        load_settings(str(tmp_path / "selfreg.toml"), env),
        out=open(tmp_path / "out.txt", "w"),  # noqa: SIM115
    )
    await runtime.start()
    try:
        await asyncio.to_thread(emu.wait_connected, 10)
        rnd = random.Random(4)
        feed(runtime, [0.004 + rnd.uniform(-0.0005, 0.0005) for _ in range(100)])
        feed(runtime, [0.05])  # under the rule's 300 ms: only the model sees it

        def posted():
            found = [m for m in top_level(emu) if "ANOMALY" in block_text(m)]
            return found[0] if found else None

        message = await asyncio.to_thread(emu.wait_for, posted, 20)
        text = block_text(message)
        assert "🔮 ANOMALY  db-port" in text
        assert "connect_time is unusual: 0.05 (usual" in text and "score" in text
        assert {"Useful", "False alarm", "Acknowledge"} <= set(buttons(message))

        await asyncio.to_thread(
            emu.click, CHANNEL, message.ts, buttons(message)["Useful"], user=ALICE
        )

        def thread_has(words: str):
            return lambda: any(words in r.text for r in emu.thread(CHANNEL, message.ts))

        await asyncio.to_thread(emu.wait_for, thread_has("marked this prediction useful"), 10)
        await asyncio.to_thread(
            emu.click, CHANNEL, message.ts, buttons(message)["False alarm"], user=BOB
        )
        await asyncio.to_thread(emu.wait_for, thread_has("threshold rises from 0.50 to 0.75"), 10)
        thread = " ".join(r.text for r in emu.thread(CHANNEL, message.ts))
        assert "<@U0ALICE> marked this prediction useful. anomaly precision so far: 100%" in thread
        assert "<@U0BOB> marked this prediction a false alarm." in thread
        assert "1 false alarms on db-port connect_time" in thread

        store = runtime.store
        assert store is not None
        clicks = rows(
            store, "SELECT detail FROM events WHERE kind = 'prediction.feedback' ORDER BY id"
        )
        assert [ALICE in c[0] for c in clicks] == [True, False]
        assert BOB in clicks[1][0]
        raised = predictions.raised_thresholds(store)[("anomaly", "db-port||connect_time")]
        assert raised.value == 0.75

        ack = await asyncio.to_thread(
            emu.slash, "/selfreg", "predict db-port", user=ALICE, channel=CHANNEL
        )
        reply = str(ack.payload)
        assert "Predictions for db-port" in reply
        assert "connect_time is unusual" in reply
        assert "db-port: learning: 0 samples, 0 failures" in reply
        ack = await asyncio.to_thread(
            emu.slash, "/selfreg", "predict nope", user=ALICE, channel=CHANNEL
        )
        assert 'no check is named \\"nope\\"' in str(ack.payload) or "no check is named" in str(
            ack.payload
        )
    finally:
        await runtime.stop()
