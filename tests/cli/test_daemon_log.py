"""``selfreg start`` rotates a grown log before it appends to it, keeping a few old ones."""

from __future__ import annotations

from pathlib import Path

from bot.daemon import rotate_log


def test_a_log_past_its_limit_is_rotated_and_old_ones_shift(tmp_path: Path) -> None:
    log = tmp_path / "selfreg.log"
    for generation in ("first", "second", "third", "fourth"):
        log.write_text(generation * 10)
        rotate_log(log, limit=20, keep=2)
    assert not log.exists()
    assert (tmp_path / "selfreg.log.1").read_text().startswith("fourth")
    assert (tmp_path / "selfreg.log.2").read_text().startswith("third")
    assert not (tmp_path / "selfreg.log.3").exists()


def test_a_small_log_is_left_to_grow(tmp_path: Path) -> None:
    log = tmp_path / "selfreg.log"
    log.write_text("short")
    rotate_log(log, limit=1000)
    assert log.read_text() == "short" and not (tmp_path / "selfreg.log.1").exists()
