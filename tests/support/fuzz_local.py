"""Fuzzing the inputs selfreg reads in process: config files, log lines, HTTP answers.

- config: TOML text (random, and valid TOML of selfreg's sections with values of any type)
  through ``load_settings``: it loads or raises ``ConfigError`` naming the file; anything
  else is a crash;
- log lines: invalid UTF-8, NUL bytes, lines of up to ``long_line`` bytes, appended to a
  followed file: the ``logfile`` check returns one observation every run;
- HTTP answers: a raw loopback server writes a fuzzed status line, headers and body (huge,
  slow, malformed, cut short): the ``http`` check returns an observation with a summary.

Each returns ``Figures`` (tests/support/fuzz_inputs.py).
"""

from __future__ import annotations

import asyncio
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
from hypothesis import strategies as st

from bot.config import load_settings
from bot.errors import ConfigError
from checks.base import Observation
from checks.http import HttpCheck, HttpSpec
from checks.logfile import LogfileCheck, LogfileSpec
from tests.support.check_context import commit, make_context
from tests.support.fuzz_inputs import Figures, junk, run_cases
from tests.support.servers import LoopThread

CHECK_KINDS = ["http", "tcp", "logfile", "process", "system", "exec", "selfreg", "fly"]


# ---- config -------------------------------------------------------------------------------
def toml_value(value: Any) -> str:
    """``value`` as TOML (inline tables and arrays); JSON strings are TOML basic strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "nan"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items())
            + "}"
        )
    return '""'  # None has no TOML form


def config_documents() -> st.SearchStrategy[str]:
    scalar = junk().filter(lambda v: v is not None)
    check = st.fixed_dictionaries(
        {"kind": st.sampled_from(CHECK_KINDS), "name": st.text(max_size=10)},
        optional={
            "interval": scalar,
            "url": scalar,
            "port": scalar,
            "paths": scalar,
            "open_after": scalar,
        },
    )
    document = st.fixed_dictionaries(
        {},
        optional={
            "checks": st.lists(check, max_size=3),
            "alerts": st.dictionaries(
                st.sampled_from(["console", "cooldown", "storm", "flapping", "update_every"]),
                scalar,
                max_size=3,
            ),
            "slack": st.dictionaries(
                st.sampled_from(["admins", "permissions", "channel"]), scalar, max_size=2
            ),
            "actions": st.lists(
                st.dictionaries(
                    st.sampled_from(["name", "kind", "risk", "mode", "approvers", "command"]),
                    scalar,
                    max_size=5,
                ),
                max_size=2,
            ),
            "web": st.dictionaries(st.text(max_size=8), scalar, max_size=2),
        },
    )
    as_toml = document.map(lambda d: "\n".join(f"{k} = {toml_value(v)}" for k, v in d.items()))
    return st.one_of(
        as_toml, st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("latin-1"))
    )


def fuzz_config(examples: int) -> Figures:
    figures = Figures("config files (TOML)")
    folder = Path(tempfile.mkdtemp(prefix="selfreg-fuzz-config-"))
    path = folder / "selfreg.toml"

    def one(text: str) -> None:
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
        try:
            load_settings(str(path), {"SELFREG_DATA_DIR": str(folder / "data")})
        except ConfigError as exc:
            figures.refused += 1
            if str(path) not in str(exc) or not exc.problems:
                raise AssertionError(f"a refusal that does not name the file: {exc}") from None

    return run_cases(figures, config_documents(), examples, one)


# ---- log lines ----------------------------------------------------------------------------
def log_chunks(long_line: int) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=2000),
        st.binary(min_size=1, max_size=20).map(lambda b: b * (long_line // len(b))),
        st.just(b"\x00" * 1000 + b"ERROR\n"),
        st.just(b"\xff\xfe\xc3\x28 ERROR invalid utf-8\n"),
        st.text(max_size=200).map(lambda t: (t + "\n").encode("utf-8", "surrogateescape")),
    )


def fuzz_logfile(examples: int, long_line: int = 10_000_000) -> Figures:
    """Chunks appended to one followed file, a run after each: one observation every time."""
    figures = Figures("log lines (logfile check)")
    folder = Path(tempfile.mkdtemp(prefix="selfreg-fuzz-log-"))
    log = folder / "app.log"
    log.write_bytes(b"")
    check = LogfileCheck(
        LogfileSpec(kind="logfile", name="app-log", paths=[str(log)], patterns=[{"regex": "ERROR"}])
    )
    committed: dict[str, Any] = {}

    async def run_once() -> list[Observation]:
        nonlocal committed
        async with aiohttp.ClientSession() as http:
            ctx = make_context(http, committed=committed)
            observations = await check.run(ctx)
            committed = commit(ctx.state)
            return observations

    def one(chunk: bytes) -> None:
        with log.open("ab") as handle:
            handle.write(chunk)
        observations = asyncio.run(run_once())
        if len(observations) != 1 or not observations[0].summary:
            raise AssertionError(f"{len(observations)} observations for a {len(chunk)}-byte chunk")
        if log.stat().st_size > 50_000_000:
            log.write_bytes(b"")  # keep the disk use bounded; the check sees a truncation

    return run_cases(figures, log_chunks(long_line), examples, one)


# ---- HTTP answers -------------------------------------------------------------------------
def answers(huge: int, slow: float) -> st.SearchStrategy[tuple[bytes, float]]:
    """(raw bytes the server writes, seconds it waits before writing them)."""
    status = st.one_of(
        st.sampled_from(
            [b"HTTP/1.1 200 OK", b"HTTP/1.1 500 Oops", b"HTTP/1.0 301 Moved", b"HTTP/1.1 999 X"]
        ),
        st.binary(max_size=40),
    )
    header = st.one_of(
        st.sampled_from(
            [
                b"Content-Length: 5",
                b"Content-Length: -1",
                b"Content-Length: 99999999",
                b"Transfer-Encoding: chunked",
                b"Location: ::::",
                b"Content-Type: application/json; charset=nope",
            ]
        ),
        st.binary(max_size=60).filter(lambda b: b"\r\n" not in b),
    )
    body = st.one_of(
        st.binary(max_size=500),
        st.integers(min_value=1, max_value=huge).map(lambda n: b"x" * n),
        st.just(b"zz\r\nnot chunked\r\n"),
    )
    raw = st.builds(
        lambda s, hs, b: s + b"\r\n" + b"\r\n".join(hs) + b"\r\n\r\n" + b,
        status,
        st.lists(header, max_size=4),
        body,
    )
    return st.tuples(
        st.one_of(raw, st.binary(max_size=200)), st.sampled_from([0.0, 0.0, 0.0, 0.3, slow])
    )


def fuzz_http(examples: int, huge: int = 20_000_000, slow: float = 1.5) -> Figures:
    """The http check (timeout 1 s) against a loopback server answering anything, some
    answers ``slow`` seconds late (past the timeout at 1.5)."""
    figures = Figures("http answers (http check)")
    loop = LoopThread()
    current: dict[str, Any] = {"raw": b"", "delay": 0.0}

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read(65536)
            await asyncio.sleep(current["delay"])
            writer.write(current["raw"])
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    server = loop.run(asyncio.start_server(answer, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    check = HttpCheck(
        HttpSpec(kind="http", name="web", url=f"http://127.0.0.1:{port}/", timeout=1.0)
    )

    async def run_once() -> list[Observation]:
        async with aiohttp.ClientSession() as http:
            return await check.run(make_context(http))

    def one(case: tuple[bytes, float]) -> None:
        current["raw"], current["delay"] = case
        observations = asyncio.run(run_once())
        if len(observations) != 1 or not observations[0].summary:
            raise AssertionError(f"{len(observations)} observations for {case[0][:60]!r}")
        if observations[0].status.value != "ok":
            figures.refused += 1

    try:
        return run_cases(figures, answers(huge, slow), examples, one)
    finally:
        server.close()
        loop.run(_quiet())
        loop.close()


async def _quiet() -> None:
    """Cancel the answers still in flight on the server's loop, so it closes cleanly."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
