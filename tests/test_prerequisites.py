"""bot.prerequisites: each check before start, what it says when it holds and why it fails.

Configs are validated documents with a config file under tmp_path; executables are real
files, the data folder a real folder, the web port a real loopback socket.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from bot import prerequisites
from bot.config import LoadedConfig, validate
from bot.errors import PrerequisiteFailed
from tests.support.servers import free_port, tcp_listener


def loaded(tmp_path: Path, document: dict[str, Any], web_token: str | None = None) -> LoadedConfig:
    config_file = tmp_path / "selfreg.toml"
    return LoadedConfig(
        settings=validate(document, [(config_file, document)]),
        files=(config_file,),
        data_dir=tmp_path / "data",
        web_token=web_token,
        log_level="INFO",
    )


def components(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"components": [dict(name=f"c{n}", **entry) for n, entry in enumerate(entries)]}


def script(path: Path, executable: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755 if executable else 0o644)
    return path


# ---- Python --------------------------------------------------------------------------------
def test_this_python_is_new_enough_and_named() -> None:
    found = ".".join(str(part) for part in sys.version_info[:3])
    # pytest runs without -OO; a selfreg daemon runs with it (tests/scenarios/test_start_stop.py)
    assert prerequisites.python_version() == f"{found} ({sys.executable}; docstrings kept)"
    assert prerequisites.python_version((3, 11, 0)).startswith("3.11.0 (")


def test_an_old_python_is_refused_with_the_lowest_supported() -> None:
    with pytest.raises(PrerequisiteFailed) as failed:
        prerequisites.python_version((3, 10, 14))
    assert str(failed.value) == "Python 3.10.14 is too old: selfreg needs 3.11 or later"


# ---- web exposure --------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_a_loopback_host_needs_no_token(tmp_path: Path, host: str) -> None:
    config = loaded(tmp_path, {"web": {"host": host}})
    assert prerequisites.web_exposure(config) == f"{host} is loopback: only this machine reaches it"


def test_a_host_beyond_loopback_needs_the_web_token(tmp_path: Path) -> None:
    config = loaded(tmp_path, {"web": {"host": "0.0.0.0"}})
    with pytest.raises(PrerequisiteFailed) as failed:
        prerequisites.web_exposure(config)
    assert str(failed.value) == (
        "the web server would listen on 0.0.0.0, beyond this machine, so every route but "
        "/health needs a token: set SELFREG_WEB_TOKEN, or bind 127.0.0.1"
    )
    with_token = loaded(tmp_path, {"web": {"host": "0.0.0.0"}}, web_token="s3cret")
    assert prerequisites.web_exposure(with_token) == (
        "0.0.0.0: every route but /health needs SELFREG_WEB_TOKEN"
    )


# ---- executables ---------------------------------------------------------------------------
def test_no_components_is_said(tmp_path: Path) -> None:
    assert prerequisites.executables(loaded(tmp_path, {})) == "no components configured"


def test_every_component_program_found_names_them(tmp_path: Path) -> None:
    script(tmp_path / "bin" / "serve")
    config = loaded(
        tmp_path,
        components(
            {"command": ["python", "-c", "pass"]},  # this interpreter
            {"command": ["sh", "-c", "true"]},  # on selfreg's PATH
            {"command": ["./serve"], "cwd": "bin"},  # relative to the component's folder
            {"command": [str(tmp_path / "bin" / "serve")]},  # absolute
        ),
    )
    assert prerequisites.executables(config) == "found for 4 component(s): c0, c1, c2, c3"


def test_a_program_missing_from_path_fails_with_each_missing_one(tmp_path: Path) -> None:
    config = loaded(
        tmp_path,
        components(
            {"command": ["no-such-program-7f3a", "-c"]},
            {"command": ["python", "-c", "pass"]},
            {"command": ["no-such-program-9b1c"]},
        ),
    )
    with pytest.raises(PrerequisiteFailed) as failed:
        prerequisites.executables(config)
    assert str(failed.value) == (
        'component "c0": "no-such-program-7f3a" is not found on PATH; '
        'component "c2": "no-such-program-9b1c" is not found on PATH'
    )


def test_a_path_that_is_not_an_executable_file_fails_naming_its_folder(tmp_path: Path) -> None:
    script(tmp_path / "bin" / "serve", executable=False)
    config = loaded(tmp_path, components({"command": ["./serve"], "cwd": "bin"}))
    with pytest.raises(PrerequisiteFailed) as failed:
        prerequisites.executables(config)
    assert str(failed.value) == (
        f'component "c0": ./serve is not an executable file (from {tmp_path / "bin"})'
    )
    absent = loaded(tmp_path, components({"command": ["./absent"]}))
    with pytest.raises(PrerequisiteFailed, match=r"\./absent is not an executable file"):
        prerequisites.executables(absent)


def test_a_component_path_in_its_env_is_where_its_program_is_looked_for(tmp_path: Path) -> None:
    own_bin = tmp_path / "own-bin"
    script(own_bin / "only-here-5d2e")
    with_path = {"command": ["only-here-5d2e"], "env": {"PATH": str(own_bin)}}
    found = prerequisites.find_executable(
        loaded(tmp_path, components(with_path)).settings.components[0], tmp_path
    )
    assert found == str(own_bin / "only-here-5d2e")
    # without its own PATH, selfreg's is searched, and the program is not there
    config = loaded(tmp_path, components({"command": ["only-here-5d2e"]}))
    with pytest.raises(PrerequisiteFailed, match='"only-here-5d2e" is not found on PATH'):
        prerequisites.executables(config)
    # its own PATH replaces selfreg's: "sh" is not in own-bin
    no_sh = loaded(tmp_path, components({"command": ["sh"], "env": {"PATH": str(own_bin)}}))
    with pytest.raises(PrerequisiteFailed, match='"sh" is not found on PATH'):
        prerequisites.executables(no_sh)


# ---- data folder ---------------------------------------------------------------------------
def test_the_data_folder_is_created_and_written_once_with_its_free_space(tmp_path: Path) -> None:
    data = tmp_path / "deep" / "data"
    said = prerequisites.data_folder(data)
    assert data.is_dir()
    assert re.fullmatch(rf"{re.escape(str(data))} is writable \(\d+\.\d GB free\)", said)
    assert list(data.iterdir()) == []  # the write test leaves nothing


def test_a_data_folder_that_cannot_be_made_fails_with_the_reason(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(PrerequisiteFailed) as failed:
        prerequisites.data_folder(blocker / "data")
    text = str(failed.value)
    assert text.startswith(f"cannot write in the data folder {blocker / 'data'}: ")
    assert "Not a directory" in text or "File exists" in text


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in a read-only folder")
def test_a_read_only_data_folder_fails(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o555)
    try:
        with pytest.raises(PrerequisiteFailed, match="cannot write in the data folder"):
            prerequisites.data_folder(data)
    finally:
        data.chmod(0o755)


# ---- web port ------------------------------------------------------------------------------
def test_port_zero_is_any_free_port(tmp_path: Path) -> None:
    config = loaded(tmp_path, {"web": {"port": 0}})
    assert prerequisites.web_port(config) == "127.0.0.1: any free port"


def test_a_free_port_is_said_and_left_free(tmp_path: Path) -> None:
    port = free_port()
    config = loaded(tmp_path, {"web": {"port": port}})
    assert prerequisites.web_port(config) == f"127.0.0.1:{port} is free"
    with socket.socket() as again:  # the probe did not keep it
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))


def test_a_taken_port_fails_naming_host_port_and_error(tmp_path: Path) -> None:
    with tcp_listener() as listener:
        port = listener.getsockname()[1]
        config = loaded(tmp_path, {"web": {"port": port}})
        with pytest.raises(PrerequisiteFailed) as failed:
            prerequisites.web_port(config)
    text = str(failed.value)
    assert text.startswith(f"the web server cannot listen on 127.0.0.1:{port}: ")
    assert "in use" in text.lower()
    assert text.endswith("(another program uses it? set SELFREG_WEB_PORT or [web] port)")


def test_an_address_not_on_this_machine_fails_the_same_way(tmp_path: Path) -> None:
    config = loaded(tmp_path, {"web": {"host": "192.0.2.1", "port": free_port()}})  # TEST-NET-1
    with pytest.raises(PrerequisiteFailed, match=r"cannot listen on 192\.0\.2\.1:\d+: "):
        prerequisites.web_port(config)
