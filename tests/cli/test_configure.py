"""bot.cli.configure in-process: ``config check`` counts a good config and lists every problem
of a bad one (exit 2); ``config docs`` prints the generated reference."""

from __future__ import annotations

from pathlib import Path

from bot.config.docs import render_reference
from tests.support.control_standin import TCP_CHECK, invoke, write_config


def test_config_check_of_a_good_file_names_it_and_counts_what_it_holds(
    tmp_path: Path, data_dir: Path
) -> None:
    config = write_config(tmp_path, TCP_CHECK.format(name="db", port=5432))
    result = invoke(data_dir, "config", "check", str(config))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{config}: valid (1 check, 0 components, 0 actions)"


def test_config_check_lists_every_problem_and_exits_2(tmp_path: Path, data_dir: Path) -> None:
    bad = TCP_CHECK.format(name="db", port=70000) + TCP_CHECK.format(name="db", port=1)
    config = write_config(tmp_path, bad + 'bogus = "x"\n')
    result = invoke(data_dir, "config", "check", str(config))
    assert result.exit_code == 2
    problems = result.stderr.strip().splitlines()
    assert problems[-1].endswith("problem(s) found; selfreg would not start.")
    count = int(problems[-1].split()[0])
    assert count == len(problems) - 1 >= 2, "one line per problem, then the count"
    assert any("70000" in line for line in problems)
    assert all(str(config) in line for line in problems[:-1])
    assert result.stdout == ""


def test_config_docs_prints_the_reference_generated_from_the_models(data_dir: Path) -> None:
    result = invoke(data_dir, "config", "docs")
    assert result.exit_code == 0
    assert result.stdout == render_reference()
    assert "[[checks]]" in result.stdout
