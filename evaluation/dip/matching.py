"""DIP: each case matched to its group (core by diagnosis and procedure set, partial, else comprehensive), by a
Numba kernel over the catalogue in arrays."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

from .keys import TREATMENTS, case_keys, tier_tables

# -- matching ------------------------------------------------------------------------------------------------------
MATCH_NAMES = ("exact", "partial", "comprehensive")
EXACT = 1 << 40


class Matcher:
    """A catalogue compiled for :func:`match_kernel`: diagnosis and procedure dictionaries, the core groups of each
    diagnosis (CSR) with their sorted procedure ids, and the comprehensive group of each (category, treatment)."""

    def __init__(self, cat: dict):
        g = cat["groups"].reset_index(drop=True)
        self.groups = g
        self.kinds = cat["kinds"]
        kind, dx, procs = g["kind"].tolist(), g["dx"].tolist(), g["procedures"].tolist()
        core = [i for i, k in enumerate(kind) if k == "core"]
        self.dx_values = sorted({dx[i] for i in core})
        dx_index = {d: i for i, d in enumerate(self.dx_values)}
        px_all = sorted({p for i in core for p in procs[i].split("+") if p})
        self.px_values = px_all
        px_index = {p: i for i, p in enumerate(px_all)}
        order = sorted(core, key=lambda i: (dx_index[dx[i]], i))
        self.dx_ptr = np.zeros(len(self.dx_values) + 1, np.int64)
        np.cumsum(np.bincount([dx_index[dx[i]] for i in order], minlength=len(self.dx_values)), out=self.dx_ptr[1:])
        self.core_group = np.array(order, np.int64)
        sets = [sorted(px_index[p] for p in procs[i].split("+") if p) for i in order]
        self.set_ptr = np.zeros(len(sets) + 1, np.int64)
        np.cumsum([len(x) for x in sets], out=self.set_ptr[1:])
        self.set_ids = np.array([p for x in sets for p in x], np.int64)
        self.mean = g["mean_cost"].to_numpy(float)
        self.score = g["score"].to_numpy(float)
        category, treatment = g["category"].tolist(), g["treatment"].tolist()
        comp = [i for i, k in enumerate(kind) if k == "comprehensive"]
        self.cat_values = sorted({category[i] for i in comp})
        cat_index = {c: i for i, c in enumerate(self.cat_values)}
        self.comp = np.full((max(len(self.cat_values), 1), len(TREATMENTS)), -1, np.int64)
        rank = {k: i for i, k in enumerate(TREATMENTS)}
        for i in comp:
            self.comp[cat_index[category[i]], rank[treatment[i]]] = i
        self.dx_set = pa.array(self.dx_values, pa.string())
        self.px_set = pa.array(self.px_values, pa.string())
        self.cat_set = pa.array(self.cat_values, pa.string())
        self.tiers = tier_tables(cat)

    def match(self, table: pa.Table) -> dict:
        """Per case: group (row of ``groups``, -1 none), match (0 exact, 1 partial, 2 comprehensive, -1 none), the
        case keys (:func:`case_keys`)."""
        k = case_keys(table, self.kinds, with_procedures=False)
        dx_id = pc.fill_null(pc.index_in(k["dx"], value_set=self.dx_set), -1).to_numpy(zero_copy_only=False).astype(np.int64)
        cat_id = pc.fill_null(pc.index_in(k["category"], value_set=self.cat_set), -1).to_numpy(zero_copy_only=False).astype(np.int64)
        lut = pc.fill_null(pc.index_in(pa.array(k["px_dict"], pa.string()), value_set=self.px_set), -1)
        lut = np.append(lut.to_numpy(zero_copy_only=False).astype(np.int64), -2)
        px_id = lut[np.where(k["px_idx"] >= 0, k["px_idx"], len(lut) - 1)]  # -1 unknown to the core groups, -2 empty
        has_dx = pc.is_valid(k["dx"]).to_numpy(zero_copy_only=False)
        group, how = match_kernel(dx_id, cat_id, k["treatment"], px_id, k["px_off"], k["cost"], has_dx, self.dx_ptr,
                                  self.core_group, self.set_ptr, self.set_ids, self.mean, self.score, self.comp)
        return {"group": group, "match": how, **k}


@njit(cache=True)
def match_kernel(dx_id, cat_id, treatment, px_id, px_off, cost, has_dx, dx_ptr, core_group, set_ptr, set_ids, mean,
                 score, comp):
    """The specification's matching for every case (see the module docstring); ``px_id``: catalogue procedure ids,
    -1 a procedure no core group has, -2 an empty cell."""
    n = dx_id.shape[0]
    group = np.full(n, -1, np.int64)
    how = np.full(n, -1, np.int64)
    for i in range(n):
        if not has_dx[i]:
            continue
        a, b = px_off[i], px_off[i + 1]
        mine = np.empty(b - a, np.int64)
        m = 0
        unknown = False
        for k in range(a, b):
            v = px_id[k]
            if v == -1:
                unknown = True
            elif v >= 0:
                mine[m] = v
                m += 1
        mine = np.unique(mine[:m])
        m = mine.shape[0]
        best, best_size, best_gap, best_score = -1, -1, np.inf, -np.inf
        d = dx_id[i]
        if d >= 0:
            for j in range(dx_ptr[d], dx_ptr[d + 1]):
                s0, s1 = set_ptr[j], set_ptr[j + 1]
                size = s1 - s0
                if size > m:
                    continue
                q = 0  # is the group's set within the case's (both sorted)?
                inside = True
                for t in range(s0, s1):
                    while q < m and mine[q] < set_ids[t]:
                        q += 1
                    if q == m or mine[q] != set_ids[t]:
                        inside = False
                        break
                    q += 1
                if not inside:
                    continue
                g = core_group[j]
                if size == m and not unknown:
                    best = g
                    best_size = EXACT  # nothing beats it
                    break
                gap = abs(mean[g] - cost[i]) if cost[i] == cost[i] else np.inf
                better = size > best_size or (size == best_size and (gap < best_gap or (gap == best_gap and (
                    score[g] > best_score or (score[g] == best_score and g < best)))))
                if better:
                    best, best_size, best_gap, best_score = g, size, gap, score[g]
        if best >= 0:
            group[i] = best
            how[i] = 0 if best_size == EXACT else 1
        elif cat_id[i] >= 0 and comp[cat_id[i], treatment[i]] >= 0:
            group[i] = comp[cat_id[i], treatment[i]]
            how[i] = 2
    return group, how
