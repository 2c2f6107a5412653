"""Beyond loopback the web server needs a token; with a token every route but /health is gated."""

from __future__ import annotations

from pathlib import Path

from tests.scenarios.test_run_end_to_end import get
from tests.support.selfreg_process import SelfregProcess, run_cli, selfreg_env

CONFIG = '[[checks]]\nkind = "selfreg"\nname = "selfreg"\ninterval = "1s"\n'


def test_binding_beyond_loopback_without_a_token_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "selfreg.toml"
    config.write_text(CONFIG)
    env = selfreg_env(tmp_path / "data", SELFREG_WEB_HOST="0.0.0.0")
    done = run_cli("run", "--config", str(config), env=env)
    assert done.returncode == 2
    assert "set SELFREG_WEB_TOKEN, or bind 127.0.0.1" in done.stderr
    assert not (tmp_path / "data").exists(), "nothing was started"


def test_with_a_token_every_route_but_health_needs_it(tmp_path: Path) -> None:
    config = tmp_path / "selfreg.toml"
    config.write_text(CONFIG)
    env = selfreg_env(tmp_path / "data", SELFREG_WEB_TOKEN="s3cret-token")
    selfreg = SelfregProcess(config, env)
    try:
        url = selfreg.wait_ready()
        assert get(f"{url}/health")[0] == 200
        for route in ("/status", "/metrics"):
            assert get(f"{url}{route}")[0] == 401
            assert get(f"{url}{route}", token="wrong")[0] == 401
            assert get(f"{url}{route}", token="s3cret-token")[0] == 200
    finally:
        selfreg.stop()
    assert "s3cret-token" not in "".join(selfreg.output), "the token never reaches the logs"
