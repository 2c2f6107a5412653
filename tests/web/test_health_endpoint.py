"""/health is liveness: 200 while the scheduler runs and the store is writable, else 503."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bot.config import load_settings
from bot.runtime import Runtime

CONFIG = '[[checks]]\nkind = "selfreg"\nname = "selfreg"\ninterval = "1s"\n'


async def test_health_turns_503_with_a_reason_when_the_scheduler_stops(tmp_path: Path) -> None:
    (tmp_path / "selfreg.toml").write_text(CONFIG)
    config = load_settings(
        str(tmp_path / "selfreg.toml"),
        {"SELFREG_DATA_DIR": str(tmp_path / "data"), "SELFREG_WEB_PORT": "0"},
    )
    runtime = Runtime(config, out=open(tmp_path / "out.txt", "w"))  # noqa: SIM115
    await runtime.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{runtime.web_url}/health") as response:
                assert response.status == 200
                assert (await response.json())["status"] == "ok"
            assert runtime.scheduler is not None
            runtime.scheduler.shutdown(wait=False)
            async with http.get(f"{runtime.web_url}/health") as response:
                body = await response.json()
                assert response.status == 503
                assert body["reasons"] == ["the scheduler is not running"]
    finally:
        await runtime.stop()
