"""``SELFREG_LOG_FORMAT=json selfreg run``: every line selfreg writes, on standard output and
standard error alike (start-up steps, the summary, incidents on the console, notices, logging
records), is one JSON object with time, level, logger and message; no secret appears."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.selfreg_process import SelfregProcess, selfreg_env
from tests.support.servers import free_port
from tests.web.test_metrics import CONFIG  # one tcp check on a closed port, models off

WEB_TOKEN = "json-logs-web-token-0123456789"


def test_every_line_is_one_json_object_and_no_secret_is_written(tmp_path: Path) -> None:
    config = tmp_path / "selfreg.toml"
    config.write_text(CONFIG.format(closed=free_port()))
    env = selfreg_env(
        tmp_path / "data",
        SELFREG_LOG_FORMAT="json",
        SELFREG_LOG_LEVEL="DEBUG",  # the most lines selfreg ever writes
        SELFREG_WEB_TOKEN=WEB_TOKEN,
    )
    selfreg = SelfregProcess(config, env)
    try:
        selfreg.wait_ready()
        selfreg.wait_for(r'"level": "critical", "logger": "db", "message": "Opened', timeout=15)
    finally:
        assert selfreg.stop() == 0
    selfreg.wait_for(r'"message": "selfreg stopped\."', timeout=10)
    documents = [json.loads(line) for line in selfreg.output if line.strip()]
    assert len(documents) > 10
    for document in documents:
        assert list(document)[:4] == ["time", "level", "logger", "message"], document
    steps = [d for d in documents if d["logger"] == "startup"]
    assert {d["step"] for d in steps} >= {"Python", "web port", "first health check"}
    incident = next(d for d in documents if d["logger"] == "db")
    assert incident["check"] == "db" and incident["state"] == "open"
    assert not any(WEB_TOKEN in line for line in selfreg.output)
