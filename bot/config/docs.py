"""Generate ``docs/config.md`` from the pydantic models: the one place the config's shape lives.

``selfreg config docs`` prints it; a test fails when the committed file differs.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

import actions as actions_registry
import checks
from actions.base import ActionSpec
from bot.config.environment import ENVIRONMENT_VARIABLES
from bot.config.schema import Settings
from common.units import format_duration, format_size, parse_duration, parse_percent, parse_size

_UNIT_NAMES = {parse_duration: "duration", parse_percent: "percent", parse_size: "size"}
_PLAIN = {str: "string", int: "integer", float: "number", bool: "boolean", Any: "any"}

HEADER = """# Configuration reference

Generated from the pydantic models by `selfreg config docs`; do not edit by hand (a test
fails when this file is stale). The file is TOML (`selfreg.toml`, or the path given by
`--config` / `SELFREG_CONFIG`). Durations are written `"250ms"`, `"30s"`, `"5m"`, `"1h"`;
percentages `"80%"`; sizes `"512MB"` or `"2GiB"`. With `SELFREG_ENV=prod`, `selfreg.prod.toml`
beside the base file is merged over it: tables merge key by key, and lists of named tables
(`[[checks]]`, `[[components]]`, `[[actions]]`) merge entry by entry on `name`.
"""

SUGAR = {
    "peers": "## `[[peers]]`\n\nAnother selfreg whose `/status` this one reads: each entry is a "
    '`[[checks]]` entry of `kind = "peer"` (above) in a table of its own, `kind` left out; it '
    "takes every key of `[[checks]]` and of that kind.\n",
    "sync": "## `[[sync]]`\n\nA folder kept in step with the other side by rsync: each entry is a "
    '`[[checks]]` entry of `kind = "sync"` (above) in a table of its own, `kind` left out; it '
    "takes every key of `[[checks]]` and of that kind.\n",
}
"""Sections that are checks of one kind in a table of their own (``bot/config/schema.py``)."""


def _unit(annotation: Any) -> str | None:
    for meta in getattr(annotation, "__metadata__", ()):
        name = _UNIT_NAMES.get(getattr(meta, "func", None))
        if name:
            return name
    return None


def field_type(field: FieldInfo) -> str:
    """A reader's name for a field's type, units included."""
    for meta in field.metadata:
        if (name := _UNIT_NAMES.get(getattr(meta, "func", None))) is not None:
            return name
    return type_name(field.annotation)


def type_name(annotation: Any) -> str:
    """A reader's name for a type."""
    if (unit := _unit(annotation)) is not None:
        return unit
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return type_name(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        names = [type_name(arg) for arg in get_args(annotation) if arg is not type(None)]
        return " or ".join(names)
    if origin is Literal:
        return " \\| ".join(
            f'`"{v}"`' if isinstance(v, str) else f"`{v}`" for v in get_args(annotation)
        )
    if origin is list:
        return f"list of {type_name(get_args(annotation)[0])}"
    if origin is dict:
        return f"table of {type_name(get_args(annotation)[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    return _PLAIN.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field: FieldInfo) -> Any:
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return field.default


def _show_default(field: FieldInfo, value: Any) -> str:
    if value is PydanticUndefined:
        return "required"
    if value is None:
        return "—"
    if field_type(field).startswith("duration") and isinstance(value, int | float):
        return f'`"{format_duration(value)}"`'
    if field_type(field).startswith("size") and isinstance(value, int | float):
        return f'`"{format_size(value)}"`'
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, list | dict) and not value:
        return "empty"
    return f"`{value}`"


def _rows(model: type[BaseModel], prefix: str = "", default: BaseModel | None = None) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        value = getattr(default, name) if default is not None else _default(field)
        nested = _nested_model(annotation)
        key = f"{prefix}{name}"
        if nested is not None and not field_type(field).startswith("list"):
            rows.append(f"| `{key}` | table | | {field.description or ''} |")
            rows.extend(_rows(nested, f"{key}.", value if isinstance(value, BaseModel) else None))
            continue
        description = (field.description or "").replace("|", "\\|")
        rows.append(
            f"| `{key}` | {field_type(field)} | {_show_default(field, value)} | {description} |"
        )
        if nested is not None:  # a list of tables: each entry's keys, as `key[].name`
            rows.extend(_rows(nested, f"{key}[]."))
    return rows


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    candidates = [annotation, *get_args(annotation)]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _doc(model: type) -> str:
    """A model's docstring without its leading ``[section]``: label."""
    text = (model.__doc__ or "").strip()
    return text.split(": ", 1)[1] if text.startswith("``") and ": " in text else text


def _table(model: type[BaseModel], skip: tuple[str, ...] = ()) -> str:
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    lines.extend(row for row in _rows(model) if not any(row.startswith(f"| `{s}`") for s in skip))
    return "\n".join(lines)


def _plugin_sections(
    section: str, base: type[BaseModel], registry: dict[str, Any], intro: str
) -> list[str]:
    """The common keys of a plugin section, then one table per registered kind."""
    parts = [f"## `[[{section}]]`\n\n{intro}\n\n" + _table(base) + "\n"]
    for kind, cls in sorted(registry.items()):
        table = _table(cls.Spec, skip=tuple(base.model_fields))
        parts.append(f'### `kind = "{kind}"`\n\n{_doc(cls)}\n\n{table}\n')
    return parts


def _entry_lists(section: str, model: type[BaseModel]) -> list[str]:
    """A section's lists of tables (``[[regulate.scale]]``), each with its own key table."""
    parts = []
    for key, field in model.model_fields.items():
        entry = _nested_model(field.annotation)
        if entry is not None and get_origin(field.annotation) is list:
            parts.append(f"### `[[{section}.{key}]]`\n\n{_doc(entry)}\n\n{_table(entry)}\n")
    return parts


def render_reference() -> str:
    """The whole of docs/config.md."""
    parts = [HEADER]
    for name, field in Settings.model_fields.items():
        if name in ("checks", "components", "actions", *SUGAR):
            continue
        model = _nested_model(field.annotation)
        assert model is not None
        parts.append(f"## `[{name}]`\n\n{_doc(model)}\n\n{_table(model)}\n")
        parts.extend(_entry_lists(name, model))
    components = _nested_model(Settings.model_fields["components"].annotation)
    parts.append(f"## `[[components]]`\n\n{_doc(components)}\n\n{_table(components)}\n")
    parts.extend(
        _plugin_sections(
            "actions",
            ActionSpec,
            actions_registry.REGISTRY,
            "Keys every action has, whatever its `kind`. Actions exist only if declared here; nothing that arrives from Slack becomes part of a command.",
        )
    )
    base = checks.base.CheckSpec
    parts.append(
        "## `[[checks]]`\n\nKeys every check has, whatever its `kind`:\n\n" + _table(base) + "\n"
    )
    for kind, cls in sorted(checks.REGISTRY.items()):
        spec = cls.Spec
        doc = _doc(cls)
        parts.append(
            f'### `kind = "{kind}"`\n\n{doc}\n\n'
            + _table(spec, skip=tuple(base.model_fields))
            + "\n"
        )
    parts.extend(SUGAR.values())
    env_rows = "\n".join(f"| `{name}` | {text} |" for name, text in ENVIRONMENT_VARIABLES.items())
    parts.append(
        "## Environment\n\nSecrets and deployment settings come from the environment (a `.env` "
        "file in the working folder is read too, never overriding what is set):\n\n"
        "| variable | meaning |\n| --- | --- |\n" + env_rows + "\n"
    )
    return "\n".join(parts)
