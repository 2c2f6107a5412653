"""Every ``messages.x`` that product code calls exists in the ``bot.messages`` package.

The package star-imports its modules; a module left out of ``bot/messages/__init__.py``, or a
misspelt name, would otherwise fail only when that line first runs.
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


def test_no_two_message_modules_define_the_same_name() -> None:
    """The package star-imports its modules: a name defined twice silently keeps the last."""
    owners: dict[str, list[str]] = {}
    for path in sorted((ROOT / "messages").glob("*.py")):
        for name in re.findall(r"^(?:def |class )?([A-Za-z]\w*)\b", path.read_text(), re.M):
            if re.search(rf"^(def |class ){name}\b|^{name}\s*[:=]", path.read_text(), re.M):
                owners.setdefault(name, []).append(path.stem)
    twice = {name: files for name, files in owners.items() if len(set(files)) > 1}
    assert twice == {}
