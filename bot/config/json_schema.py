"""``selfreg config schema``: the config's JSON Schema, for editors that check TOML against one
(Taplo / Even Better TOML, the JSON Schema store conventions).

Pydantic's schema of ``Settings``, with one change: a duration, percentage or size is written
in the file as a string (``"30s"``, ``"80%"``, ``"512MB"``) or a plain number, while pydantic
would describe only the number it becomes, and an editor would flag every ``"30s"``.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from bot.config.schema import Settings
from common.units import parse_duration, parse_percent, parse_size

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"

_NUMBER = r"[0-9]+(\.[0-9]+)?"
_WRITTEN = {  # what common.units accepts, as ECMA-262 patterns (no inline flags there)
    parse_duration: (
        "duration",
        rf"^\s*({_NUMBER}\s*([mM][sS]|[sSmMhHdDwW])\s*)+$",
        '"250ms", "30s", "5m", "1h30m"',
    ),
    parse_percent: ("percent", rf"^\s*{_NUMBER}\s*%?\s*$", '"80%"'),
    parse_size: ("size", rf"^\s*{_NUMBER}\s*([kKmMgGtT][iI]?[bB]?|[bB])?\s*$", '"512MB", "2GiB"'),
}


class _UnitsAsWritten(GenerateJsonSchema):
    """Describes the unit types as the operator writes them: a number or a unit string."""

    def function_before_schema(
        self, schema: core_schema.BeforeValidatorFunctionSchema
    ) -> JsonSchemaValue:
        written = _WRITTEN.get(schema["function"].get("function"))  # type: ignore[arg-type]
        if written is None:
            return super().function_before_schema(schema)
        name, pattern, examples = written
        return {
            "anyOf": [{"type": "number"}, {"type": "string", "pattern": pattern}],
            "format": f"selfreg-{name}",
            "$comment": f"a {name}, written e.g. {examples}",
        }


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``selfreg.toml``."""
    schema = Settings.model_json_schema(mode="validation", schema_generator=_UnitsAsWritten)
    return {"$schema": SCHEMA_URI, "title": "selfreg.toml", **schema}
