"""selfreg assembled: ``build`` makes every part from the config, ``Runtime`` runs them.

- ``parts``: ``Parts``, the frozen record of every part.
- ``build``: ``build(config, *, clock, out) -> Parts``, constructor injection in order.
- ``factories``: makers of single parts (checks, notifiers, remediation, predictors, ...).
- ``jobs``: the scheduler and its housekeeping jobs (rollup, prune, backup, sweep, retrain).
- ``documents``: the health and status documents, engine figures, a run of checks now.
- ``lifecycle``: ``Runtime``: start the parts in order, stop them in reverse.
- ``alone``: checks run once without a running instance.
"""

from bot.runtime.alone import run_checks_alone
from bot.runtime.build import build
from bot.runtime.factories import build_checks, make_http_session
from bot.runtime.lifecycle import NotBuilt, Runtime
from bot.runtime.parts import Parts

__all__ = [
    "NotBuilt",
    "Parts",
    "Runtime",
    "build",
    "build_checks",
    "make_http_session",
    "run_checks_alone",
]
