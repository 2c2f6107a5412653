"""The predictors' saved state: one signed file per model.

Model state lives in ``<data>/models/``: one signed file per model, written by
``models.persistence`` with an installation key (``model.key``, mode 0600) so a file selfreg
did not write, or one changed since, is refused; so is one from another scikit-learn
version or feature set. A refused file is logged and the model starts cold.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot import messages
from models import anomaly, forecast, persistence
from models.failure import FailureRisk

log = logging.getLogger(__name__)

KEY_FILE = "model.key"


class ModelFiles:
    """Where each model's state is saved, signed with this installation's key."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._key: bytes | None = None
        self.refused: list[str] = []

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = persistence.load_or_create_key(self.folder / KEY_FILE)
        return self._key

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.state"

    def save(self, name: str, model: Any, names: Sequence[str]) -> None:
        arrays, meta = model.state_dict()
        persistence.save(self.path(name), arrays, meta, key=self.key, feature_names=names)

    def restore(self, name: str, model: Any, names: Sequence[str]) -> bool:
        """Load ``name`` into ``model``; False (logged, model untouched) when absent or refused."""
        path = self.path(name)
        if not path.exists():
            return False
        try:
            arrays, meta = persistence.load(path, key=self.key, feature_names=names)
            model.load_state_dict(arrays, meta)
        except Exception as exc:  # untrusted, mismatched or unreadable: that model starts cold
            log.warning(messages.model_refused(str(path), str(exc)))
            self.refused.append(name)
            return False
        return True

    def risk_names(self) -> list[str]:
        """Checks with a saved failure-risk model."""
        return sorted(
            p.name[len("risk-") : -len(".state")] for p in self.folder.glob("risk-*.state")
        )


def save_all(
    files: ModelFiles,
    detector: anomaly.AnomalyDetector | None,
    forecaster: forecast.Forecaster | None,
    risks: Mapping[str, FailureRisk],
) -> None:
    if detector is not None:
        files.save("anomaly", detector, anomaly.FEATURES)
    if forecaster is not None:
        files.save("forecast", forecaster, forecast.FEATURES)
    for check, model in risks.items():
        files.save(f"risk-{check}", model, list(getattr(model, "feature_names_", ())))
