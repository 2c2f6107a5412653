"""bot.cli.configure in-process: ``config check`` counts a good config and lists every problem
of a bad one (exit 2), a misspelt key with the nearest known one; ``config docs`` prints
the generated reference and ``config schema`` a JSON Schema the example satisfies."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from bot.config import bundled_example, load_settings
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


def test_a_misspelt_key_is_answered_with_the_nearest_known_one(
    tmp_path: Path, data_dir: Path
) -> None:
    text = TCP_CHECK.format(name="db", port=5432).replace('interval = "1s"', 'intervall = "1s"')
    config = write_config(tmp_path, text + "[web]\nprot = 8080\n[cli]\nusres = {}\n")
    result = invoke(data_dir, "config", "check", str(config))
    assert result.exit_code == 2
    problems = result.stderr.strip().splitlines()[:-1]
    assert sorted(problems) == sorted(
        [
            f'{config}: checks[0] "db".intervall = "1s": unknown key; did you mean `interval`?',
            f"{config}: web.prot = 8080: unknown key; did you mean `port`?",
            f"{config}: cli.usres: unknown key; did you mean `users`?",
        ]
    )


def test_a_misspelt_kind_is_answered_with_the_nearest_known_one(
    tmp_path: Path, data_dir: Path
) -> None:
    text = TCP_CHECK.format(name="db", port=5432).replace('kind = "tcp"', 'kind = "tpc"')
    result = invoke(data_dir, "config", "check", str(write_config(tmp_path, text)))
    assert result.exit_code == 2
    assert 'kind = "tpc": unknown check kind; did you mean `tcp`? known kinds: ' in result.stderr


def test_a_key_far_from_every_known_one_lists_the_known_keys(
    tmp_path: Path, data_dir: Path
) -> None:
    config = write_config(tmp_path, "[reload]\nzzz = 1\n")
    result = invoke(data_dir, "config", "check", str(config))
    assert result.stderr.splitlines()[0] == (
        f"{config}: reload.zzz = 1: unknown key; known keys here: poll_every, watch"
    )


def test_config_schema_is_a_json_schema_the_bundled_example_satisfies(data_dir: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    result = invoke(data_dir, "config", "schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    example = tomllib.loads(bundled_example().read_text())
    jsonschema.validate(example, schema)  # "30s" durations and "80%" percents included
    with pytest.raises(jsonschema.ValidationError, match="intervall"):
        jsonschema.validate({"checks": [{**example["checks"][0], "intervall": "5s"}]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"web": {"port": "soon"}}, schema)


def test_cli_users_map_to_slack_user_ids_with_a_star_for_everyone_else(
    tmp_path: Path, data_dir: Path
) -> None:
    good = write_config(tmp_path, '[cli]\nusers = { alice = "U012ABC", "*" = "U0OPS" }\n')
    cli = load_settings(str(good)).settings.cli
    assert (cli.approver_for("alice"), cli.approver_for("bob")) == ("U012ABC", "U0OPS")
    bad = write_config(tmp_path, '[cli]\nusers = { alice = "ops" }\n')
    result = invoke(data_dir, "config", "check", str(bad))
    assert result.exit_code == 2
    assert "alice = 'ops': expected a Slack user id (U… or W…)" in result.stderr
