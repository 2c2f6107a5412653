"""The rule of which package may import which (docs/design.md, "Packages and the import rule").

Read from the source with ``ast``, every import counts (top-level, inside functions, under
``TYPE_CHECKING``): a lazy import is still a dependency. The test names each import that
breaks the rule as ``module -> imported module``, so a failure says where to look.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("common", "checks", "actions", "models", "bot")

LEAVES = {"common", "checks", "actions", "models"}
VOCABULARY = {
    "bot.records",
    "bot.clock",
    "bot.messages",
    "bot.errors",
    "bot.socket_probe",
    "bot.logline",
    "bot.tally",
}
SETTINGS = {"bot.config"}
SERVICES = {"bot.slack", "bot.web", "bot.control", "bot.pidfile", "bot.status_facts"}
ENTRY = {"bot.cli", "bot.startup", "bot.daemon", "bot.prerequisites", "bot.__main__"}

MAY_IMPORT: dict[str, set[str]] = {
    # leaf plugins: never bot/, and common imports nothing of the project
    "common": set(),
    "checks": {"common"},
    "actions": {"common", "checks"},
    "models": {"common"},
    # the shared vocabulary: records, wording, errors, the clock
    "bot.records": {"common", "checks", "actions"},
    "bot.clock": set(),
    "bot.socket_probe": set(),
    "bot.logline": set(),  # the one line format: everyone writes with it
    "bot.tally": set(),  # the counters /metrics shows: every part may count
    "bot.messages": {"common", "checks", "actions", "bot.records", "bot.logline"},
    "bot.errors": {"common", "checks", "bot.records", "bot.messages"},
    "bot.config": LEAVES | {"bot.errors", "bot.messages", "bot.records"},
    # the store keeps records; it never calls up into the engine, out to Slack, or into config
    "bot.store": LEAVES | VOCABULARY,
    # the engine decides; it never knows Slack, the web, the socket or the runtime
    "bot.engine": LEAVES | VOCABULARY | SETTINGS | {"bot.store"},
    "bot.notify": LEAVES | VOCABULARY | SETTINGS | {"bot.store"},
    # the doors to the outside, on top of the engine
    "bot.slack": LEAVES | VOCABULARY | SETTINGS | {"bot.store", "bot.engine", "bot.notify"},
    "bot.web": LEAVES | VOCABULARY | SETTINGS | {"bot.store", "bot.engine"},
    "bot.control": LEAVES | VOCABULARY | SETTINGS | {"bot.store", "bot.engine"},
    "bot.pidfile": LEAVES | VOCABULARY | SETTINGS | {"bot.engine"},
    "bot.interpreter": SETTINGS,  # how the daemon's interpreter runs: one environment value
    "bot.ca_store": set(),  # aiohttp's default TLS contexts: nothing of the project
    "bot.status_facts": LEAVES | VOCABULARY | SETTINGS | {"bot.store", "bot.engine"},
    # the composition root builds every part
    "bot.runtime": LEAVES
    | VOCABULARY
    | SETTINGS
    | {"bot.store", "bot.engine", "bot.notify"}
    | SERVICES,
}
"""What each package may import besides itself; the entry points (ENTRY) may import anything."""


def _group(module: str) -> str:
    parts = module.split(".")
    return parts[0] if parts[0] != "bot" or len(parts) == 1 else f"bot.{parts[1]}"


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            yield name.removesuffix(".__init__"), path


def _imports(name: str, path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            yield base
            if base == "bot":  # ``from bot import messages`` (not ``__version__``)
                yield from (f"bot.{a.name}" for a in node.names if not a.name.startswith("__"))


def _breaks() -> list[str]:
    found = []
    for name, path in _modules():
        mine = _group(name)
        for target in _imports(name, path):
            theirs = _group(target)
            outside = theirs.split(".")[0] not in PRODUCT
            if outside or theirs in (mine, "bot") or mine in ENTRY:
                continue  # another project, itself, ``from bot import x`` (judged as x), an entry
            allowed = MAY_IMPORT.get(mine)
            if allowed is None:
                found.append(f"{name}: package {mine} has no rule")
            elif theirs not in allowed:
                found.append(f"{name} -> {target}")
    return sorted(set(found))


def test_every_import_follows_the_package_rule() -> None:
    assert _breaks() == []


def test_the_rule_covers_every_package_there_is() -> None:
    groups = {_group(name) for name, _ in _modules()} - {"bot"}
    assert groups <= set(MAY_IMPORT) | ENTRY


def test_importing_the_store_loads_no_config_engine_or_slack_module() -> None:
    """The rule also holds at run time: importing the store (backup and restore too) runs
    nothing of bot.config (whose ``__init__`` loads the config-reading code), the engine or
    Slack."""
    program = (
        "import bot.store, bot.store.backup, bot.store.restore, bot.store.archive; import sys; "
        "print(sorted(m for m in sys.modules if m.startswith('bot.config') "
        "or m.startswith('bot.engine') or m.startswith('bot.slack')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"
