"""``renice_process`` against real child processes, read back through psutil."""

from __future__ import annotations

from typing import Any

import psutil
import pytest
from pydantic import ValidationError

from actions.renice_process import ReniceProcess, ReniceProcessSpec
from tests.support.action_context import Children, RealActionContext


def action(**fields: Any) -> ReniceProcess:
    fields = {"check": "runaway", **fields}
    return ReniceProcess(ReniceProcessSpec(name="calm-down", kind="renice_process", **fields))


async def test_it_raises_the_niceness_of_every_matched_process(
    ctx: RealActionContext, children: Children
) -> None:
    pids = sorted([(await children.start()).pid for _ in range(2)])
    before = psutil.Process(pids[0]).nice()  # inherited from this test run, 0 unless niced
    ctx.match("runaway", pids)
    result = await action(nice=19).execute(ctx, dry_run=False)
    assert result.ok and result.summary == "reniced 2 of 2 processes to nice 19"
    assert [psutil.Process(pid).nice() for pid in pids] == [19, 19]
    assert result.output.splitlines()[0] == f"pid {pids[0]}: nice {before} -> 19"


@pytest.mark.parametrize(
    ("ionice", "ioclass", "value"),
    [("idle", psutil.IOPRIO_CLASS_IDLE, 0), ("best-effort-7", psutil.IOPRIO_CLASS_BE, 7)],
)
async def test_it_lowers_the_io_class(
    ctx: RealActionContext, children: Children, ionice: str, ioclass: int, value: int
) -> None:
    child = await children.start()
    ctx.match("runaway", [child.pid])
    result = await action(nice=19, ionice=ionice).execute(ctx, dry_run=False)
    assert result.ok, result.output
    process = psutil.Process(child.pid)
    assert process.nice() == 19
    assert (process.ionice().ioclass, process.ionice().value) == (ioclass, value)


async def test_it_never_raises_a_priority(ctx: RealActionContext, children: Children) -> None:
    child = await children.start()
    process = psutil.Process(child.pid)
    process.nice(15)
    process.ionice(psutil.IOPRIO_CLASS_IDLE)
    ctx.match("runaway", [child.pid])
    result = await action(nice=10, ionice="best-effort-7").execute(ctx, dry_run=False)
    assert result.ok
    assert result.output == f"pid {child.pid}: nice already 15, ionice already idle"
    assert process.nice() == 15 and process.ionice().ioclass == psutil.IOPRIO_CLASS_IDLE


async def test_a_dry_run_lists_the_pids_and_changes_nothing(
    ctx: RealActionContext, children: Children
) -> None:
    child = await children.start()
    ctx.match("runaway", [child.pid])
    process = psutil.Process(child.pid)
    before = (process.nice(), process.ionice())
    result = await action(nice=19, ionice="idle").execute(ctx, dry_run=True)
    assert result.ok
    assert result.summary == f"would renice pids {child.pid} to nice 19, ionice idle"
    assert (process.nice(), process.ionice()) == before


async def test_nothing_matched_is_a_failure(ctx: RealActionContext) -> None:
    ctx.match("runaway", [])
    result = await action().execute(ctx, dry_run=False)
    assert not result.ok and result.summary == "no process matched by check runaway"


@pytest.mark.parametrize("fields", [{"nice": 0}, {"nice": 20}, {"nice": -5}, {"ionice": "rt"}])
def test_config_only_takes_a_lower_priority(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        action(**fields)
