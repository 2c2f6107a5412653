"""The console channel under a crash loop: the terminal gets the commands that do what
Slack's *Restart anyway* and the acknowledgement do, since it has no buttons."""

from __future__ import annotations

import io

from bot.notify.base import OutboxMessage
from bot.notify.console import ConsoleNotifier


def crash_loop_notice(notice: str) -> OutboxMessage:
    return OutboxMessage(
        id=1, channel="console", kind="incident.notice", attempts=1,
        payload={
            "notice": notice,
            "text": "Component demo exited 5 times within 1 m 0 s: automatic restarts are stopped.",
            "incident": {"id": 4, "kind": "crash-loop", "check": "component:demo", "subject": "",
                         "severity": "error", "state": "open", "last_seen_at": 1_700_000_000.0},
        },
    )  # fmt: skip


async def test_a_crash_loop_opening_names_the_commands_that_answer_it() -> None:
    out = io.StringIO()
    await ConsoleNotifier(out).deliver(crash_loop_notice("opened"))
    opened, hint = out.getvalue().splitlines()
    assert "automatic restarts are stopped" in opened
    assert hint.endswith(
        "It stays stopped until started: `selfreg component start demo` restarts it "
        "(and closes this incident) · `selfreg ack 4` stops the escalation"
    )


async def test_later_notices_of_the_crash_loop_do_not_repeat_it() -> None:
    out = io.StringIO()
    await ConsoleNotifier(out).deliver(crash_loop_notice("escalated"))
    assert len(out.getvalue().splitlines()) == 1
