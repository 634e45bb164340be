"""`drg audit`: coding-quality and gaming surveillance over a grouped file (methods in :mod:`evaluation.audit`).

One pass (locally or on a Dask cluster) turns the records into compact integer and float arrays on disk (about 60
bytes a case plus the secondary-diagnosis codes, encoded to integers once, as the grouper does); sweeps over them in
blocks of a fixed size do the rest (:mod:`evaluation.audit.streamed`): memory follows the batch size, not the file.
Writes ``hospital_flags``, ``review_cases``, ``split_admissions`` and ``target_areas``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.words import AREA_TEXT, FINDING_TEXT

from .io import InputError

# read under these canonical names (drg.contract finds them under the 病案首页 / 结算清单 names too); the patient id
# (an ID-card number is best hashed before export) is hashed again on reading and never written out
AUDIT_COLUMNS = ["case_id", "hospital_id", "year", "status", "drg", "adrg", "mdc", "dx", "px", "age_years", "sex",
                 "los_days", "leaving_type", "total_cost", "admit_date", "discharge_date", "patient_id"]
LIKELY_SPLIT = 0.5  # the split pairs the console counts


def audit_to(grouped: str, output: str, *, hospitals: str | None = None, scheme_path: str | None = None,
             weights: str | None = None, folds: int = 5, seed: int = 0, batch_size: int = 1_000_000,
             review_limit: int = 100_000, lang: str = "zh", columns: str | None = None, dask: str | None = None) -> dict:
    """`drg audit`: hospital_flags, review_cases, split_admissions and target_areas tables (see
    :mod:`evaluation.audit`): one pass over the file (run by :func:`drg.driver.run`, on a Dask cluster with ``dask``),
    then the sweeps of :mod:`evaluation.audit.streamed` over its coded cases on disk (memory follows the batch size)."""
    from evaluation.audit.areas import REGISTRY
    from evaluation.audit.streamed import streamed_audit
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
    patient_known = patient_col is not None and date_cols["admit_date"] is not None and date_cols["discharge_date"] is not None
    supplied = supplied_weights(weights)
    given = None
    if supplied is not None:
        s = supplied.copy()
        s.columns = [str(c).strip().lower() for c in s.columns]
        given = dict(zip(s["drg"].astype(str), pd.to_numeric(s["weight" if "weight" in s.columns else "rw"], errors="coerce")))
    hospitals_of: dict = {}

    def levels_of(words: list) -> np.ndarray:  # each hospital's peer group, once the file's hospitals are known
        table = hospitals_of["table"] = hospitals_table(hospitals, words)
        level = dict(zip(table["hospital_id"].astype(str), normalize_level(table["level"]))) if table is not None else {}
        hospitals_of["level"] = np.array([level.get(h, "unknown") for h in words], dtype=object)
        return hospitals_of["level"]

    from . import progress

    analysis = streamed_audit(AUDIT_COLUMNS, code_lookup(scheme_path), patient_col, date_cols, levels_of=levels_of,
                              folds=folds, seed=seed, supplied=given, patient_known=patient_known, review_limit=review_limit,
                              on_phase=lambda key, rows: progress.phase(progress.word(key), rows), on_rows=progress.advance)
    found, cases = run(analysis, grouped, mapping, batch_size, dask)
    if not cases.rows:
        raise InputError(f"{grouped}: no records; audit the output of drg group")
    if not cases.hosp.words:
        raise InputError(f"{grouped}: no case names its hospital (hospital_id is empty); the audit judges hospitals: "
                         "fill hospital_id (定点医疗机构代码), or map it with --columns")
    hosp_words, drg_words = np.asarray(cases.hosp.words, dtype=object), np.asarray(cases.drg.words, dtype=object)
    table, h_level = hospitals_of["table"], hospitals_of["level"]
    flags = _flags_frame(dict(found["flags"]), cases.hosp.words, h_level, table)
    review = _review_table(found["review"], hosp_words, drg_words, lang)
    split = (_split_table(found["split"], hosp_words) if patient_known
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


def _words(codes, words: np.ndarray) -> np.ndarray:
    """Codes as their words ("" for -1: no value)."""
    codes = np.asarray(codes, np.int64)
    return np.where(codes >= 0, np.append(words, "")[codes], "").astype(object) if len(words) else np.full(len(codes), "", object)


def _split_table(split: dict, hosp_words) -> pd.DataFrame:
    """Each possible split pair (:func:`evaluation.audit.findings.split_rows`): the second stay, the first, the gap,
    whether both stays have the same principal diagnosis, and the probability that the pair is a split
    (:func:`evaluation.audit.split_probability`; 0 at hospital-years within expectation: a natural readmission)."""
    return pd.DataFrame({"case_id": split["case_id"], "first_case_id": split["first_case_id"],
                         "hospital_id": _words(split["hosp"], hosp_words), "year": split["year"],
                         "gap_days": split["gap_days"], "same_principal": split["same_principal"],
                         "probability": split["probability"]})


def _review_table(review: dict | None, hosp_words, drg_words, lang: str) -> pd.DataFrame:
    """The chart-review list (:class:`evaluation.audit.findings.ReviewList`) with the reasons in words."""
    from evaluation.audit.areas import BY_NAME

    cols = ["case_id", "score", "probability", "weight_at_stake", "reason", "hospital_id", "year", "drg", "target_area"]
    if review is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    reasons = [[] for _ in review["case_id"]]
    for ar, (at, s, extra) in review["why"].items():
        for i, p, text in zip(at, s, BY_NAME[ar].reasons(lang, s, extra)):
            reasons[i].append((p, text))
    return pd.DataFrame({"case_id": review["case_id"], "score": review["score"], "probability": review["probability"],
                         "weight_at_stake": review["weight_at_stake"],
                         "reason": ["；".join(t for _, t in sorted(r, key=lambda x: -x[0])) for r in reasons],
                         "hospital_id": _words(review["hosp"], hosp_words), "year": review["year"],
                         "drg": _words(review["drg"], drg_words), "target_area": review["target_area"]})


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
