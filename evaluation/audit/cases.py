"""The audit's cases as compact arrays, batch by batch (the one reading of grouped records the audit's methods need:
:mod:`evaluation.coded`'s included rule, numbers and years; dates; diagnosis and procedure lists as integer codes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..coded import Vocab, included_codes, local_codes, numbers, text_codes, years


def days(col) -> np.ndarray:
    """Dates as days since 1970 (-1 missing or unreadable): date, timestamp or text (2021-03-04, 20210304)."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if not (pa.types.is_date(arr.type) or pa.types.is_timestamp(arr.type)):
        text = pc.utf8_trim_whitespace(pc.cast(arr, pa.string()))
        parsed = None
        for fmt in ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S"):
            try:
                p = pc.strptime(pc.utf8_slice_codeunits(text, 0, 19 if "%H" in fmt else len(fmt) + 2), format=fmt, unit="s",
                                error_is_null=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
            parsed = p if parsed is None else pc.coalesce(parsed, p)
        arr = parsed if parsed is not None else pa.nulls(len(arr), pa.timestamp("s"))
    days = pc.cast(pc.cast(arr, pa.timestamp("s")), pa.int64())
    out = pc.fill_null(pc.divide(days, 86400), -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return out


COMPACT = {"hosp": np.int32, "drg": np.int32, "adrg": np.int32, "mdc": np.int32, "los": np.float32, "age": np.float32,
           "sex": np.float32, "admit": np.int32, "discharge": np.int32, "year": np.int32, "pdx": np.int32, "ppx": np.int32,
           "sdx": np.int32, "n_sdx": np.int16}


def code_batch(batch: pa.Table, lookup, patient_col: str | None, date_cols: dict) -> dict:
    """One batch as the audit's arrays, its text codes local to the batch (a pure function of the batch: it runs on
    threads and Dask workers; :class:`AuditCases` merges the results in input order)."""
    from ..common import usable_age, usable_cost, usable_los
    from ..risk import diagnosis_features

    n = batch.num_rows
    names = batch.column_names
    drg_text = pc.cast(batch.column("drg"), pa.string())
    # without adrg / mdc columns: the CHS-DRG code's first three characters and first letter (as evaluate does)
    text = {"hosp": local_codes(batch.column("hospital_id")), "drg": local_codes(batch.column("drg")),
            "adrg": local_codes(batch.column("adrg") if "adrg" in names else pc.utf8_slice_codeunits(drg_text, 0, 3)),
            "mdc": local_codes(batch.column("mdc") if "mdc" in names else pc.utf8_slice_codeunits(drg_text, 0, 1))}
    d: dict = {}
    d["los"] = usable_los(numbers(batch.column("los_days"))) if "los_days" in names else np.full(n, np.nan)
    d["cost"] = usable_cost(numbers(batch.column("total_cost"))) if "total_cost" in names else np.full(n, np.nan)
    d["age"] = usable_age(numbers(batch.column("age_years"))) if "age_years" in names else np.full(n, np.nan)
    d["sex"] = numbers(batch.column("sex")) if "sex" in names else np.full(n, np.nan)
    lv = numbers(batch.column("leaving_type")) if "leaving_type" in names else None
    d["leaving"] = np.where(np.isfinite(lv) & (lv >= 0) & (lv <= 9), lv, -1).astype(np.int8) if lv is not None \
        else np.full(n, -1, np.int8)
    admit = days(batch.column(date_cols["admit_date"])) if date_cols.get("admit_date") else np.full(n, -1)
    discharge = days(batch.column(date_cols["discharge_date"])) if date_cols.get("discharge_date") else np.full(n, -1)
    d["admit"], d["discharge"] = admit, discharge
    if "year" in names:
        year = np.nan_to_num(years(batch), nan=-1.0)
    else:
        year = np.where(discharge >= 0, discharge.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970, -1)
    d["year"] = year.astype(np.int64)
    if patient_col:
        vals = pc.cast(batch.column(patient_col), pa.string()).to_numpy(zero_copy_only=False)
        h = pd.util.hash_array(vals.astype(object), categorize=True).astype(np.uint64)
        h[pd.isna(vals)] = 0
        h[h == 0] = 1  # 0 stands for "unknown"
        d["patient"] = np.where(pd.isna(vals), np.uint64(0), h)
    else:
        d["patient"] = np.zeros(n, np.uint64)
    # diagnoses: principal, secondary codes (flat), MCC/CC valid for the principal
    dx = _lists(batch, "dx")
    feats = diagnosis_features(dx["offsets"], dx["local"], dx["words"], lookup)
    d["mcc_cc"] = (feats["mcc"] > 0) | (feats["cc"] > 0)
    d["n_sdx"] = feats["secondary_dx"].astype(np.int32)
    d["sdx_count"] = np.maximum(np.diff(dx["offsets"]) - 1, 0)
    status = text_codes(batch.column("status")) if "status" in names else None
    case_id = pc.cast(batch.column("case_id"), pa.string()) if "case_id" in names else pa.array([None] * n, pa.string())
    return {"text": text, "d": d, "dx": dx, "px": _lists(batch, "px"), "status": status, "case_id": case_id}


def _lists(batch, name) -> dict:
    """A list column (or "A|B" text) as offsets, codes local to the batch and their words."""
    n = batch.num_rows
    empty = {"offsets": np.zeros(n + 1, np.int64), "local": np.zeros(0, np.int64), "words": []}
    if name not in batch.column_names:
        return empty
    col = batch.column(name)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_dictionary(col.type):
        text = pc.replace_substring(pc.cast(col, pa.string()), ",", "|")
        col = pc.split_pattern(text, "|")
    if not pa.types.is_list(col.type) and not pa.types.is_large_list(col.type):
        return empty
    lists = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    values = lists.values
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    enc = pc.dictionary_encode(pc.utf8_trim_whitespace(pc.cast(values, pa.string())))
    offsets = lists.offsets.to_numpy().astype(np.int64)
    words = [w if w is not None else "" for w in enc.dictionary.to_pylist()]
    local = enc.indices.to_numpy(zero_copy_only=False)
    local = np.where(enc.indices.is_null().to_numpy(zero_copy_only=False), -1, np.nan_to_num(local)).astype(np.int64)
    return {"offsets": offsets - offsets[0], "local": local[offsets[0]:offsets[-1]], "words": words}


def _first_and_rest(lists: dict, vocab: Vocab) -> tuple[np.ndarray, np.ndarray]:
    """(each case's first code, -1 for none; the other codes, flat) as the run's ids."""
    offsets, local, words = lists["offsets"], lists["local"], lists["words"]
    glob = vocab.of_local(local, words)
    lengths = np.diff(offsets)
    first = np.full(len(lengths), -1, np.int64)
    has = lengths > 0
    first[has] = glob[offsets[:-1][has]]
    head = np.zeros(len(glob), bool)
    head[offsets[:-1][has]] = True
    return first, glob[~head]


class AuditCases:
    """The audit's per-case arrays of a whole file (:func:`evaluation.audit.case_areas` reads them): each batch's
    :func:`code_batch` merged in input order, codes made the run's integers, about 60 bytes a case."""

    def __init__(self):
        self.hosp, self.drg, self.adrg, self.mdc, self.dx, self.px = (Vocab() for _ in range(6))
        self.parts: dict = {}
        self.case_ids: list = []

    def merge(self, part: dict) -> None:
        t = part["text"]
        d = {k: getattr(self, k).of_local(*t[k]) for k in ("hosp", "drg")}
        # the one rule, on the codes just made (blank hospitals are -1 already)
        ok = included_codes((d["drg"], self.drg.words), (d["hosp"], self.hosp.words), part["status"])
        d["ok"] = ok
        d["adrg"] = self.adrg.of_local(*t["adrg"])
        d["mdc"] = np.where(ok, self.mdc.of_local(*t["mdc"]), -1)
        d.update(part["d"])
        d["pdx"], d["sdx"] = _first_and_rest(part["dx"], self.dx)
        d["ppx"] = _first_and_rest(part["px"], self.px)[0]
        # compact: about 60 bytes a case (codes int32, dates int32, measures float32)
        self.keep({k: v.astype(COMPACT[k]) if k in COMPACT else v for k, v in d.items()}, part["case_id"])

    def keep(self, d: dict, case_id) -> None:
        """Keep one batch's coded arrays (here: in memory; :class:`evaluation.audit.spilled.SpilledCases`: on disk)."""
        self.case_ids.append(case_id)
        for k, v in d.items():
            self.parts.setdefault(k, []).append(v)

    def arrays(self) -> dict:
        out = {k: np.concatenate(v) for k, v in self.parts.items()}
        self.parts = {}
        out["sdx_offsets"] = np.concatenate([[0], np.cumsum(out.pop("sdx_count"))]).astype(np.int64)
        out["case_id"] = pa.chunked_array(self.case_ids, pa.string())
        return out


def coded_cases(columns: list, lookup, patient_col: str | None, date_cols: dict):
    """The analysis (:mod:`evaluation.analysis`) that reads a grouped file into :class:`AuditCases` in one pass."""
    import functools

    from ..analysis import Pass

    cases = AuditCases()
    yield Pass(columns, functools.partial(code_batch, lookup=lookup, patient_col=patient_col, date_cols=date_cols),
               cases.merge)
    return cases
