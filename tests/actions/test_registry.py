"""The action registry: every kind is a module, registered under the kind its Spec accepts."""

from __future__ import annotations

import typing

import actions
from actions.base import Action, ActionSpec

KINDS = {
    "cleanup_files",
    "fly_restart_machine",
    "fly_rollback",
    "fly_scale_count",
    "fly_scale_vm",
    "fly_start_machine",
    "fly_stop_machine",
    "http_request",
    "renice_process",
    "restart_component",
    "run_command",
    "scale_component",
    "signal_process",
    "start_component",
    "stop_component",
}


def test_every_kind_is_registered_under_the_kind_its_spec_accepts() -> None:
    assert set(actions.REGISTRY) == KINDS
    for kind, cls in actions.REGISTRY.items():
        assert issubclass(cls, Action) and issubclass(cls.Spec, ActionSpec)
        assert typing.get_args(cls.Spec.model_fields["kind"].annotation) == (kind,)
        assert cls.__module__ == f"actions.{kind}"


def test_every_parameter_is_described_for_the_config_reference() -> None:
    for kind, cls in actions.REGISTRY.items():
        for field, info in cls.Spec.model_fields.items():
            assert info.description, f"{kind}.{field} has no description"
