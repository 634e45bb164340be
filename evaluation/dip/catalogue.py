"""DIP: the catalogue built from a region's cases -- core and comprehensive groups, scores, the auxiliary catalogue's
severity tiers -- and written to or read from its folder."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pandas as pd
import pyarrow as pa

from ..common import EvaluationError
from .keys import AGE_TIERS, CCI_TIERS, GROUP_COLUMNS, KIND_ZH, SEVERITY_COLUMNS, SPEC, TREATMENTS, age_tier, case_keys, cci_tier

# -- building the catalogue ----------------------------------------------------------------------------------------
class CatalogueBuilder:
    """Sums of the base cases by combination, batch by batch (memory follows the distinct combinations)."""

    def __init__(self, kinds: dict):
        self.kinds = kinds
        self.parts: list = []
        self.cases = 0

    def add(self, table: pa.Table) -> None:
        k = case_keys(table, self.kinds)
        ok = np.isfinite(k["cost"])
        df = pd.DataFrame({"dx": k["dx"].to_numpy(zero_copy_only=False), "procedures": k["procedures"].to_numpy(zero_copy_only=False),
                           "treatment": k["treatment"], "cost": k["cost"], "cci_t": cci_tier(k["cci"]), "age_t": age_tier(k["age"])})
        df = df[ok & df["dx"].notna().to_numpy()]
        df["cost2"] = df["cost"] ** 2
        df["n"] = 1
        self.parts.append(df.groupby(["dx", "procedures", "treatment", "cci_t", "age_t"], sort=False)[["n", "cost", "cost2"]].sum())
        self.cases += table.num_rows
        if len(self.parts) >= 16:
            self.parts = [pd.concat(self.parts).groupby(level=[0, 1, 2, 3, 4]).sum()]

    def sums(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["dx", "procedures", "treatment", "cci_t", "age_t", "n", "cost", "cost2"])
        return pd.concat(self.parts).groupby(level=[0, 1, 2, 3, 4]).sum().reset_index()


def _stats(g: pd.DataFrame) -> pd.DataFrame:
    """cases, mean_cost and cv (population standard deviation over the mean) of summed rows."""
    n = g["n"].astype(float)
    mean = g["cost"] / n
    var = np.maximum(g["cost2"] / n - mean ** 2, 0.0)
    return pd.DataFrame({"cases": g["n"].astype(np.int64), "mean_cost": mean, "cv": np.sqrt(var) / mean,
                         "var": var}, index=g.index)


def build_catalogue(sums: pd.DataFrame, *, min_cases: int = 15, reference: str | None = None) -> dict:
    """The catalogue tables from :meth:`CatalogueBuilder.sums`: ``groups`` (:data:`GROUP_COLUMNS`), ``severity``
    (:data:`SEVERITY_COLUMNS`) and ``meta``."""
    if sums.empty or sums["n"].sum() == 0:
        raise EvaluationError("no base case with a principal diagnosis and a positive total cost: the catalogue "
                              "needs the base year's grouped cases with dx and total_cost")
    combo = sums.groupby(["dx", "procedures"], sort=True)[["n", "cost", "cost2"]].sum()
    treatment = sums.groupby(["dx", "procedures"], sort=True)["treatment"].max()
    core_keys = combo.index[combo["n"] >= min_cases]
    core = _stats(combo.loc[core_keys]).reset_index()
    core["kind"] = "core"
    core["category"] = core["dx"].str[:3]
    core["treatment"] = [TREATMENTS[t] for t in treatment.loc[core_keys].to_numpy()]
    is_core = pd.Series(combo["n"] >= min_cases, index=combo.index)
    rest = sums[~is_core.reindex(pd.MultiIndex.from_arrays([sums["dx"], sums["procedures"]])).to_numpy()]
    rest = rest.assign(category=rest["dx"].str[:3])
    comp = _stats(rest.groupby(["category", "treatment"], sort=True)[["n", "cost", "cost2"]].sum()).reset_index()
    comp["treatment"] = [TREATMENTS[t] for t in comp["treatment"]]
    comp["kind"] = "comprehensive"
    comp["dx"] = ""
    comp["procedures"] = ""
    groups = pd.concat([core, comp], ignore_index=True)
    groups["group_id"] = [f"DIP{i + 1:05d}" for i in range(len(groups))]
    all_mean = float(sums["cost"].sum() / sums["n"].sum())
    denom = all_mean
    if reference is not None:
        hit = groups[groups["group_id"] == reference]
        if hit.empty:
            raise EvaluationError(f"--reference {reference}: no such group; name a group_id of groups.csv")
        denom = float(hit["mean_cost"].iloc[0])
    groups["score"] = groups["mean_cost"] / denom * 1000.0
    severity = _severity(sums, core, groups, min_cases)
    cases = int(sums["n"].sum())
    meta = {"specification": SPEC, "min_cases": min_cases, "cases": cases, "mean_cost": all_mean,
            "reference": reference, "score_denominator": denom, "core_groups": int(len(core)),
            "comprehensive_groups": int(len(comp)), "core_share": float(core["cases"].sum() / cases)}
    return {"groups": groups[list(GROUP_COLUMNS)].reset_index(drop=True), "severity": severity, "meta": meta}


def _severity(sums: pd.DataFrame, core: pd.DataFrame, groups: pd.DataFrame, min_cases: int) -> pd.DataFrame:
    """Each core group's CCI and age tiers with their adjustments (Welch's t-test of the tier against the rest of
    the group, p < 0.05, and at least ``min_cases`` cases in the tier; else 1)."""
    from ..distributions import t_sf  # scipy.stats' bits without its 0.8 s import

    ids = dict(zip(zip(groups["dx"], groups["procedures"]), groups["group_id"]))
    mine = sums.merge(core[["dx", "procedures"]], on=["dx", "procedures"])
    rows = []
    for dim, col, names in (("cci", "cci_t", CCI_TIERS), ("age", "age_t", AGE_TIERS)):
        by = mine[mine[col] >= 0].groupby(["dx", "procedures", col], sort=True)[["n", "cost", "cost2"]].sum()
        total = mine.groupby(["dx", "procedures"], sort=True)[["n", "cost", "cost2"]].sum()
        for (dx, procs, tier), r in by.iterrows():
            tot = total.loc[(dx, procs)]
            n1, s1, q1 = float(r["n"]), float(r["cost"]), float(r["cost2"])
            n2, s2, q2 = float(tot["n"]) - n1, float(tot["cost"]) - s1, float(tot["cost2"]) - q1
            m1, mg = s1 / n1, float(tot["cost"]) / float(tot["n"])
            p = 1.0
            if n1 >= 2 and n2 >= 2:
                v1 = max(q1 - n1 * m1 ** 2, 0.0) / (n1 - 1)
                m2 = s2 / n2
                v2 = max(q2 - n2 * m2 ** 2, 0.0) / (n2 - 1)
                se = math.sqrt(v1 / n1 + v2 / n2)
                if se > 0:
                    df = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
                    p = float(2 * t_sf(abs(m1 - m2) / se, df))
            adj = m1 / mg if (p < 0.05 and n1 >= min_cases) else 1.0
            rows.append((ids[(dx, procs)], dim, names[int(tier)], int(n1), m1, p, adj))
    return pd.DataFrame(rows, columns=list(SEVERITY_COLUMNS))


def write_catalogue(cat: dict, kinds: pd.DataFrame, folder: str) -> None:
    """groups.csv, severity.csv, procedure_kinds.csv (UTF-8, full float precision) and catalogue.json."""
    cat["groups"].to_csv(os.path.join(folder, "groups.csv"), index=False, float_format="%.17g")
    cat["severity"].to_csv(os.path.join(folder, "severity.csv"), index=False, float_format="%.17g")
    kinds.to_csv(os.path.join(folder, "procedure_kinds.csv"), index=False)
    with open(os.path.join(folder, "catalogue.json"), "w", encoding="utf-8") as f:
        json.dump(cat["meta"], f, ensure_ascii=False, indent=2)


def load_catalogue(folder: str) -> dict:
    """A catalogue folder (ours, or a region's official one in the same layout: groups.csv with
    :data:`GROUP_COLUMNS`; severity.csv and procedure_kinds.csv optional)."""
    path = os.path.join(folder, "groups.csv")
    if not os.path.isfile(path):
        raise EvaluationError(f"{folder}: no groups.csv; pass the folder drg dip build wrote (or an official catalogue "
                              "in its layout, docs/dip.md)")
    groups = _read_csv(path, dtype={"group_id": str, "kind": str, "dx": str, "procedures": str, "category": str,
                                    "treatment": str})
    missing = [c for c in GROUP_COLUMNS if c not in groups.columns]
    if missing:
        raise EvaluationError(f"{path}: column(s) {', '.join(missing)} missing; groups.csv needs {','.join(GROUP_COLUMNS)}")
    bad = sorted(set(groups["kind"]) - set(KIND_ZH)) + sorted(set(groups["treatment"]) - set(TREATMENTS))
    if bad:
        raise EvaluationError(f"{path}: value {bad[0]!r} in kind/treatment; kind is core or comprehensive, treatment one "
                              f"of {', '.join(TREATMENTS)}")
    if groups["group_id"].duplicated().any():
        raise EvaluationError(f"{path}: group_id {groups['group_id'][groups['group_id'].duplicated()].iloc[0]!r} twice; "
                              "each group has its own id")
    for c in ("mean_cost", "score"):
        groups[c] = pd.to_numeric(groups[c], errors="coerce")
        if groups[c].isna().any() or (groups[c] <= 0).any():
            raise EvaluationError(f"{path}: column {c} needs a positive number on every row")
    sev_path = os.path.join(folder, "severity.csv")
    severity = (_read_csv(sev_path, dtype={"group_id": str, "dimension": str, "tier": str})
                if os.path.isfile(sev_path) else pd.DataFrame(columns=list(SEVERITY_COLUMNS)))
    kinds_path = os.path.join(folder, "procedure_kinds.csv")
    kinds = _read_csv(kinds_path, dtype=str) if os.path.isfile(kinds_path) else pd.DataFrame(columns=["code", "kind"])
    odd = sorted(set(kinds["kind"]) - set(TREATMENTS[1:]))
    if odd:
        raise EvaluationError(f"{kinds_path}: kind {odd[0]!r}; a procedure is diagnostic, therapeutic or surgical")
    return {"groups": groups, "severity": severity, "kinds": dict(zip(kinds["code"], kinds["kind"]))}


def _read_csv(path: str, dtype) -> pd.DataFrame:
    """A catalogue table as a region saves it: UTF-8 (with or without BOM) or GBK / GB18030."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, dtype=dtype, keep_default_na=False, encoding=enc)
        except UnicodeDecodeError:
            continue
    raise EvaluationError(f"{path}: neither UTF-8 nor GBK text; save the table as UTF-8 CSV")
