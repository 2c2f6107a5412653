"""Docs are claims that tests keep true: config reference, .env.example, CLI help, layout."""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

from bot.cli import cli
from bot.config import ENVIRONMENT_VARIABLES
from bot.config.docs import render_reference

ROOT = Path(__file__).resolve().parents[2]


def test_docs_config_md_is_generated_from_the_models() -> None:
    committed = (ROOT / "docs" / "config.md").read_text()
    assert committed == render_reference(), (
        "docs/config.md is stale: run `selfreg config docs > docs/config.md`"
    )


def test_env_example_lists_exactly_the_variables_selfreg_reads() -> None:
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert listed == set(ENVIRONMENT_VARIABLES)


def test_no_module_reads_environment_variables_it_does_not_declare() -> None:
    used: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        text = path.read_text()
        used.update(re.findall(r"""(?:environ|env)\.get\(\s*["']([A-Z][A-Z0-9_]+)["']""", text))
        # a subscript that is read, not assigned (selfreg sets some variables for its children)
        used.update(
            re.findall(r"""(?:environ|env)\[\s*["']([A-Z][A-Z0-9_]+)["']\s*\](?!\s*=[^=])""", text)
        )
    assert used <= set(ENVIRONMENT_VARIABLES), used - set(ENVIRONMENT_VARIABLES)


def _commands(group: click.Group, prefix: str = "selfreg") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


def test_every_cli_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    runner = CliRunner()
    for path, command in _commands(cli):
        assert (command.help or "").strip(), f"{path} has no help text"
        words = path.split()[1:]
        result = runner.invoke(cli, [*words, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, path
        if not isinstance(command, click.Group):
            assert f"`{path}" in readme, f"{path} is missing from the README"


def test_leaf_plugin_packages_never_import_bot() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+bot(\.|\s|$)", flags=re.MULTILINE)
    for package in ("checks", "actions", "models"):
        for path in (ROOT / package).rglob("*.py"):
            assert not pattern.search(path.read_text()), f"{path} imports bot"


def test_the_readme_holds_the_two_quick_start_commands_and_ci_runs_the_second() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.DOTALL)
    assert blocks[0].strip() == "pip install -e . && selfreg run"
    assert blocks[1].strip() == "./scripts/test"
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text()
