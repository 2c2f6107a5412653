"""bot.logline: one line format for logging records, start-up steps and console notices;
SELFREG_LOG_FORMAT=json makes each one JSON object; secrets never reach a line."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from bot import logline, startup
from bot.notify.base import OutboxMessage
from bot.notify.console import ConsoleNotifier
from bot.startup import Boot, Step

TEXT_LINE = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  (?P<level>[A-Z]+) +(?P<logger>\S+)  (?P<m>.*)"
)
NOTICE = OutboxMessage(
    id=1,
    channel="console",
    kind="incident.notice",
    payload={
        "text": "Opened: HTTP 503",
        "incident": {
            "id": 12,
            "check": "api",
            "subject": "",
            "severity": "critical",
            "state": "open",
            "last_seen_at": 1_700_000_000.25,
        },
    },
    attempts=1,
)


@pytest.fixture
def lines() -> Iterator[None]:
    """Whatever format and secrets a test configures are undone after it."""
    saved = (logline._settings.format, logline._settings.secrets)
    yield
    logline._settings.format, logline._settings.secrets = saved


def record(message: str, **extra: object) -> logging.LogRecord:
    made = logging.makeLogRecord(
        {"name": "bot.engine.runner", "levelname": "WARNING", "msg": message, **extra}
    )
    made.created = 1_700_000_000.5
    return made


async def three_lines() -> list[str]:
    """A logging record, a start-up step and a console notice, as they are written."""
    out = io.StringIO()

    async def step(_: Boot) -> str:
        return "127.0.0.1:8787 is free"

    boot = SimpleNamespace(current="")  # run_steps only notes the step running on it
    await startup.run_steps([Step("web port", step)], boot, out)  # type: ignore[arg-type]
    await ConsoleNotifier(out).deliver(NOTICE)
    written = out.getvalue().splitlines()
    return [logline.LineFormatter().format(record("check db is still running")), *written]


async def test_records_steps_and_notices_share_one_text_format(lines: None) -> None:
    logline._settings.format = "text"
    made = [TEXT_LINE.fullmatch(line) for line in await three_lines()]
    assert all(made), made
    assert [(m["level"], m["logger"]) for m in made if m] == [
        ("WARNING", "bot.engine.runner"),
        ("INFO", "startup"),
        ("CRITICAL", "api"),
    ]
    assert made[1] and made[1]["m"].startswith("ok    web port  127.0.0.1:8787 is free  (")
    assert made[2] and made[2]["m"] == "Opened: HTTP 503"


async def test_json_format_is_one_object_per_line_with_the_same_keys(lines: None) -> None:
    logline._settings.format = "json"
    documents = [json.loads(line) for line in await three_lines()]
    for document in documents:
        assert list(document)[:4] == ["time", "level", "logger", "message"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", document["time"])
    runner, step, notice = documents
    assert runner["time"] == "2023-11-14T22:13:20.500Z" and runner["level"] == "warning"
    assert step["logger"] == "startup" and step["step"] == "web port"
    assert step["outcome"] == "ok" and isinstance(step["ms"], int)
    assert notice == {
        "time": "2023-11-14T22:13:20.250Z",
        "level": "critical",
        "logger": "api",
        "message": "Opened: HTTP 503",
        "incident": 12,
        "check": "api",
        "subject": "",
        "state": "open",
    }


def test_a_records_extra_fields_and_traceback_stay_on_its_one_json_line(lines: None) -> None:
    logline._settings.format = "json"
    try:
        raise ValueError("bad value")
    except ValueError as exc:
        made = record("it failed", exc_info=(type(exc), exc, exc.__traceback__), check="db")
    line = logline.LineFormatter().format(made)
    assert "\n" not in line
    document = json.loads(line)
    assert document["check"] == "db" and "ValueError: bad value" in document["exc"]


def test_secrets_and_slack_tokens_never_reach_a_line(lines: None) -> None:
    env = {"SELFREG_WEB_TOKEN": "web-token-0123456789", "SLACK_BOT_TOKEN": "xoxb-1-2-abcdef"}
    logline.configure("INFO", "text", env)
    line = logline.render("INFO", "x", "token web-token-0123456789 and xapp-1-A0-9-zzzzzz")
    assert "web-token" not in line and "xapp-1" not in line
    assert line.endswith("token *** and ***")
    logline.configure("INFO", "json", env)
    said = logline.LineFormatter().format(record("auth with %s failed", args=("xoxb-1-2-abcdef",)))
    assert "xoxb" not in said and json.loads(said)["message"] == "auth with *** failed"


def test_variables_named_like_secrets_are_masked_whatever_config_calls_them(lines: None) -> None:
    """token_env lets the operator name a peer's or an API identity's variable: the name's
    shape (``_TOKEN``, ``_SECRET``, ``_PASSWORD``, ``_KEY``) is enough to mask its value."""
    env = {
        "SELFREG_PEER_MOBILE_TOKEN": "peer-token-0123456789",
        "SELFREG_AUDIT_KEY": "audit-key-0123456789",
        "DEPLOY_BOT_SECRET": "deploy-secret-0123456789",
        "SELFREG_DATA_DIR": "/var/lib/selfreg-data",
    }
    logline.configure("INFO", "text", env)
    line = logline.render(
        "INFO",
        "x",
        "peer-token-0123456789 audit-key-0123456789 deploy-secret-0123456789 in"
        " /var/lib/selfreg-data",
    )
    assert line.endswith("*** *** *** in /var/lib/selfreg-data")


async def test_a_notice_is_stamped_with_when_it_happened_not_the_last_check_run(
    lines: None,
) -> None:
    """ "Ran restart demo" 4 s after the approval prints after the supervisor's own line,
    so it carries its own time, not the incident's last observation."""
    logline._settings.format = "json"
    out = io.StringIO()
    ran = OutboxMessage(
        id=2, channel="console", kind="incident.notice", attempts=1,
        payload={**NOTICE.payload, "text": "Ran restart api", "at": 1_700_000_004.5},
    )  # fmt: skip
    await ConsoleNotifier(out).deliver(ran)
    assert json.loads(out.getvalue())["time"] == "2023-11-14T22:13:24.500Z"
