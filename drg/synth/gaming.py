"""drg synth's coding games (planted for drg audit): upcoders, admission splitters, low-value admitters,
readmitters, sloppy coders, and the patients' ids that let stays of one patient be linked."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from .params import (
    LOW_VALUE_EXTRA,
    PRINCIPAL_SWAP_SHARE,
    READMIT_PLANT_SHARE,
    READMIT_SHARE,
    SHORT_STAY_SHARE,
    SLOPPY_ERROR_RATE,
    SPLIT_SHARE,
    UPCODE_SHARE,
    part_streams,
)

GAMES = ("upcoding_from", "splits_admissions", "low_value_admissions", "readmits", "sloppy_coding", "short_stays",
         "principal_by_payment")  # drg synth's columns
from .world import stable_order


def plant_gaming(h: pd.DataFrame, years: list, rng) -> pd.DataFrame:
    """Which hospitals game the payment (planted, disjoint from every other plant): two upcoders from the
    second and third data years (``upcoding_from``), two that split admissions, one that admits low-value
    short stays, one that readmits its patients within two weeks (``readmits``), one whose coding leaves many cases
    ungroupable (``sloppy_coding``), one that discharges patients of high-weight DRGs early (``short_stays``), one
    that puts the costliest diagnosis first (``principal_by_payment``). All secondary hospitals: enough cases a year
    for an audit to judge them. (The last four are drawn after the first five, from the rest: the first five are
    those of a world without them.)"""
    h = h.copy()
    h["upcoding_from"] = pd.Series([None] * len(h), dtype=object)
    for game in GAMES[1:]:
        h[game] = False
    taken = h["quality_outlier"] | h["efficiency_outlier"] | h["casemix_only"] | h["supported"]
    pool = h.index[(h["level"] == "secondary") & ~taken].to_numpy()
    if len(pool) < 5:
        pool = h.index[(h["level"] != "primary") & ~taken].to_numpy()
    pick = rng.choice(pool, size=min(5, len(pool)), replace=False)
    onsets = (sorted(years)[1:3] or sorted(years)[:1]) * 2
    for k, hi in enumerate(pick[:2]):
        h.at[hi, "upcoding_from"] = int(onsets[k])
    h.loc[pick[2:4], "splits_admissions"] = True
    h.loc[pick[4:5], "low_value_admissions"] = True
    rest = np.setdiff1d(pool, pick)
    more = rng.choice(rest, size=min(4, len(rest)), replace=False)
    h.loc[more[:1], "readmits"] = True
    h.loc[more[1:2], "sloppy_coding"] = True
    h.loc[more[2:3], "short_stays"] = True
    h.loc[more[3:4], "principal_by_payment"] = True
    return h


def gaming_hospitals(h: pd.DataFrame) -> np.ndarray:
    """Which hospitals (rows of ``h``) play any of the games."""
    return (h["upcoding_from"].notna() | h[list(GAMES[1:])].any(axis=1)).to_numpy()


def _take_rows(c: SimpleNamespace, rows: np.ndarray) -> None:
    """Every per-case array of ``c`` reduced (or extended) to ``rows``, in that order."""
    for name, v in list(vars(c).items()):
        if isinstance(v, np.ndarray) and v.ndim >= 1 and len(v) == c.n:
            setattr(c, name, v[rows])
    c.n = len(rows)


def _append_rows(c: SimpleNamespace, src: np.ndarray) -> np.ndarray:
    """Copies of the cases ``src`` appended to every per-case array; returns the new rows' indices."""
    n = c.n
    for name, v in list(vars(c).items()):
        if isinstance(v, np.ndarray) and v.ndim >= 1 and len(v) == n:
            setattr(c, name, np.concatenate([v, v[src]]))
    c.n = n + len(src)
    return np.arange(n, c.n)


def _rescale_cost(c: SimpleNamespace, rows: np.ndarray, total: np.ndarray) -> None:
    """New total costs for ``rows``, with the parts scaled alike (rounded to the fen; other = the rest)."""
    f = total / np.maximum(c.total[rows], 0.01)
    c.total[rows] = np.round(total, 2)
    c.parts[rows] = np.round(c.parts[rows] * f[:, None], 2)
    c.other[rows] = np.round(c.total[rows] - c.parts[rows].sum(axis=1), 2)


def _upcode(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """An upcoder's cases from its onset year, in ADRGs the scheme splits, whose template carries no
    complication: a share get one MCC or CC code (valid for the principal diagnosis, so the DRG moves
    to a severe split) that the patient's true condition does not support (``c.comorbid_ids[:, -1]``)."""
    L = w.lists
    onset = pd.to_numeric(w.h["upcoding_from"], errors="coerce").fillna(10**4).to_numpy(np.int64)
    eligible = (c.year >= onset[c.hosp]) & w.t_upcode_ok[c.tmpl] & ~c.error
    rows = np.flatnonzero(eligible & (rng.random(c.n) < UPCODE_SHARE))
    if not len(rows) or not (len(L.mcc) + len(L.cc)):
        return
    pdx_id = w.t_pdx_scheme[c.tmpl[rows]]
    pdx_ex = np.where(pdx_id >= 0, L.pdx_ex[np.maximum(pdx_id, 0)], -1)
    chosen = np.full(len(rows), -1, np.int64)
    for _ in range(6):  # a few draws until one is not excluded by the principal diagnosis (FORMAT.md 4.1)
        use_mcc = (rng.random(len(rows)) < 0.5) & (len(L.mcc) > 0) | (len(L.cc) == 0)
        cand = np.where(use_mcc, L.mcc[rng.integers(0, max(len(L.mcc), 1), len(rows)) % max(len(L.mcc), 1)] if len(L.mcc) else -1,
                        L.cc[rng.integers(0, max(len(L.cc), 1), len(rows)) % max(len(L.cc), 1)] if len(L.cc) else -1)
        ex = np.where(use_mcc, L.mcc_ex[cand], L.cc_ex[cand])
        ok = (chosen < 0) & (cand >= 0) & ((pdx_ex < 0) | (ex != pdx_ex))
        chosen[ok] = cand[ok]
    c.comorbid_ids[rows, -1] = chosen  # scheme code ids are their ids in w.dx_vocab


def _split_stays(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """A splitter's stays (routine discharge, no LOS bound on the template, 4+ days) cut in two: the
    patient is discharged and readmitted 0-2 days later for the rest of the stay (分解住院). ``c.split_src``:
    the first stay of each second stay (-1 otherwise). Costs follow the days, each stay a little dearer.
    (In a streamed synth both stays stay in the part of the stay they were cut from, also where one of them
    now ends a few days outside the part's days: a part may be shorter than a stay.)"""
    free = w.t_free_los
    doy = (c.discharge - c.discharge.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)
    eligible = (w.h["splits_admissions"].to_numpy()[c.hosp] & (c.leaving == w.leave["1"]) & ~c.error & (c.los >= 4)
                & free[c.tmpl] & (doy >= c.los + 5) & (doy <= 360) & (c.comorbid_ids[:, -1] < 0))
    first = np.flatnonzero(eligible & (rng.random(c.n) < SPLIT_SHARE))
    los, admit, total = c.los[first].copy(), c.admit[first].copy(), c.total[first].copy()
    second = _append_rows(c, first)
    c.split_src = np.full(c.n, -1, np.int64)
    c.split_src[second] = first
    los1 = np.clip(np.round(los * rng.uniform(0.3, 0.7, len(first))), 1, los - 1).astype(np.int64)
    gap = rng.choice(3, size=len(first), p=[0.5, 0.35, 0.15])
    c.los[first], c.discharge[first] = los1, admit + los1
    c.los[second], c.admit[second] = los - los1, admit + los1 + gap
    c.discharge[second] = c.admit[second] + (los - los1)
    _rescale_cost(c, first, total * los1 / los * 1.08)
    _rescale_cost(c, second, total * (los - los1) / los * 1.08)


def _low_value(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """The low-value admitter's extra 1-day stays in low-weight medical DRGs (低标准入院), cheap, routine
    discharge; they copy a random own case's date, patient features and residence (``c.low_value``)."""
    prof, drgs = w.prof, w.low_value_drgs
    own = np.flatnonzero(w.h["low_value_admissions"].to_numpy()[c.hosp])
    c.low_value = np.zeros(c.n, bool)
    if not len(drgs) or not len(own):
        return
    src = rng.choice(own, size=int(round(LOW_VALUE_EXTRA * len(own))))
    rows = _append_rows(c, src)
    if hasattr(c, "person"):  # new patients: numbers after every placed case's, in a block per part
        c.person[rows] = w.cases + c.person[0] - 1 + np.arange(len(rows)) + 1
    p = prof["popularity"].to_numpy()[drgs]
    drg = rng.choice(drgs, size=len(rows), p=p / p.sum())
    c.drg[rows] = drg
    c.tmpl[rows] = w.t_start[drg] + (rng.random(len(rows)) * w.t_count[drg]).astype(np.int64)
    c.error[rows] = False
    c.split_src[rows] = -1
    c.readmit_src[rows] = -1
    c.comorbid_ids[rows] = -1
    c.los[rows] = 1
    c.admit[rows] = c.discharge[rows] - 1
    c.leaving[rows] = w.leave["1"]
    c.receiver[rows] = -1
    c.receiver_text[rows] = -1
    c.p_death[rows] = prof["death_risk"].to_numpy()[drg] * 0.2
    c.low_value[rows] = True
    _rescale_cost(c, rows, prof["mean_cost"].to_numpy()[drg] * 0.25 * np.exp(rng.normal(0, 0.2, len(rows))))


def _readmit(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """The readmitter's patients back 3-14 days after a routine discharge (``c.readmit_src``: the first stay of
    each readmission, -1 otherwise): the same patient, DRG and kind of stay again, not a split (3 days or more)."""
    c.readmit_src = np.full(c.n, -1, np.int64)
    doy = (c.discharge - c.discharge.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)
    eligible = (w.h["readmits"].to_numpy()[c.hosp] & (c.leaving == w.leave["1"]) & ~c.error & (c.split_src < 0)
                & (doy + 14 + c.los <= 360))
    first = np.flatnonzero(eligible & (rng.random(c.n) < READMIT_PLANT_SHARE))
    if not len(first):
        return
    again = _append_rows(c, first)
    c.readmit_src[again] = first
    gap = rng.integers(3, 15, len(first))
    c.admit[again] = c.discharge[first] + gap
    c.discharge[again] = c.admit[again] + c.los[first]


def _sloppy(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """The sloppy coder's cases: ``SLOPPY_ERROR_RATE`` of them with an invalid principal diagnosis (not grouped)."""
    mine = w.h["sloppy_coding"].to_numpy()[c.hosp]
    c.error |= mine & (rng.random(c.n) < SLOPPY_ERROR_RATE) & (c.comorbid_ids[:, -1] < 0)


def _short_stays(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """The early discharger's routine stays in high-weight DRGs (``w.short_stay_drgs``, templates without a length of
    stay bound): ``SHORT_STAY_SHARE`` of them end after a quarter of the DRG's mean stay (at least a day), billed as
    they were (the payment is the DRG's whatever the stay)."""
    mine = w.h["short_stays"].to_numpy()[c.hosp]
    eligible = (mine & w.short_stay_drgs[c.drg] & (c.leaving == w.leave["1"]) & ~c.error & w.t_free_los[c.tmpl]
                & (c.split_src < 0) & (c.readmit_src < 0) & ~c.low_value)
    rows = np.flatnonzero(eligible & (rng.random(c.n) < SHORT_STAY_SHARE))
    short = np.maximum(1, np.floor(w.p_mean_los[c.drg[rows]] / 4)).astype(np.int64)
    rows, short = rows[short < c.los[rows]], short[short < c.los[rows]]
    c.los[rows] = short
    c.discharge[rows] = c.admit[rows] + short


def _principal_by_payment(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """The payment-minded coder's medical cases whose template lists a secondary diagnosis that heads costlier DRGs
    (``w.t_swap_pos``): ``PRINCIPAL_SWAP_SHARE`` of them coded with it as the principal diagnosis (``c.swap_pos``:
    its place in the list, swapped with the first when the lists are written; -1 elsewhere)."""
    c.swap_pos = np.full(c.n, -1, np.int64)
    mine = w.h["principal_by_payment"].to_numpy()[c.hosp]
    eligible = mine & (w.t_swap_pos[c.tmpl] > 0) & ~c.error & (c.comorbid_ids[:, -1] < 0) & ~c.low_value
    rows = np.flatnonzero(eligible & (rng.random(c.n) < PRINCIPAL_SWAP_SHARE))
    c.swap_pos[rows] = w.t_swap_pos[c.tmpl[rows]]


def _keep_size(w: SimpleNamespace, c: SimpleNamespace, n: int, rng) -> None:
    """Back to ``n`` cases: for each added stay (a split's second stay, a low-value admission) one ordinary case
    of a hospital that plays no game, with the same residence county and in-county status, is left out, so
    the data hold the cases asked for and every county's planted in-county rate stays as it was."""
    added = np.arange(n, c.n)
    if not len(added):
        return
    gaming = gaming_hospitals(w.h)
    ordinary = np.flatnonzero(~gaming[c.hosp[:n]] & (c.comorbid_ids[:n, -1] < 0))
    key = c.res * 2 + c.in_county.astype(np.int64)
    drop = []
    for k, m in zip(*np.unique(key[added], return_counts=True)):
        pool = ordinary[key[ordinary] == k]
        drop.append(rng.choice(pool, size=min(m, len(pool)), replace=False))
    keep = np.ones(c.n, bool)
    keep[np.concatenate(drop)] = False
    new_index = np.cumsum(keep) - 1
    _take_rows(c, np.flatnonzero(keep))
    c.split_src = np.where(c.split_src >= 0, new_index[np.maximum(c.split_src, 0)], -1)
    c.readmit_src = np.where(c.readmit_src >= 0, new_index[np.maximum(c.readmit_src, 0)], -1)


def _patient_ids(w: SimpleNamespace, c: SimpleNamespace, rng, window=None) -> None:
    """A patient number per case (``c.patient``): mostly one stay each; a share are repeat admissions of a
    patient already treated in the county (at a random date: natural readmissions); the second stay of a split
    admission is the same patient as its first. In a part of a streamed synth the repeat admissions are of
    patients placed in a few random parts of the whole synth (their counties drawn again from those parts' own
    streams), so their gaps spread over the whole period as in one part, not over the part's few days."""
    if window is None:
        pid = rng.permutation(c.n).astype(np.int64) + 1
        pool_pid, pool_res = pid, c.res
    else:
        pid = c.person.copy()
        pool_pid, pool_res = _placed_elsewhere(w, rng)
    repeat = np.flatnonzero((rng.random(c.n) < READMIT_SHARE) & (c.split_src < 0) & (c.readmit_src < 0) & ~c.low_value)
    order = stable_order(pool_res)
    starts = np.searchsorted(pool_res[order], c.res[repeat], "left")
    ends = np.searchsorted(pool_res[order], c.res[repeat], "right")
    pick = starts + (rng.random(len(repeat)) * (ends - starts)).astype(np.int64)
    found = ends > starts  # a county none of the chosen parts placed anyone in: a first stay after all
    pid[repeat[found]] = pool_pid[order[pick[found]]]
    second = np.flatnonzero(c.split_src >= 0)
    pid[second] = pid[c.split_src[second]]
    again = np.flatnonzero(c.readmit_src >= 0)
    pid[again] = pid[c.readmit_src[again]]
    c.patient = pid


SOURCE_PARTS = 3  # parts whose patients a part's repeat admissions come back from


def _placed_elsewhere(w: SimpleNamespace, rng) -> tuple[np.ndarray, np.ndarray]:
    """Patient numbers and residence counties of the cases placed in ``SOURCE_PARTS`` parts drawn by size (a
    part's counties are its main stream's second draw: drawn again here, nothing else of the part is made)."""
    sizes = np.array([x.cases for x in w.windows], float)
    ids, res = [], []
    for j in rng.choice(len(w.windows), size=SOURCE_PARTS, p=sizes / sizes.sum()):
        win = w.windows[j]
        main = part_streams(w.seed, int(j), False, None)[0]
        main.bit_generator.advance(win.cases)  # past the part's days: choice(p=) takes one 64-bit draw a value
        res.append(main.choice(len(w.counties), size=win.cases, p=w.population))
        ids.append(win.first_case + np.arange(win.cases, dtype=np.int64) + 1)
    return np.concatenate(ids), np.concatenate(res)


def play_games(w: SimpleNamespace, c: SimpleNamespace, rng, window=None) -> None:
    """The planted coding games and patient ids, from their own random stream."""
    _upcode(w, c, rng)
    n = c.n
    _split_stays(w, c, rng)
    _readmit(w, c, rng)
    _low_value(w, c, rng)
    _sloppy(w, c, rng)
    _short_stays(w, c, rng)
    _principal_by_payment(w, c, rng)
    _keep_size(w, c, n, rng)
    c.year = c.discharge.astype("datetime64[Y]").astype(np.int64) + 1970
    _patient_ids(w, c, rng, window)
