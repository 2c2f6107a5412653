"""A live reload's parts: keep each instance whose settings did not change, make the rest."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Protocol, TypeVar


class Named(Protocol):
    @property
    def name(self) -> str: ...


S = TypeVar("S", bound=Named)
T = TypeVar("T")


def reuse_or_make(
    before: Mapping[str, T],
    specs: Iterable[S],
    *,
    rebuild: Collection[str],
    make: Callable[[S], T],
) -> dict[str, T]:
    """One instance per spec, by name, in the specs' order: the one ``before`` holds unless
    its name is in ``rebuild`` (added or changed), else ``make(spec)``."""
    return {
        spec.name: before[spec.name]
        if spec.name in before and spec.name not in rebuild
        else make(spec)
        for spec in specs
    }
