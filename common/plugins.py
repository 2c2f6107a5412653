"""The plugin registry: a config ``kind`` to its class, each kind's module imported the first
time that kind is asked for.

``checks`` and ``actions`` name their kinds here instead of importing every module, so a
process imports the code (and the libraries: aiohttp, psutil, prometheus_client ...) of the
kinds its config uses and no other: ``selfreg status`` starts faster and the daemon holds less
memory. Listing the kinds (``sorted(REGISTRY)``, ``kind in REGISTRY``) imports nothing;
asking for one (``REGISTRY[kind]``) imports its module; ``items()`` / ``values()`` import
them all (the config reference and the JSON Schema need every kind).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Mapping[str, type[T]], Generic[T]):
    """``kind -> class``: the kind ``k`` of ``package`` is the class ``classes[k]`` of the
    module ``package.k`` (one module per kind)."""

    def __init__(self, package: str, classes: Mapping[str, str]) -> None:
        self._package = package
        self._classes = dict(sorted(classes.items()))
        self._loaded: dict[str, type[T]] = {}

    def __getitem__(self, kind: str) -> type[T]:
        loaded = self._loaded.get(kind)
        if loaded is None:
            name = self._classes[kind]  # KeyError: not a registered kind
            module = importlib.import_module(f"{self._package}.{kind}")
            loaded = self._loaded[kind] = getattr(module, name)
        return loaded

    def __contains__(self, kind: object) -> bool:
        return isinstance(kind, str) and kind in self._classes

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def __repr__(self) -> str:
        return f"Registry({self._package!r}, kinds={list(self._classes)!r})"
