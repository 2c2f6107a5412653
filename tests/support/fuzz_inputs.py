"""Fuzzing selfreg's doors with hypothesis: what each target is fed and what counts as a crash.

Doors of a running selfreg (a real ``selfreg run`` child in Slack's HTTP mode, the
``click_attacks.Rig``): ``/selfreg`` command text, interactive payloads (block_actions shaped
from the real sample, view_submission shaped as the stand-in builds it) with wrong types,
missing keys and huge values, and requests on the control socket. A crash there is an answer
that is not one (HTTP 5xx, no ack, a reply without text) or a traceback or ERROR line in
selfreg's output; a refused input must leave the store as it was.

Each ``fuzz_*`` function runs one target for ``examples`` cases and returns a ``Figures``;
``tests/reliability/test_fuzz.py`` runs few, ``bench/fuzz_inputs.py`` many.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.click_attacks import Rig
from tests.support.slack_selfreg import CHANNEL, MALLORY

SAMPLES = Path("/work/shared/api-samples/slack")
COMMANDS = ["status", "health", "ack", "silence", "unsilence", "run", "actions", "history"]
COMMANDS += ["reload", "predict", "help", "incidents", "check", "explain"]
ACTION_IDS = ["incident.ack", "incident.silence_1h", "incident.silence_resolved"]
ACTION_IDS += ["incident.unsilence", "proposal.approve.1", "proposal.deny.1", "incident.useful"]
ENGINE = "selfreg"  # the actor of the engine's own audit rows (proposals made, expired)
FUZZER = "fuzzer"  # the local user the control target acts as, mapped to Mallory
CLI_USERS = f'\n[cli]\nusers = {{ {FUZZER} = "{MALLORY}" }}\n'
"""The rig's extra config: a mapped local user, so control requests get past the mapping."""
PEOPLE_ROUTES = ["/incidents/1/ack", "/silences", "/silences/1/end", "/actions/fix/run"]
PEOPLE_ROUTES += ["/actions/nope/run", "/proposals/1/deny", "/components/api/restart"]
PEOPLE_KEYS = ["incident", "matcher", "duration", "from", "reason"]


@dataclass
class Figures:
    """One target's result: cases tried, crashes (with the first one), refusals."""

    target: str
    tried: int = 0
    crashes: list[str] = field(default_factory=list)
    refused: int = 0
    recorded_by_refused: int = 0

    def row(self) -> str:
        first = self.crashes[0][:90] if self.crashes else "-"
        return (
            f"{self.target:28} {self.tried:6d} {len(self.crashes):7d} {self.refused:7d} "
            f"{self.recorded_by_refused:9d}  {first}"
        )


def run_cases(
    figures: Figures, strategy: st.SearchStrategy[Any], examples: int, one: Callable[[Any], None]
) -> Figures:
    """Feed ``examples`` cases of ``strategy`` to ``one``; an exception is a crash (kept,
    and the run goes on: hypothesis would stop at the first)."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def case(value: Any) -> None:
        figures.tried += 1
        try:
            one(value)
        except Exception as exc:  # a crash is a finding, counted, not the end of the run
            figures.crashes.append(f"{type(exc).__name__}: {exc}")

    case()
    return figures


# ---- strategies ---------------------------------------------------------------------------
def huge_text() -> st.SearchStrategy[str]:
    """Text from empty to very long, with NUL, control characters and any script."""
    return st.one_of(
        st.text(max_size=200),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=50).map(lambda s: s * 800),
        st.just("\x00" * 5000),
    )


def command_text() -> st.SearchStrategy[str]:
    words = st.one_of(st.sampled_from(COMMANDS), st.text(max_size=40), st.integers().map(str))
    return st.one_of(
        st.lists(words, max_size=6).map(" ".join),
        huge_text(),
        st.tuples(st.sampled_from(COMMANDS), huge_text()).map(" ".join),
    )


def junk() -> st.SearchStrategy[Any]:
    """A value of any JSON type, for a key that expects another."""
    return st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), huge_text()),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=6,
    )


def mutated(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``base`` with some keys (at any depth) dropped or replaced by junk."""
    paths = list(_paths(base))

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        doc = json.loads(json.dumps(base))
        for path in draw(st.lists(st.sampled_from(paths), max_size=4, unique=True)):
            _set(doc, path, None if draw(st.booleans()) else draw(junk()), drop=draw(st.booleans()))
        return doc

    return build()


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, value in items:
        out.append((*prefix, key))
        out.extend(_paths(value, (*prefix, key)))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any, *, drop: bool) -> None:
    node = doc
    for key in path[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(node, dict):
        if drop:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    elif isinstance(node, list) and isinstance(path[-1], int) and path[-1] < len(node):
        node[path[-1]] = value


# ---- a running selfreg's doors ------------------------------------------------------------
class Doors:
    """A ``Rig`` (child selfreg in HTTP mode, an incident with proposals) and how to knock."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.message = rig.incident_message(set())
        self.seen_output = 0

    def new_errors(self) -> list[str]:
        """Traceback or ERROR lines selfreg wrote since the last call."""
        output = self.rig.selfreg.output
        fresh, self.seen_output = output[self.seen_output :], len(output)
        return [line for line in fresh if "Traceback" in line or "  ERROR  " in line]

    def recorded(self) -> tuple[int, ...]:
        """What a refused input must not change: the rows a request could write. Not the
        engine's own audit rows (actor ``selfreg``: the sweep expiring ``fix-short`` 5 s
        after the incident opened, proposals), which land whenever their job runs, so under
        a slow run inside some refused request's window; nor ``decision.*`` rows, the trail
        of a refused approve or deny (a refusal is audited on purpose)."""
        db = self.rig.tmp / "data" / "selfreg.db"
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return tuple(
                conn.execute(sql).fetchone()[0]
                for sql in (
                    "SELECT count(*) FROM audit"
                    f" WHERE actor != '{ENGINE}' AND kind NOT LIKE 'decision.%'",
                    "SELECT count(*) FROM silences",
                    "SELECT count(*) FROM action_runs",
                    "SELECT count(*) FROM incidents WHERE acked_by IS NOT NULL",
                )
            )

    def settled(self, step: float = 0.05, limit: float = 3.0) -> tuple[int, ...]:
        """``recorded()`` once it and the ephemeral replies held still for ``step`` seconds
        (at most ``limit``): a Slack listener works on after its ack, and what it writes
        belongs to its own input, not to the next one."""
        deadline = time.monotonic() + limit
        last = (self.recorded(), len(self.rig.emu.hooks()))
        while True:
            time.sleep(step)
            now = (self.recorded(), len(self.rig.emu.hooks()))
            if now == last or time.monotonic() > deadline:
                return now[0]
            last = now

    def answer(
        self, figures: Figures, deliver: Callable[[], Any], refused: Callable[[Any], bool]
    ) -> None:
        """Deliver one input; a crash raises; count a refusal and anything it recorded."""
        before, hooks = self.recorded(), len(self.rig.emu.hooks())
        ack = deliver()
        after = self.settled()  # a listener finishes after its ack
        if errors := self.new_errors():
            raise AssertionError(errors[0].strip())
        if ack is not None and ack.status >= 500:
            raise AssertionError(f"HTTP {ack.status}")
        if refused(ack) or len(self.rig.emu.hooks()) > hooks:  # an ephemeral reply: a refusal
            figures.refused += 1
            if after != before:
                figures.recorded_by_refused += 1


def fuzz_slash(doors: Doors, examples: int) -> Figures:
    """``/selfreg TEXT`` from someone with no rights: every answer has text; refusals record
    nothing."""
    figures = Figures("slash command text")
    emu = doors.rig.emu

    def one(text: str) -> None:
        def refused(ack: Any) -> bool:
            reply = ack.payload or {}
            shown = str(reply.get("text") or "") + json.dumps(reply.get("blocks") or [])
            if not shown.strip():
                raise AssertionError(f"no text in the answer to {text[:40]!r}")
            return (
                "nothing changed" in shown.lower()
                or "usage" in shown.lower()
                or "not allowed" in shown.lower()
                or "may run" in shown.lower()
            )

        doors.answer(
            figures, lambda: emu.slash("/selfreg", text, user=MALLORY, channel=CHANNEL), refused
        )

    return run_cases(figures, command_text(), examples, one)


def fuzz_block_actions(doors: Doors, examples: int) -> Figures:
    """Clicks shaped from the real block_actions sample, on selfreg's action ids, mutated."""
    figures = Figures("block_actions payloads")
    sample = json.loads((SAMPLES / "socket_envelope_block_actions.json").read_text())
    emu, message = doors.rig.emu, doors.message
    base = sample["payload"]
    base["container"].update(message_ts=message.ts, channel_id=CHANNEL)
    base["channel"]["id"] = CHANNEL
    base["user"]["id"] = MALLORY
    base["response_url"] = emu.store.new_hook(
        emu.root_url, "actions", CHANNEL, MALLORY, (CHANNEL, message.ts)
    )
    strategy = st.tuples(
        st.sampled_from(ACTION_IDS), st.sampled_from(["1", "2", "x", ""]), mutated(base)
    )

    def one(case: tuple[str, str, dict[str, Any]]) -> None:
        action_id, value, payload = case
        if (
            isinstance(payload.get("actions"), list)
            and payload["actions"]
            and isinstance(payload["actions"][0], dict)
        ):
            payload["actions"][0].update(action_id=action_id, value=value)
        envelope = {"envelope_id": f"fz{figures.tried}", "type": "interactive", "payload": payload}
        try:
            doors.answer(figures, lambda: emu.send_envelope(envelope), _not_ok)
        except Exception as exc:
            raise AssertionError(f"{exc} on {json.dumps(payload)[:3000]}") from None

    return run_cases(figures, strategy, examples, one)


def fuzz_view_submission(doors: Doors, examples: int) -> Figures:
    """Deny-reason modal submissions with wrong types, missing keys and huge values."""
    figures = Figures("view_submission payloads")
    emu = doors.rig.emu
    base = {
        "type": "view_submission",
        "team": {"id": "T0SELF", "domain": "selfreg"},
        "user": {"id": MALLORY, "username": "mallory", "name": "mallory", "team_id": "T0SELF"},
        "api_app_id": "A0SELF",
        "token": "verification-token",
        "trigger_id": "1.2.3",
        "view": {
            "id": "V0FUZZ",
            "type": "modal",
            "callback_id": "proposal.deny_reason",
            "private_metadata": "1",
            "state": {"values": {"reason": {"text": {"type": "plain_text_input", "value": "no"}}}},
        },
        "response_urls": [],
    }

    def one(payload: dict[str, Any]) -> None:
        envelope = {"envelope_id": f"fv{figures.tried}", "type": "interactive", "payload": payload}
        doors.answer(figures, lambda: emu.send_envelope(envelope), _form_refused)

    return run_cases(figures, mutated(base), examples, one)


def people_body() -> st.SearchStrategy[bytes]:
    """A people route's body as the mapped local user, its other keys junk or missing."""
    return st.fixed_dictionaries(
        {"user": st.just(FUZZER)}, optional={key: junk() for key in PEOPLE_KEYS}
    ).map(lambda body: json.dumps(body).encode())


def fuzz_control(doors: Doors, examples: int) -> Figures:
    """Requests on the control socket: any method, route and body, and the people routes
    as a mapped local user (``CLI_USERS``) with junk in their keys."""
    figures = Figures("control socket requests")
    socket_path = doors.rig.tmp / "data" / "selfreg.sock"
    routes = st.one_of(
        st.sampled_from(["/status", "/health", "/reload", "/models", "/proposals/1/deny"]),
        st.integers(min_value=0).map(lambda n: f"/proposals/{n}/approve"),
        st.text(max_size=30).map(lambda s: "/" + s),
    )
    bodies = st.one_of(st.binary(max_size=200), junk().map(lambda v: json.dumps(v).encode()))
    strategy = st.one_of(
        st.tuples(st.sampled_from(["GET", "POST", "PUT"]), routes, bodies),
        st.tuples(st.just("POST"), st.sampled_from(PEOPLE_ROUTES), people_body()),
    )

    def one(case: tuple[str, str, bytes]) -> None:
        def deliver() -> Any:
            return asyncio.run(control_request(socket_path, *case))

        doors.answer(figures, deliver, lambda ack: ack.status >= 400)

    return run_cases(figures, strategy, examples, one)


def _not_ok(ack: Any) -> bool:
    return ack is None or ack.status != 200


def _form_refused(ack: Any) -> bool:
    return _not_ok(ack) or (ack.payload or {}).get("response_action") == "errors"


@dataclass
class _Answer:
    status: int


async def control_request(path: Path, method: str, route: str, body: bytes) -> _Answer:
    """One request on the control socket with aiohttp's client; its status."""
    connector = aiohttp.UnixConnector(path=str(path))
    async with aiohttp.ClientSession(connector=connector) as session:
        try:
            async with session.request(
                method, f"http://selfreg{route}", data=body, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                await response.read()
                return _Answer(response.status)
        except (ValueError, aiohttp.InvalidURL):
            return _Answer(400)  # the client refused to send it: nothing reached selfreg
