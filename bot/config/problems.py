"""From pydantic's validation errors to the problems an operator reads: the file that set
the bad key, the key path as written in TOML (``checks[2] "api".url``) and the bad value."""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

import actions
import checks
from bot import messages
from bot.config.plugins import PluginEntries
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


def _model_of(annotation: Any, tag: object) -> type[BaseModel] | None:
    """The model a field holds (through lists, dicts, Annotated and unions); a plugin entry's
    spec is picked by ``tag``, the entry's ``kind``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        plugins = [m for m in args[1:] if isinstance(m, PluginEntries)]
        return plugins[0].spec(tag) if plugins else _model_of(args[0], tag)
    if origin is list:
        return _model_of(args[0], tag)
    if origin is dict:
        return _model_of(args[1], tag)
    if origin in (Union, types.UnionType):
        models = [m for a in args if (m := _model_of(a, tag)) is not None]
        tagged = [
            m
            for m in models
            if tag in get_args(getattr(m.model_fields.get("kind"), "annotation", None))
        ]
        return (tagged or models or [None])[0]
    return None


def known_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the table at ``loc`` (a pydantic location, without the bad key) declares."""
    model: type[BaseModel] | None = Settings
    index = 0
    while model is not None and index < len(loc):
        item = loc[index]
        if isinstance(item, int) or item not in model.model_fields:
            index += 1  # a list index, or a union's tag (skipped once picked below)
            continue
        tag = loc[index + 2] if index + 2 < len(loc) else None
        model = _model_of(model.model_fields[item].annotation, tag)
        index += 1
    return sorted(model.model_fields) if model is not None else []


def unknown_key_message(loc: tuple[int | str, ...]) -> str:
    """ "unknown key; did you mean `interval`?" for a key no table at ``loc`` declares."""
    known = known_keys(loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    return messages.unknown_key(close[0] if close else None, known)


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
            if error["type"] == "extra_forbidden":
                message = unknown_key_message(tuple(error["loc"]))
            if error["type"] == "union_tag_invalid":
                registry = actions.REGISTRY if key.startswith("actions") else checks.REGISTRY
                noun = "action" if key.startswith("actions") else "check"
                key, value = f"{key}.kind", error["ctx"]["tag"]
                close = difflib.get_close_matches(str(value), sorted(registry), n=1, cutoff=0.6)
                message = messages.unknown_kind(noun, sorted(registry), *close)
            problems.append(ConfigProblem(source, key, value, message))
        raise ConfigError(problems) from None
