"""``[[api.tokens]]``: tokens come from the environment (never the file), an identity acts as a
Slack-style user id, and a bad entry names its file, key and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError

GOOD = """
[api]
tokens = [
  { name = "deploy-bot", token_env = "DEPLOY_TOKEN", actor = "U0DEPLOY", roles = ["operate"] },
  { name = "viewer", token_env = "VIEW_TOKEN", actor = "U0VIEW" },
]
"""


def test_tokens_are_read_from_their_variables_and_unset_ones_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "selfreg.toml"
    path.write_text(GOOD)
    loaded = load_settings(str(path), {"DEPLOY_TOKEN": "d-0123456789"})
    assert dict(loaded.api_tokens) == {"deploy-bot": "d-0123456789"}
    [deploy, viewer] = loaded.settings.api.tokens
    assert (deploy.roles, viewer.roles) == (["operate"], ["read"])
    assert "d-0123456789" not in repr(loaded)


def test_two_identities_with_one_token_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "selfreg.toml"
    path.write_text(GOOD)
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), {"DEPLOY_TOKEN": "same-0123", "VIEW_TOKEN": "same-0123"})
    assert [str(p) for p in caught.value.problems] == [
        "environment: VIEW_TOKEN: [[api.tokens]] 'deploy-bot' and 'viewer' hold the same "
        "token: give each its own"
    ]


def test_an_actor_that_is_not_a_user_id_names_file_key_and_value(tmp_path: Path) -> None:
    path = tmp_path / "selfreg.toml"
    path.write_text(
        '[[api.tokens]]\nname = "ops"\ntoken_env = "OPS_TOKEN"\nactor = "alice"\nroles = ["root"]\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), {})
    lines = [str(p) for p in caught.value.problems]
    assert any(f"{path}: api.tokens[0]" in line and '"alice"' in line for line in lines), lines
    assert any("roles" in line and '"root"' in line for line in lines), lines
