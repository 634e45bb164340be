"""The per-batch counts of the tiered-care tables on a batch's Arrow codes: :func:`batch_counts` gives what
:func:`evaluation.tiered_care.county_counts`, :func:`~evaluation.tiered_care.region_counts` and
:func:`~evaluation.tiered_care.referral_sums` give for the same cases (the per-case functions stay the
reference), deciding each rule once per distinct hospital, county, DRG and leaving type instead of per case
(pandas per case cost 2.5 s a million rows; this about a tenth)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ..cells import CodedBatch, levels_of
from ..coded import numbers, text_codes, years
from ..common import normalize_level
from . import LEVEL_RANK, REVENUE, transfer_receivers


def _years(t: pa.Table) -> pd.Series:
    """The year as :func:`evaluation.common.prepare` reads it (0 when the file has none)."""
    if "year" not in t.column_names:
        return pd.Series(np.zeros(t.num_rows, np.int64))
    raw = pd.to_numeric(t.column("year").to_pandas(), errors="coerce")
    year = years(t)
    if np.array_equal(year, raw.to_numpy(float), equal_nan=True):  # every year readable as it is: its own type
        return raw
    return pd.Series(year)  # 1e308, 0 or 2018.5: unreadable ones empty, whole years


def _grouped(codes: list, values: list, names: list) -> pd.DataFrame:
    """Counts per distinct combination of the code columns, with each column's value (``values[i][code]``)."""
    key = np.zeros(len(codes[0]), np.int64)
    for c, v in zip(codes, values):
        key = key * len(v) + c
    code, uniq = pd.factorize(key)
    out, rest = {}, uniq
    for c, v, name in reversed(list(zip(codes, values, names))):
        out[name] = (v if isinstance(v, np.ndarray) else np.asarray(v, dtype=object))[rest % len(v)]
        rest = rest // len(v)
    frame = pd.DataFrame({name: out[name] for name in names})
    frame["n"] = np.bincount(code, minlength=len(uniq)).astype(np.int64)
    return frame


def batch_counts(t: pa.Table, hospitals: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    """(county counts, region counts, referral sums, how transfers were matched) of one batch."""
    n = t.num_rows
    cb = CodedBatch(t, levels_of(hospitals))
    hosp_text = cb.hosp + [None]  # a missing hospital stays missing
    year = _years(t)
    yc, yv = pd.factorize(year, use_na_sentinel=False)
    yv = np.asarray(yv) if len(yv) else np.zeros(1, np.int64)
    # county counts: residence county x year x the hospital's county
    if "residence_county" in t.column_names:
        rc, rv = text_codes(t.column("residence_county"))
    else:
        rc, rv = np.full(n, -1, np.int64), []
    hc = {h: (None if pd.isna(c) else str(c)) for h, c in zip(hospitals["hospital_id"].astype(str), hospitals["county"])}
    hcode, hvals = pd.factorize(pd.Series([hc.get(h) for h in hosp_text], dtype=object), use_na_sentinel=True)
    hcc = hcode[np.where(cb.h >= 0, cb.h, len(cb.hosp))]
    county = _grouped([rc + 1, yc, hcc + 1], [[None] + rv, yv, [None] + list(hvals)], ["county", "year", "hospital_county"])
    # region counts: year x level x DRG x included
    lc, lvals = pd.factorize(pd.Series(cb.level_names, dtype=object))
    drg_text = cb.drgs + [None]
    region = _grouped([yc, lc[np.where(cb.level >= 0, cb.level, len(cb.level_names) - 1)], np.where(cb.g >= 0, cb.g, len(cb.drgs)),
                       cb.included.astype(np.int64)], [yv, list(lvals), drg_text, [False, True]],
                      ["year", "level", "drg", "included"])
    region["included"] = region["included"].astype(bool)
    return county, region, *_referrals(t, cb, hosp_text, year, hospitals)


def _leaving(lt: np.ndarray, lts: list | None, n: int) -> dict:
    """Per case whether its leaving type (codes ``lt`` into ``lts``, None without the column) is 2 (transfer), 3 (to a
    community or township facility), 5 (death)."""
    if lts is None:
        return {v: np.zeros(n, dtype=bool) for v in ("2", "3", "5")}
    lt_text = np.array([v if v is not None else "nan" for v in lts] + ["nan"], dtype=object)  # as astype(str)
    lt_idx = np.where(lt >= 0, lt, len(lt_text) - 1)
    return {v: (lt_text == v)[lt_idx] for v in ("2", "3", "5")}


def _stays(t: pa.Table, rows: np.ndarray, date: str) -> pd.DataFrame:
    """``rows``' patient (text), hospital (as ``astype(str)`` writes it) and ``date`` (a timestamp, NaT unreadable),
    as :func:`evaluation.tiered_care.transfer_receivers` reads them from a table."""
    take = pa.array(rows, pa.int64())
    return pd.DataFrame({"patient": t.column("patient_id").take(take).to_pandas().astype("string").to_numpy(),
                         "hospital": t.column("hospital_id").take(take).to_pandas().astype(str).to_numpy(),
                         date: pd.to_datetime(t.column(f"{date}_date").take(take).to_pandas(), errors="coerce").to_numpy()})


def transfer_stays(t: pa.Table, offset: int) -> pd.DataFrame:
    """A batch's type-2 transfers for linking by patient and dates: row (``offset`` + position), patient, hospital,
    discharge, and the (hospital_id, year) cell their referral sums are counted in (None where none is)."""
    n = t.num_rows
    lt, lts = text_codes(t.column("leaving_type")) if "leaving_type" in t.column_names else (np.full(n, -1), None)
    rows = np.flatnonzero(_leaving(lt, lts, n)["2"])
    out = _stays(t, rows, "discharge").assign(row=offset + rows)
    h, hosp = text_codes(t.column("hospital_id"))
    year = _years(t).to_numpy()[rows]
    ok = ~pd.isna(year) & (h[rows] >= 0)
    out["cell_hospital"] = np.where(ok, np.asarray(hosp + [None], dtype=object)[h[rows]], None)
    out["cell_year"] = np.where(ok, year, None)
    return out


def candidate_stays(t: pa.Table, bits) -> pd.DataFrame:
    """Every stay of a batch whose patient's bit is set in ``bits`` (:class:`evaluation.tiered_care.linking.PatientBits`
    of the transferred patients: theirs, and a few others'): patient, hospital_to, admit_to."""
    from .linking import patient_hashes

    patient = t.column("patient_id").to_pandas().astype("string")
    rows = np.flatnonzero(patient.notna().to_numpy(bool))
    rows = rows[bits.has(patient_hashes(patient.to_numpy()[rows]))]
    return _stays(t, rows, "admit").rename(columns={"hospital": "hospital_to", "admit": "admit_to"})


def _referrals(t: pa.Table, cb: CodedBatch, hosp_text: list, year: pd.Series, hospitals: pd.DataFrame):
    n = t.num_rows
    is_lt = _leaving(cb.lt, cb.lts, n)
    lv_map = dict(zip(hospitals["hospital_id"].astype(str), normalize_level(hospitals["level"])))
    rank_of = {h: LEVEL_RANK.get(v, np.nan) for h, v in lv_map.items()}
    transfer = is_lt["2"]
    rows = np.flatnonzero(transfer)
    raw = pd.DataFrame(index=rows)
    if "receiving_institution" in t.column_names:
        raw["receiving_institution"] = t.column("receiving_institution").take(pa.array(rows)).to_pandas().to_numpy()
    receiver, how = transfer_receivers(raw, hospitals, pd.Series("2", index=rows))
    sender_rank = np.array([rank_of.get(h, np.nan) for h in hosp_text], dtype=float)[np.where(cb.h >= 0, cb.h, len(cb.hosp))]
    receiver_rank = np.full(n, np.nan)
    receiver_rank[rows] = receiver.astype(object).map(rank_of).astype(float).to_numpy()
    known = transfer & ~np.isnan(receiver_rank) & ~np.isnan(sender_rank)
    with np.errstate(invalid="ignore"):
        t_down = known & (receiver_rank < sender_rank)
        t_up = known & (receiver_rank > sender_rank)
    flags = {"alive": ~is_lt["5"], "down": is_lt["3"] | t_down, "transfers": transfer, "transfer_down": t_down,
             "transfer_up": t_up, "transfer_unknown_level": transfer & ~known}
    names = t.column_names
    revenue = None
    if all(c in names for c in REVENUE) and "total_cost" in names:
        total = numbers(t.column("total_cost"))
        parts = [numbers(t.column(c)) for c in REVENUE]
        with np.errstate(invalid="ignore"):
            complete = ~np.isnan(total) & (total > 0)
            for p in parts:
                complete &= ~np.isnan(p)
            s = parts[0] + parts[1] + parts[2]
            revenue = {"narrow": np.where(complete, total - s, 0.0),
                       "broad": np.where(complete, total - parts[0] - parts[1], 0.0), "total": np.where(complete, total, 0.0)}
        revenue = {k: np.where(np.isnan(v), 0.0, v) for k, v in revenue.items()}  # a group's sum skips NaN (inf - inf)
    ok = year.notna().to_numpy() & (cb.h >= 0)  # groupby drops a missing year or hospital
    yc, yv = pd.factorize(year[ok])
    yv = np.asarray(yv)
    hcodes = np.where(cb.h >= 0, cb.h, len(cb.hosp))[ok]
    key = hcodes * max(len(yv), 1) + yc
    code, uniq = pd.factorize(key)
    k = len(uniq)
    out = {name: np.bincount(code, weights=v[ok], minlength=k).astype(np.int64) for name, v in flags.items()}
    if revenue is not None:
        for name, v in revenue.items():
            out[name] = np.bincount(code, weights=v[ok], minlength=k)
    index = pd.MultiIndex.from_arrays([np.asarray(hosp_text, dtype=object)[uniq // max(len(yv), 1)],
                                       np.asarray(yv)[uniq % max(len(yv), 1)] if len(yv) else np.empty(0)],
                                      names=["hospital_id", "year"])
    return pd.DataFrame(out, index=index), how
