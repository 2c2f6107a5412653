"""Loading the configuration: read once, in one place (``load_settings``).

The base file (``--config``, ``SELFREG_CONFIG``, ``./selfreg.toml`` or the bundled example),
then its ``SELFREG_ENV`` overlay merged over it, then the environment; validated by pydantic,
every problem reported with the file, the key path and the bad value (``problems``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import messages
from bot.config.api import api_secrets
from bot.config.environment import (
    SlackConnection,
    environment_overrides,
    heartbeat_url,
    log_format,
    log_level,
    python_optimize,
    slack_connection,
)
from bot.config.problems import validate
from bot.config.schema import Settings
from bot.errors import MISSING, ConfigError, ConfigProblem
from bot.records import BackupPlace
from checks.base import CheckSpec


@dataclass(frozen=True, kw_only=True, slots=True)
class LoadedConfig:
    """A validated configuration and where it came from."""

    settings: Settings
    files: tuple[Path, ...]
    data_dir: Path
    web_token: str | None = field(repr=False)
    log_level: str
    log_format: str = "text"  # SELFREG_LOG_FORMAT: text or json (bot.logline)
    slack: SlackConnection = field(default_factory=lambda: SlackConnection(mode="off"))
    smtp_password: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    heartbeat_url: str | None = field(default=None, repr=False)
    api_tokens: Mapping[str, str] = field(default_factory=dict, repr=False)  # identity -> token

    @property
    def db_path(self) -> Path:
        return self.data_dir / self.settings.store.path

    @property
    def control_socket(self) -> Path:
        return self.data_dir / "selfreg.sock"

    @property
    def backup_place(self) -> BackupPlace:
        """The ``[backup]`` section with its folders resolved under the data folder."""
        backup = self.settings.backup
        return BackupPlace(
            db_path=self.db_path,
            data_dir=self.data_dir,
            control_socket=self.control_socket,
            config_files=self.files,
            folder=self.data_dir / backup.folder,
            keep=backup.keep,
            copy_to=self.data_dir / backup.copy_to if backup.copy_to else None,
            on_start=backup.on_start,
        )

    def check_specs(self) -> list[CheckSpec]:
        return list(self.settings.checks)


def bundled_example() -> Path:
    """The example config shipped with selfreg (used when no config file is given)."""
    here = Path(__file__).resolve().parent.parent  # bot/ (the wheel puts example.toml there)
    for candidate in (here.parent / "examples" / "selfreg.toml", here / "example.toml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(messages.bundled_example_missing())


def config_path(explicit: str | None, environ: Mapping[str, str]) -> Path:
    """Which file to read: --config, SELFREG_CONFIG, ./selfreg.toml, else the bundled example."""
    chosen = explicit or environ.get("SELFREG_CONFIG")
    if chosen:
        return Path(chosen)
    local = Path("selfreg.toml")
    return local if local.is_file() else bundled_example()


def overlay_path(base: Path, env_name: str) -> Path:
    """``selfreg.toml`` + ``prod`` -> ``selfreg.prod.toml`` beside it."""
    return base.with_name(f"{base.stem}.{env_name}{base.suffix}")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            [ConfigProblem(str(path), "", MISSING, messages.no_such_file())]
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            [ConfigProblem(str(path), "", MISSING, messages.not_valid_toml(str(exc)))]
        ) from None


def merge_overlay(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``overlay`` over ``base``: tables deep-merge, lists of named tables merge by name."""
    merged = dict(base)
    for key, value in overlay.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = merge_overlay(current, value)
        elif _named_tables(current) and _named_tables(value):
            by_name = {entry["name"]: entry for entry in current}
            for entry in value:
                previous = by_name.get(entry["name"])
                by_name[entry["name"]] = merge_overlay(previous, entry) if previous else entry
            merged[key] = list(by_name.values())
        else:
            merged[key] = value
    return merged


def _named_tables(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(e, dict) and "name" in e for e in value)


def load_settings(
    explicit: str | None = None, environ: Mapping[str, str] | None = None
) -> LoadedConfig:
    """Read, merge and validate the config; raise ``ConfigError`` listing every problem."""
    env = os.environ if environ is None else environ
    base_path = config_path(explicit, env)
    files = [(base_path, _read_toml(base_path))]
    if env_name := env.get("SELFREG_ENV"):
        files.append((overlay := overlay_path(base_path, env_name), _read_toml(overlay)))
    document: dict[str, Any] = {}
    for _, raw in files:
        document = merge_overlay(document, raw)
    overrides, problems = environment_overrides(env)
    level, level_problems = log_level(env)
    fmt, format_problems = log_format(env)
    _, optimize_problems = python_optimize(env)
    if problems := problems + level_problems + format_problems + optimize_problems:
        raise ConfigError(problems)
    settings = validate(merge_overlay(document, overrides), files)
    slack, problems = slack_connection(env, settings)
    heartbeat, heartbeat_problems = heartbeat_url(env)
    api_tokens, api_problems = api_secrets(settings.api, env)
    if problems := problems + heartbeat_problems + api_problems:
        raise ConfigError(problems)
    return LoadedConfig(
        settings=settings,
        files=tuple(path for path, _ in files),
        data_dir=Path(env.get("SELFREG_DATA_DIR") or "var"),
        web_token=env.get("SELFREG_WEB_TOKEN") or None,
        log_level=level,
        log_format=fmt,
        slack=slack,
        smtp_password=env.get("SELFREG_SMTP_PASSWORD") or None,
        webhook_secret=env.get("SELFREG_WEBHOOK_SECRET") or None,
        heartbeat_url=heartbeat,
        api_tokens=api_tokens,
    )
