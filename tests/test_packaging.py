"""Packaging: the LICENSE matches pyproject's licence, the version is written in one place
(bot/__init__.py, read by hatch) and every dependency has a floor scripts/test-floors can pin."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from bot import __version__

ROOT = Path(__file__).resolve().parents[1]


def project() -> dict:  # type: ignore[type-arg]
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def test_the_license_file_is_the_mit_licence_pyproject_names() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 the selfreg authors" in text
    assert project()["project"]["license"] == {"text": "MIT"}


def test_the_version_is_written_once_in_bot_init() -> None:
    settings = project()
    assert "version" not in settings["project"]
    assert settings["project"]["dynamic"] == ["version"]
    assert settings["tool"]["hatch"]["version"]["path"] == "bot/__init__.py"
    written = re.findall(r'^__version__ = "([^"]+)"$', (ROOT / "bot/__init__.py").read_text(), re.M)
    assert written == [__version__]
    assert version("selfreg") == __version__, "the installed metadata says the same"


def test_every_dependency_has_a_floor() -> None:
    for dependency in project()["project"]["dependencies"]:
        assert re.search(r">=\s*\d", dependency), f"{dependency}: scripts/test-floors pins >= X"
