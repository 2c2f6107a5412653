"""Every ``messages.x`` that product code calls exists in the ``bot.messages`` package.

The package re-exports its modules' names by hand; a sentence added to a module but not to
``bot/messages/__init__.py`` would fail only when that line first runs.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot import messages

ROOT = Path(__file__).resolve().parents[1] / "bot"


def test_every_messages_name_used_in_bot_exists() -> None:
    missing = sorted(
        f"{path.relative_to(ROOT.parent)}: messages.{name}"
        for path in ROOT.rglob("*.py")
        if "messages" not in path.parts
        for name in set(re.findall(r"\bmessages\.([A-Za-z_]\w*)", path.read_text()))
        if not hasattr(messages, name)
    )
    assert not missing, missing
