"""The class tree drawn in ``bot/errors.py``'s docstring is complete and true.

Every ``SelfregError`` subclass anywhere in ``bot/`` must appear in the tree, under its
parent: a new error class without its line in the tree fails here. Each name is one class:
a second class under a name already in the tree (a copy that ``except`` would miss) fails too.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import bot
from bot import errors

TREE_LINE = re.compile(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w*)\b")


def _import_every_bot_module() -> None:
    for module in pkgutil.walk_packages(bot.__path__, prefix="bot."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def _drawn_tree() -> dict[str, str | None]:
    """Each class name in the docstring's tree -> its parent's name (None for the root)."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = TREE_LINE.match(line.strip("\n")[4:]) if line.startswith("    ") else None
        if match is None:
            continue
        depth = len(match["indent"])
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match["name"]] = stack[-1][1] if stack else None
        stack.append((depth, match["name"]))
    return parents


def _parent(cls: type) -> str:
    return next(b.__name__ for b in cls.__bases__ if issubclass(b, errors.SelfregError))


def test_every_selfreg_error_is_drawn_under_its_parent() -> None:
    _import_every_bot_module()
    drawn = _drawn_tree()
    assert drawn.get("SelfregError", "missing") is None
    classes = _subclasses(errors.SelfregError)
    missing = sorted(f"{c.__module__}.{c.__name__}" for c in classes if c.__name__ not in drawn)
    assert not missing, f"add these to the tree in bot/errors.py: {missing}"
    wrong = sorted(
        f"{c.__name__} is drawn under {drawn[c.__name__]}, but its parent is {_parent(c)}"
        for c in classes
        if drawn[c.__name__] != _parent(c)
    )
    assert not wrong, wrong


def test_every_drawn_name_is_a_class() -> None:
    _import_every_bot_module()
    names = {c.__name__ for c in _subclasses(errors.SelfregError)} | {"SelfregError"}
    assert set(_drawn_tree()) <= names


def test_each_error_name_is_one_class() -> None:
    _import_every_bot_module()
    by_name: dict[str, list[str]] = {}
    for cls in _subclasses(errors.SelfregError):
        by_name.setdefault(cls.__name__, []).append(f"{cls.__module__}.{cls.__qualname__}")
    twice = {name: sorted(where) for name, where in by_name.items() if len(where) > 1}
    assert not twice, f"one class per name, raise the one in bot/errors.py: {twice}"
