"""`drg audit`: coding-quality and gaming surveillance over a grouped file (methods in :mod:`evaluation.audit`).

One pass (:func:`evaluation.audit.cases.coded_cases`, locally or on a Dask cluster) turns the records into compact
integer and float arrays (:class:`evaluation.audit.cases.AuditCases`:
about 60 bytes a case plus the secondary-diagnosis codes, encoded to integers once, as the grouper does); everything
after works on those arrays. Writes ``hospital_flags``, ``review_cases``, ``split_admissions`` and ``target_areas``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from evaluation.audit.cases import coded_cases
from evaluation.words import AREA_TEXT, FINDING_TEXT

from .io import InputError

# read under these canonical names (drg.contract finds them under the 病案首页 / 结算清单 names too); the patient id
# (an ID-card number is best hashed before export) is hashed again on reading and never written out
AUDIT_COLUMNS = ["case_id", "hospital_id", "year", "status", "drg", "adrg", "mdc", "dx", "px", "age_years", "sex",
                 "los_days", "leaving_type", "total_cost", "admit_date", "discharge_date", "patient_id"]
MIN_SCORE = 0.05  # cases less likely than this to be an excess case stay off the review list
LIKELY_SPLIT = 0.5  # the split pairs the console counts


def audit_to(grouped: str, output: str, *, hospitals: str | None = None, scheme_path: str | None = None,
             weights: str | None = None, folds: int = 5, seed: int = 0, batch_size: int = 1_000_000,
             review_limit: int = 100_000, lang: str = "zh", columns: str | None = None, dask: str | None = None) -> dict:
    """`drg audit`: hospital_flags, review_cases, split_admissions and target_areas tables (see
    :mod:`evaluation.audit`); the cases read in one pass (:func:`evaluation.audit.cases.coded_cases`) run by
    :func:`drg.driver.run`, on a Dask cluster with ``dask``."""
    from evaluation.audit import case_areas, hospital_flags, review_scores
    from evaluation.audit.areas import REGISTRY
    from evaluation.common import normalize_level

    from .contract import load_mapping, note_year_source, read_plan, require
    from .driver import run
    from .regions import hospitals_table
    from .risk import code_lookup
    from .tables import output_folder, supplied_weights, write_tables

    if not 2 <= folds <= 20:
        raise InputError(f"--folds {folds}: choose 2..20 (cross-fitting needs at least two folds)")
    if review_limit < 1 or batch_size < 1:
        raise InputError("--review-limit and --batch-size must be positive numbers")
    folder = output_folder(output, [grouped, hospitals, weights], "audit")
    note_year_source(grouped, ["year"], load_mapping(columns), lang)  # said once, before the work
    mapping = load_mapping(columns)
    have = list(read_plan(grouped, AUDIT_COLUMNS, mapping)[1].values())
    require(grouped, have, {"hospital_id": "the hospital each case is judged with", "drg": "the case's DRG: run drg group first"},
            "audit")
    patient_col = "patient_id" if "patient_id" in have else None
    date_cols = {k: k if k in have else None for k in ("admit_date", "discharge_date")}
    supplied = supplied_weights(weights)
    reader = run(coded_cases(AUDIT_COLUMNS, code_lookup(scheme_path), patient_col, date_cols), grouped, mapping, batch_size,
                 dask)
    if not reader.parts:
        raise InputError(f"{grouped}: no records; audit the output of drg group")
    if not reader.hosp.words:
        raise InputError(f"{grouped}: no case names its hospital (hospital_id is empty); the audit judges hospitals: "
                         "fill hospital_id (定点医疗机构代码), or map it with --columns")
    a = reader.arrays()
    sup = None
    if supplied is not None:
        s = supplied.copy()
        s.columns = [str(c).strip().lower() for c in s.columns]
        given = dict(zip(s["drg"].astype(str), pd.to_numeric(s["weight" if "weight" in s.columns else "rw"], errors="coerce")))
        sup = np.array([given.get(wd, np.nan) for wd in reader.drg.words], float)
    patient_known = patient_col is not None and date_cols["admit_date"] is not None and date_cols["discharge_date"] is not None
    from . import progress

    progress.phase(progress.word("fit"))
    areas = case_areas(a, reader.adrg.words, reader.hosp.words, folds=folds, seed=seed, supplied_rw=sup,
                       dx_words=reader.dx.words)
    table = hospitals_table(hospitals, reader.hosp.words)
    level = {}
    if table is not None:
        level = dict(zip(table["hospital_id"].astype(str), normalize_level(table["level"])))
    h_level = np.array([level.get(h, "unknown") for h in reader.hosp.words], dtype=object)
    progress.phase(progress.word("tables"))
    cols_, stats_ = hospital_flags(areas, a["hosp"], a["year"], h_level, patient_known=patient_known)
    flags = _flags_frame(cols_, reader.hosp.words, h_level, table)
    probs = review_scores(areas, stats_)
    review = _review_table(a, areas, probs, stats_, reader, review_limit, lang)
    split = (_split_table(a, areas, reader.hosp.words, probs.get("split_admissions")) if patient_known
             else pd.DataFrame({"case_id": pd.Series(dtype=object), "first_case_id": pd.Series(dtype=object)}))
    defs = pd.DataFrame([{"target_area": ar.name, "area_name": ar.words(lang)[0], "direction": ar.direction,
                          "definition": ar.words(lang)[1],
                          "status": "ok" if not ar.patient or patient_known else "not_computed"} for ar in REGISTRY])
    tables = {"hospital_flags": flags, "review_cases": review, "split_admissions": split, "target_areas": defs}
    with folder as out:
        write_tables(tables, out, lang, "audit", kind="audit")
    tables["patient_known"] = patient_known
    return tables


def _flags_frame(cols: dict, hosp_words, h_level, table) -> pd.DataFrame:
    names = dict(zip(table["hospital_id"].astype(str), table["name"])) if table is not None and "name" in table.columns else {}
    h = cols.pop("hospital")
    df = pd.DataFrame({"hospital_id": np.asarray(hosp_words, dtype=object)[h], "name": [names.get(hosp_words[i], "") for i in h],
                       "level": h_level[h], "year": cols.pop("year"), **cols})
    df["flag"] = df["flag"].astype(bool)
    df["finding"] = _findings(df)
    df = df[[c for c in df.columns if c not in ("status", "flag", "finding")] + ["status", "flag", "finding"]]
    return df.sort_values(["hospital_id", "year", "target_area"], kind="stable").reset_index(drop=True)


def _findings(df: pd.DataFrame) -> np.ndarray:
    """Each row's finding (a key of FINDING_TEXT): a flag is "possible upcoding" only where the coded severity came
    without its cost; elsewhere a flag reads "higher (lower) than expected: sample for review"."""
    from evaluation.audit import Z_FLAG

    flag, status, ev = df["flag"].to_numpy(bool), df["status"].to_numpy(object), df["evidence"].to_numpy(object)
    high = (df["z_score"].to_numpy(float) > Z_FLAG) & (df["direction"].to_numpy(object) == "high")
    return np.select([flag & (ev == "unsupported"), flag, ~flag & high & (ev == "supported"), status != "ok"],
                     [np.full(len(df), "upcoding"), df["direction"].to_numpy(object), np.full(len(df), "sicker"), status],
                     "none")


def _split_table(a: dict, areas: dict, hosp_words, prob) -> pd.DataFrame:
    """Each possible split pair: the second stay, the first, the gap, whether both stays have the same principal
    diagnosis, and the probability that the pair is a split (:func:`evaluation.audit.split_probability`; 0 at
    hospital-years within expectation: a natural readmission), the likeliest first."""
    split_first = areas["split_first"]
    second = np.flatnonzero(split_first >= 0)
    first = split_first[second]
    ids = a["case_id"]
    p = prob[second] if prob is not None else np.full(len(second), np.nan)
    t = pd.DataFrame({"case_id": ids.take(pa.array(second)).to_numpy(zero_copy_only=False),
                      "first_case_id": ids.take(pa.array(first)).to_numpy(zero_copy_only=False),
                      "hospital_id": np.asarray(hosp_words, dtype=object)[a["hosp"][second]],
                      "year": a["year"][second],
                      "gap_days": (a["admit"][second] - a["discharge"][first]).astype(np.int64),
                      "same_principal": (a["pdx"][second] == a["pdx"][first]) & (a["pdx"][second] >= 0),
                      "probability": p})
    return t.iloc[np.lexsort((t["case_id"].astype(str).to_numpy(), -np.nan_to_num(p)))].reset_index(drop=True)


def _review_table(a, areas, probs: dict, stats_, reader, limit: int, lang: str) -> pd.DataFrame:
    """The chart-review list: cases with at least ``MIN_SCORE`` probability of being an excess case of a
    flagged hospital-year in a coding or admission area, ranked by the expected weight a review recovers
    (probability x weight at stake: what a bureau's reviewers are spent on first), with the reasons in words.
    Split admissions have their own list (``split_admissions``: both stays of each pair)."""
    from evaluation.audit import REVIEW_AREAS, weight_at_stake
    from evaluation.audit.areas import BY_NAME

    cols = ["case_id", "score", "probability", "weight_at_stake", "reason", "hospital_id", "year", "drg", "target_area"]
    use = [ar for ar in REVIEW_AREAS if ar in probs]
    if not use:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    prob = np.column_stack([probs[ar] for ar in use])
    stake = np.column_stack([weight_at_stake(areas, ar) for ar in use])
    value = prob * stake
    k_best = value.argmax(axis=1)
    row_all = np.arange(len(k_best))
    best_p = prob[row_all, k_best]
    cand = np.flatnonzero(best_p >= MIN_SCORE)
    if not len(cand):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    score = value[cand, k_best[cand]]
    ids = a["case_id"].take(pa.array(cand)).to_numpy(zero_copy_only=False).astype(object)
    ids = np.where(pd.isna(ids), "", ids)
    order = np.lexsort((ids, -score))[:limit]
    rows = cand[order]
    unit = stats_["unit"][rows]
    reasons = [[] for _ in rows]
    for k, ar in enumerate(use):
        s = prob[rows, k]
        at = np.flatnonzero(s >= MIN_SCORE)
        if not len(at):
            continue
        r = rows[at]
        extra = {"los": a["los"][r], "mean_los": areas["mean_los"][r]}
        if ar == "mcc_cc_capture":
            n, o, e, _ = stats_["sums"][ar]
            extra["p"] = areas["p_capture"][r]
            extra["oe"] = (o / np.where(e > 0, e, np.nan))[unit[at]]
        for i, text in zip(at, BY_NAME[ar].reasons(lang, s[at], extra)):
            reasons[i].append((s[i], text))
    best_area = np.array(use, dtype=object)[k_best[rows]]
    return pd.DataFrame({"case_id": ids[order], "score": score[order], "probability": best_p[rows],
                         "weight_at_stake": stake[rows, k_best[rows]],
                         "reason": ["；".join(t for _, t in sorted(r, key=lambda x: -x[0])) for r in reasons],
                         "hospital_id": np.asarray(reader.hosp.words, dtype=object)[a["hosp"][rows]],
                         "year": a["year"][rows], "drg": np.asarray(reader.drg.words, dtype=object)[a["drg"][rows]],
                         "target_area": best_area})


def audit_summary(tables: dict, output: str, lang: str = "zh") -> str:
    """What `drg audit` prints: flagged hospital-years per area, the review list and split pairs."""
    f = tables["hospital_flags"]
    area_col = "target_area"
    flagged = f[f["flag"]]
    zh = lang == "zh"
    lines = [(f"{len(flagged)} 个医院-年度-目标领域被标记(共 {len(f)} 个)" if zh else
              f"{len(flagged)} hospital-year-area rows flagged (of {len(f)})")]
    for area, g in flagged.groupby(area_col, sort=True):
        hs = ", ".join(f"{h} {y}" for h, y in zip(g["hospital_id"], g["year"]))
        found = sorted({FINDING_TEXT[lang][x] for x in g["finding"]})
        lines.append(f"  {AREA_TEXT['zh'][area][0]}({'；'.join(found)}): {hs}" if zh else f"  {area} ({'; '.join(found)}): {hs}")
    sicker = f[f["finding"] == "sicker"]
    if len(sicker):
        hs = ", ".join(f"{h} {y}" for h, y in sorted(set(zip(sicker["hospital_id"], sicker["year"]))))
        lines.append((f"编码高于预期但费用相应升高(患者病情较重，未标记): {hs}" if zh else
                      f"coding above expectation with the cost to match (sicker patients, not flagged): {hs}"))
    sp = tables["split_admissions"]
    likely = int((pd.to_numeric(sp["probability"], errors="coerce") >= LIKELY_SPLIT).sum()) if len(sp) else 0
    lines.append((f"病案抽查清单 {len(tables['review_cases'])} 例；很可能的分解住院(可能性≥50%) {likely} 对"
                  f"(同一MDC 0-2天内再入院共 {len(sp)} 对)" if zh else
                  f"review list: {len(tables['review_cases'])} cases; likely split admissions (probability >= 50%): {likely} "
                  f"pairs (of {len(sp)} same-MDC readmissions within 0-2 days)"))
    if not tables.get("patient_known", True):
        lines.append("未提供患者标识(patient_id/患者ID)或入出院日期：再入院与分解住院未计算" if zh else
                     "no patient_id (患者ID) or admission/discharge dates: readmissions and split admissions not computed")
    lines.append(("结果: " if zh else "output: ") + output)
    return "\n".join(lines)
