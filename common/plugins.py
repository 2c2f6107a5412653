"""The plugin registry: a config ``kind`` to its class, each kind's module imported the first
time that kind is asked for.

``checks`` and ``actions`` name their kinds here instead of importing every module, so a
process imports the code (and the libraries: aiohttp, psutil, prometheus_client ...) of the
kinds its config uses and no other: ``selfreg status`` starts faster and the daemon holds less
memory. Listing the kinds (``sorted(REGISTRY)``, ``kind in REGISTRY``) imports nothing;
asking for one (``REGISTRY[kind]``) imports its module; ``items()`` / ``values()`` import
them all (the config reference and the JSON Schema need every kind).

``spec(kind)`` is the kind's config entry model (its class's ``Spec``). Validating a config
needs only that, so a kind whose runtime code imports a heavy library keeps its spec in a
module of its own, named in ``specs`` (``checks/http_spec.py``: no aiohttp), and ``spec``
imports that module alone.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Generic, Protocol, TypeVar


class Plugin(Protocol):
    """What every registered class has: ``Spec``, the model its config entry is validated
    against."""

    Spec: ClassVar[Any]


T = TypeVar("T", bound=Plugin)


class Registry(Mapping[str, type[T]], Generic[T]):
    """``kind -> class``: the kind ``k`` of ``package`` is the class ``classes[k]`` of the
    module ``package.k`` (one module per kind)."""

    def __init__(
        self, package: str, classes: Mapping[str, str], specs: Mapping[str, str] | None = None
    ) -> None:
        self._package = package
        self._classes = dict(sorted(classes.items()))
        self._specs = dict(specs or {})  # kind -> "module:Class", for specs kept apart
        self._loaded: dict[str, type[T]] = {}

    def __getitem__(self, kind: str) -> type[T]:
        loaded = self._loaded.get(kind)
        if loaded is None:
            name = self._classes[kind]  # KeyError: not a registered kind
            module = importlib.import_module(f"{self._package}.{kind}")
            loaded = self._loaded[kind] = getattr(module, name)
        return loaded

    def spec(self, kind: str) -> Any:
        """The config entry model of ``kind``, importing no more than it needs."""
        where = self._specs.get(kind)
        if where is None:
            return self[kind].Spec
        module, _, name = where.partition(":")
        return getattr(importlib.import_module(f"{self._package}.{module}"), name)

    def __contains__(self, kind: object) -> bool:
        return isinstance(kind, str) and kind in self._classes

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def __repr__(self) -> str:
        return f"Registry({self._package!r}, kinds={list(self._classes)!r})"
