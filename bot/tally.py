"""What selfreg has done since it started, counted for ``/metrics``: checks run, incidents
opened and resolved, deliveries and failed ones, actions run.

One ``Tally`` per running selfreg (``build`` makes it and hands it to the parts that count),
never a module-level counter: tests build many selfregs in one process, and each app's
``/metrics`` must show its own counts. The web server's collector reads it at scrape time
(``bot/web/metrics.py``), so counting costs a dict update and no Prometheus object lives in
the engine. Counts start at zero with each process, as Prometheus counters do.
"""

from __future__ import annotations

from collections import Counter, defaultdict

Labels = tuple[tuple[str, str], ...]


class Tally:
    """Counters by name, each split by its labels (``add("deliveries", channel="slack")``)."""

    def __init__(self) -> None:
        self._counts: defaultdict[str, Counter[Labels]] = defaultdict(Counter)

    def add(self, name: str, amount: int = 1, **labels: str) -> None:
        self._counts[name][tuple(sorted(labels.items()))] += amount

    def counts(self, name: str) -> list[tuple[dict[str, str], int]]:
        """Every label set counted under ``name``, with its count (sorted by labels)."""
        return [(dict(labels), n) for labels, n in sorted(self._counts[name].items())]
