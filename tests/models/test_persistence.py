"""Saved model state: round trip, and refusal of foreign, tampered or mismatched files."""

from __future__ import annotations

import pickle
import random
import stat
from pathlib import Path

import numpy as np
import pytest
import sklearn

from models import persistence
from models.anomaly import FEATURES, AnomalyDetector, fit_group_models, score_interval
from models.base import StateMismatch
from models.persistence import UntrustedState


def intervals(n: int, seed: int, start: float = 0.0) -> list[tuple[float, list[tuple[str, float]]]]:
    rng, out = random.Random(seed), []
    for i in range(n):
        base = rng.uniform(0.0, 10.0)
        sample = [("h|cpu|a", base + rng.gauss(0, 0.1)), ("h|cpu|b", base + rng.gauss(0, 0.1))]
        out.append((start + 60.0 * (i + 1), sample))
    return out


def trained() -> AnomalyDetector:
    detector = AnomalyDetector(warmup=50, min_group_rows=100)
    for at, sample in intervals(250, seed=0):
        score_interval(detector, at, sample)
    detector.install(fit_group_models(detector.snapshot(at), detector.template))
    return detector


@pytest.fixture
def key(tmp_path: Path) -> bytes:
    return persistence.load_or_create_key(tmp_path / "model.key")


def save(detector: AnomalyDetector, path: Path, key: bytes) -> None:
    arrays, meta = detector.state_dict()
    persistence.save(path, arrays, meta, key=key, feature_names=FEATURES)


def test_a_restored_detector_scores_exactly_like_the_one_that_never_stopped(
    tmp_path: Path, key: bytes
) -> None:
    original = trained()
    save(original, tmp_path / "state.bin", key)
    restored = AnomalyDetector(warmup=50, min_group_rows=100)
    restored.load_state_dict(
        *persistence.load(tmp_path / "state.bin", key=key, feature_names=FEATURES)
    )
    for at, sample in intervals(120, seed=5, start=1e6):
        assert score_interval(restored, at, sample) == score_interval(original, at, sample)
    assert set(restored.group_models_) == {"h|cpu"}


def test_the_key_file_is_created_once_and_private(tmp_path: Path) -> None:
    first = persistence.load_or_create_key(tmp_path / "model.key")
    assert persistence.load_or_create_key(tmp_path / "model.key") == first
    assert stat.S_IMODE((tmp_path / "model.key").stat().st_mode) == 0o600


def test_a_tampered_file_is_refused(tmp_path: Path, key: bytes) -> None:
    path = tmp_path / "state.bin"
    save(trained(), path, key)
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(UntrustedState, match="signature"):
        persistence.load(path, key=key, feature_names=FEATURES)


def test_a_file_signed_by_another_installation_is_refused(tmp_path: Path, key: bytes) -> None:
    save(trained(), tmp_path / "state.bin", key)
    other = persistence.load_or_create_key(tmp_path / "other.key")
    with pytest.raises(UntrustedState, match="signature"):
        persistence.load(tmp_path / "state.bin", key=other, feature_names=FEATURES)


class Boom:
    def __reduce__(self):  # would run on unpickling
        raise AssertionError("a foreign file was unpickled")


def test_a_pickle_is_refused_without_being_unpickled(tmp_path: Path, key: bytes) -> None:
    path = tmp_path / "state.bin"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(UntrustedState, match="not a selfreg model file"):
        persistence.load(path, key=key, feature_names=FEATURES)


def test_a_file_from_another_scikit_learn_version_is_refused(
    tmp_path: Path, key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    detector = trained()
    monkeypatch.setattr(persistence, "sklearn_version", lambda: "0.1.0")
    save(detector, tmp_path / "state.bin", key)
    monkeypatch.undo()
    with pytest.raises(StateMismatch, match="sklearn version"):
        persistence.load(tmp_path / "state.bin", key=key, feature_names=FEATURES)


def test_the_scikit_learn_version_is_read_without_importing_it() -> None:
    assert persistence.sklearn_version() == sklearn.__version__


def test_a_file_for_other_features_is_refused(tmp_path: Path, key: bytes) -> None:
    save(trained(), tmp_path / "state.bin", key)
    with pytest.raises(StateMismatch, match="feature names"):
        persistence.load(tmp_path / "state.bin", key=key, feature_names=[*FEATURES, "extra"])


def test_a_state_for_other_parameters_is_refused_and_leaves_the_detector_cold() -> None:
    arrays, meta = trained().state_dict()
    other = AnomalyDetector(window=500)
    with pytest.raises(StateMismatch, match="params"):
        other.load_state_dict(arrays, meta)
    assert other.series_ == {}


def test_saved_arrays_are_plain_numbers(tmp_path: Path, key: bytes) -> None:
    arrays, _ = trained().state_dict()
    assert all(np.asarray(a).dtype.kind in "fiub" for a in arrays.values())
