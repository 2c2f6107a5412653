"""Action plugins: one module per kind; ``REGISTRY`` maps a config ``kind`` to its class.

No action kinds ship yet: an ``[[actions]]`` entry is rejected until its kind is registered
here, so nothing can run that was not both written and declared.
"""

from __future__ import annotations

from typing import Any

REGISTRY: dict[str, Any] = {}
