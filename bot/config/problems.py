"""From pydantic's validation errors to the problems an operator reads: the file that set
the bad key, the key path as written in TOML (``checks[2] "api".url``) and the bad value."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import actions
import checks
from bot import messages
from bot.config.schema import Settings
from bot.errors import MISSING, ConfigError, ConfigProblem


def _key_path(loc: tuple[int | str, ...], document: Mapping[str, Any]) -> str:
    """Turn a pydantic location into the key path an operator reads: checks[2] "api".url."""
    parts: list[str] = []
    node: Any = document
    index = 0
    while index < len(loc):
        item = loc[index]
        if isinstance(item, int):
            name = (
                node[item].get("name")
                if isinstance(node, list) and item < len(node) and isinstance(node[item], dict)
                else None
            )
            parts[-1] += f"[{item}]" + (f' "{name}"' if name else "")
            node = node[item] if isinstance(node, list) and item < len(node) else None
            # a discriminated union adds the tag (the check's kind) after the index: skip it
            if (
                index + 1 < len(loc)
                and isinstance(node, dict)
                and loc[index + 1] == node.get("kind")
            ):
                index += 1
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
        index += 1
    return ".".join(parts)


def _lookup(document: Mapping[str, Any], key_path: str) -> Any:
    """The value at a dotted key path in the raw document, or ``MISSING``."""
    node: Any = document
    for part in key_path.split("."):
        name, _, rest = part.partition("[")
        if not isinstance(node, dict) or name not in node:
            return MISSING
        node = node[name]
        if rest:
            position = int(rest.split("]")[0])
            if not isinstance(node, list) or position >= len(node):
                return MISSING
            node = node[position]
    return node


def validate(document: Mapping[str, Any], files: list[tuple[Path, Mapping[str, Any]]]) -> Settings:
    """Validate a merged document; name the file that set each bad key."""
    try:
        return Settings.model_validate(document)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = _key_path(tuple(error["loc"]), document)
            source = next(
                (str(path) for path, raw in reversed(files) if _lookup(raw, key) is not MISSING),
                str(files[0][0]),
            )
            value = MISSING if error["type"] == "missing" else error.get("input", MISSING)
            if isinstance(value, dict | list) and error["type"] not in ("missing",):
                value = _lookup(document, key) if error["loc"] else MISSING
                if isinstance(value, dict | list):
                    value = MISSING
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "union_tag_invalid":
                registry = actions.REGISTRY if key.startswith("actions") else checks.REGISTRY
                noun = "action" if key.startswith("actions") else "check"
                key, value = f"{key}.kind", error["ctx"]["tag"]
                message = messages.unknown_kind(noun, sorted(registry))
            problems.append(ConfigProblem(source, key, value, message))
        raise ConfigError(problems) from None
