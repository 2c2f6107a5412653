"""The environment for a Python child of selfreg (``python -m ...``): selfreg's own, with
selfreg's import path as ``PYTHONPATH`` (as ``multiprocessing``'s spawn hands it over), so
the child imports the same code whatever its working folder. Used by the model fits'
worker and the start-up's migrations."""

from __future__ import annotations

import os
import sys


def python_child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(entry for entry in sys.path if entry)}
