"""Stage 2's scoring: every group's forest merged into one, scored once an interval."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from models.anomaly.forest import GroupForest


class _ForestBank:
    """Every group's forest merged into one flat forest, so one interval's group rows are
    scored in a single traversal (a few numpy calls in all, not a few per group).

    Node ids, children and feature indices are offset so that tree ``t`` of group ``g`` reads
    its own columns of the concatenated rows. Equal to each forest's ``exceedance``.
    """

    def __init__(self, models: Mapping[str, GroupForest]) -> None:
        self.groups = sorted(models)
        feature, threshold, left, right, value, roots, starts = [], [], [], [], [], [], []
        usual, columns, col_starts = [], [], []
        nodes = cols = trees = 0
        self.norm = np.array([models[g].norm_ for g in self.groups])
        self.depth = max((models[g].depth_ for g in self.groups), default=0)
        for g in self.groups:
            m = models[g]
            n_trees, width = m.feature_.shape
            offsets = nodes + width * np.arange(n_trees)[:, None]
            feature.append((m.feature_ + cols).ravel())
            threshold.append(m.threshold_.ravel())
            left.append((m.left_ + offsets).ravel())
            right.append((m.right_ + offsets).ravel())
            value.append(m.leaf_value_.ravel())
            roots.append(offsets.ravel())
            starts.append(trees)
            usual.append(m.usual_)
            columns.append(m.columns_)
            col_starts.append(cols)
            nodes, cols, trees = nodes + n_trees * width, cols + m.n_features_in_, trees + n_trees
        if not self.groups:
            return
        self.feature, self.threshold = np.concatenate(feature), np.concatenate(threshold)
        self.left, self.right = np.concatenate(left), np.concatenate(right)
        self.value, self.roots = np.concatenate(value), np.concatenate(roots)
        self.starts, self.col_starts = np.array(starts), np.array(col_starts)
        self.usual, self.columns = np.array(usual), np.concatenate(columns, axis=1)
        self.width = cols

    def exceedance(self, rows: Mapping[str, Sequence[float]]) -> dict[str, float]:
        """Exceedance of each group's row (groups without a row in ``rows`` get none)."""
        if not self.groups:
            return {}
        x = np.zeros(self.width)
        for g, start in zip(self.groups, self.col_starts, strict=True):
            row = rows.get(g)
            if row is not None:
                x[start : start + len(row)] = row
        xs = x.astype(np.float32)  # trees compare float32 inputs, as scikit-learn does
        node = self.roots
        for _ in range(self.depth):
            go_left = xs.take(self.feature.take(node)) <= self.threshold.take(node)
            node = np.where(go_left, self.left.take(node), self.right.take(node))
        depth = np.add.reduceat(self.value.take(node), self.starts)
        med, high = self.usual[:, 0], self.usual[:, 1]
        isolation = (2.0 ** (-depth / self.norm) - med) / np.maximum(high - med, 1e-9)
        center, upper, lower = self.columns
        per_column = np.maximum((x - center) / (upper - center), (center - x) / (center - lower))
        worst = np.maximum.reduceat(per_column, self.col_starts)
        e = np.maximum(isolation, worst)
        return {g: float(e[i]) for i, g in enumerate(self.groups) if g in rows}
