"""Processes an earlier selfreg left for components (or copies) no longer configured.

At start, before the first component, every stored instance that the config no longer names
is stopped (if its process still runs, recognised by its identity) and its row dropped, so a
removed component does not run on unsupervised.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot import messages
from bot.clock import Clock
from bot.engine.supervisor import rows
from bot.engine.supervisor.processes import AdoptedProcess, terminate
from bot.engine.supervisor.state import ComponentState
from bot.records import EventKind
from bot.store.db import Store

log = logging.getLogger(__name__)

STRAY_STOP_TIMEOUT = 10.0


async def stop_strays(
    store: Store,
    clock: Clock,
    components: Mapping[str, ComponentState],
    stored: Mapping[tuple[str, int], rows.StoredInstance],
) -> None:
    """Stop and forget every stored instance ``components`` no longer configure."""
    for (name, index), row in stored.items():
        component = components.get(name)
        if component is not None and index < component.settings.instances:
            continue
        handle = AdoptedProcess.adopt(row.identity) if row.identity else None
        if handle is not None:
            log.warning(messages.component_unconfigured(name, index, handle.pid))
            code = await terminate(handle, STRAY_STOP_TIMEOUT)
            with store.transaction():
                store.record_event(
                    EventKind.COMPONENT_STOPPED,
                    name,
                    clock.now(),
                    instance=index,
                    pid=handle.pid,
                    code=code,
                    reason=messages.stopped_unconfigured(),
                )
        rows.forget(store, name, index)
    rows.forget_components(store, keep=list(components))
