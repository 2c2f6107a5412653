"""bot.cli.terminal: colour only on a terminal without NO_COLOR; a spinner only for slow steps."""

from __future__ import annotations

import asyncio
import io

import click

from bot.cli.terminal import SPINNER_AFTER, Spinner, paint, wants_colour


class Terminal(io.StringIO):
    """A text stream that says it is a terminal, as sys.stdout does in a person's shell."""

    def isatty(self) -> bool:
        return True


def test_colour_is_wanted_on_a_terminal_unless_no_color_is_set() -> None:
    assert wants_colour(Terminal(), environ={})
    assert not wants_colour(Terminal(), environ={"NO_COLOR": ""}), "any value turns it off"
    assert not wants_colour(io.StringIO(), environ={}), "a file or a pipe stays plain"
    assert not wants_colour(object(), environ={}), "a stream without isatty stays plain"  # type: ignore[arg-type]


def test_paint_colours_the_known_state_words_only() -> None:
    assert paint("ok", True) == click.style("ok", fg="green", bold=False)
    assert paint("FAIL", True) == click.style("FAIL", fg="red", bold=True)
    assert paint("  warn ", True) == click.style("  warn ", fg="yellow", bold=False)
    assert paint("ok", False) == "ok"
    assert paint("banana", True) == "banana"


async def test_a_quick_step_draws_no_spinner() -> None:
    out = Terminal()
    async with Spinner(out, "checking", enabled=True):
        await asyncio.sleep(0.01)
    assert out.getvalue() == ""


async def test_a_slow_step_shows_the_spinner_and_erases_it_at_the_end() -> None:
    out = Terminal()
    async with Spinner(out, "checking", enabled=True):
        await asyncio.sleep(SPINNER_AFTER + 0.15)
    text = out.getvalue()
    assert "\r  |  checking ..." in text
    assert text.count("checking ...") >= 2, "frames keep coming while the step runs"
    assert text.endswith("\r\x1b[K"), "the line is erased when the step ends"


async def test_a_disabled_spinner_prints_nothing_however_slow_the_step() -> None:
    out = io.StringIO()
    async with Spinner(out, "checking", enabled=False):
        await asyncio.sleep(SPINNER_AFTER + 0.05)
    assert out.getvalue() == ""
