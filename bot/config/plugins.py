"""``[[checks]]`` and ``[[actions]]`` entries: each validated against its own kind's spec, whose
module is imported only then.

A pydantic union of every kind's spec would import every plugin module (and aiohttp,
psutil, prometheus_client with them) and build every spec's validator for a config that uses
two kinds. ``PluginEntries`` reads an entry's ``kind`` first and validates it against that
kind alone, as the ``kind``-tagged union would: the same errors at the same locations (the
kind after the entry's index), an unknown or missing ``kind`` refused the same way. The JSON
Schema (``selfreg config schema``) still describes every kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import SchemaValidator, core_schema

if TYPE_CHECKING:
    from common.plugins import Registry

_NO_KIND = SchemaValidator(core_schema.tagged_union_schema({}, "kind"))
"""Refuses what names no registered kind, in the words of a ``kind``-tagged union."""


class PluginEntries:
    """``Annotated[CheckSpec, PluginEntries(checks.REGISTRY)]``: an entry of one registered kind,
    told by its ``kind``; with ``kind`` given, every entry is of that kind (``[[peers]]``)."""

    def __init__(self, registry: Registry[Any], kind: str | None = None) -> None:
        self.registry = registry
        self.kind = kind
        self._validators: dict[str, SchemaValidator] = {}

    def spec(self, kind: object) -> type[BaseModel] | None:
        """The spec of ``kind`` (importing its module), or None for an unknown kind."""
        kind = self.kind or kind
        return self.registry.spec(kind) if kind in self.registry else None

    def _validator(self, kind: object) -> Any:
        if self.kind is None and kind not in self.registry:
            return _NO_KIND
        assert isinstance(kind, str)
        spec = self.registry.spec(kind)
        if self.kind is not None:
            return spec.__pydantic_validator__
        validator = self._validators.get(kind)
        if validator is None:
            schema = core_schema.tagged_union_schema({kind: spec.__pydantic_core_schema__}, "kind")
            validator = self._validators[kind] = SchemaValidator(schema)
        return validator

    def validate(self, value: Any) -> Any:
        """The entry as its kind's spec; a ``ValidationError`` carries the entry's problems."""
        kind = self.kind or (
            value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
        )
        return self._validator(kind).validate_python(value)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.validate)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Every kind's keys (this imports every plugin module: only ``config schema`` asks)."""
        if self.kind is not None:  # one kind: a reference to its spec, as a plain field has
            spec = self.registry.spec(self.kind).__pydantic_core_schema__
            ref = core_schema.definition_reference_schema(spec["ref"])  # type: ignore[typeddict-item]
            return handler(core_schema.definitions_schema(ref, [spec]))
        choices = {
            kind: self.registry.spec(kind).__pydantic_core_schema__ for kind in self.registry
        }
        return handler(core_schema.tagged_union_schema(choices, "kind"))
