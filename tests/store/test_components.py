"""bot.store.components: instance rows for re-adoption, summary rows for the status."""

from __future__ import annotations

from pathlib import Path

from bot.store import components, open_store

T0 = 1_700_000_000.0


def test_instances_and_summaries_are_saved_loaded_and_forgotten(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    running = components.InstanceRow(
        name="api",
        index=0,
        pid=4242,
        start_ticks=99,
        boot_id="boot",
        create_time=T0,
        argv=("python", "app.py"),
        started_at=T0,
        status="running",
    )
    with store.transaction():
        components.save_instance(store, running)
        components.save_instance(store, components.InstanceRow(name="api", index=1))
        for name in ("api", "old"):
            components.save_summary(
                store,
                components.ComponentRow(
                    name=name,
                    pid=4242,
                    create_time=T0,
                    started_at=T0,
                    restarts=1,
                    status="running",
                    last_exit_code=None,
                    last_exit_at=None,
                ),
            )
    assert components.load_instances(store)[0] == running
    assert components.load_instances(store)[1].argv is None
    components.forget_instance(store, "api", 1)
    components.forget_components(store, ["api"])
    assert [r.index for r in components.load_instances(store)] == [0]
    [summary] = components.summaries(store)
    assert summary["name"] == "api" and summary["restarts"] == 1
    store.close()
