"""Synthetic region: a city's discharges with planted effects, for demos, tests and benchmarks.

Generation is generic over schemes (no per-scheme code):

1. *Templates*: for every ADRG step of the scheme, records are built to satisfy its
   rule (principal diagnosis / procedure from the rule's lists, newborn fields,
   age and sex bounds, secondary procedures, body regions ...), with no, CC or MCC
   secondary diagnoses, and grouped with the engine: each template's DRG is the
   one the engine gives it. An error variant of each template has an unknown
   principal diagnosis code (the deliberately miscoded share).
2. *DRG profile*: mean cost, mean LOS and death risk per DRG, from whether its
   templates are surgical and how many complications they carry, times a random
   DRG factor.
3. *Region*: residents choose hospitals inside their county at a planted
   county-specific rate; each hospital draws DRGs from a case mix tilted by its
   level (townships: common low-weight conditions; tertiary: complex ones) and
   kind; supported township hospitals tilt towards heavier and surgical DRGs from
   the pairing year on by a planted amount.
4. *Outcomes*: cost and LOS log-normal around the DRG means times each hospital's
   planted efficiency factors; in-hospital death from the DRG risk times the
   hospital's planted odds ratio; transfers and down-referrals.

Everything planted is written to ``truth.json`` (hospitals with their death odds ratios
-- ordinary ones spread around 1, the planted outliers at 3 --, counties, support programs
with their staggered start years and whether each has an effect, per-recipient gains) and
``truth.parquet`` (per case: the DRG aimed at, coding error flag, ``upcoded``, ``split_of``, ``readmission_of``,
``low_value``) and the coding games (hospitals' ``upcoding_from``, ``splits_admissions``, ``low_value_admissions``,
``readmits``, ``sloppy_coding``); the synthetic world's
support plan, with a ``start_year`` per pair, is ``support_pairs.csv``.
"""


from __future__ import annotations

import os
import sys
from types import SimpleNamespace

import numpy as np
import pyarrow as pa

from ..io import atomic_writer, write_json_atomic, write_table_atomic
from .gaming import GAMES, plant_gaming, play_games
from .params import (
    AGE_LOG_OR,
    CASEMIX_PREVALENCE,
    ERROR_RATE,
    LOW_VALUE_EXTRA,
    QUALITY_SD,
    READMIT_PLANT_SHARE,
    READMIT_SHARE,
    SEASON_AMPLITUDE,
    SEASON_PEAK_DAY,
    SLOPPY_ERROR_RATE,
    SPLIT_SHARE,
    SUPPORT_START,
    SUPPORT_SURGICAL,
    SUPPORT_TILT,
    SYNTH_WORDS,
    UNKNOWN_PDX,
    UPCODE_SHARE,
    part_streams,
)
from .tables import add_tallies, part_tables, planted_support, tally_part
from .templates import NEW_FIELDS
from .world import (
    RECEIVER_AS,
    doctor_names,
    draw_outcomes,
    make_world,
    place_cases,
    place_doctors,
    prepare_world,
    seasonal_days,
)


__all__ = ["RECEIVER_AS", "plant_gaming", "synthesize"]  # what other modules use


# -- parts: a synth larger than one part is made of parts of consecutive days, each written as it is made ---

PART_CASES = 250_000  # cases per part; a synth of at most this many cases is one part (the whole period)


def _windows(years: list, cases: int, part_cases: int) -> list:
    """The parts of a synth of ``cases``: [None] (one part, the whole period), or consecutive runs of days
    holding about ``part_cases`` cases each by the region's year weights and seasonal density, with their
    case counts (largest remainders: they add up to ``cases``)."""
    if cases <= part_cases:
        return [None]
    weights = np.linspace(1.0, 1.15, len(years))
    uniq = sorted(set(years))
    p_year = np.array([weights[[y == u for y in years]].sum() for u in uniq]) / weights.sum()
    p_day = np.bincount(seasonal_days(np.arange(365)), minlength=365) / 365.0
    mass = (p_year[:, None] * p_day[None, :]).ravel()
    year = np.repeat(np.array(uniq, np.int64), 365)
    day = np.tile(np.arange(365, dtype=np.int64), len(uniq))
    k = min(-(-cases // part_cases), int((mass > 0).sum()))
    cdf = np.cumsum(mass)
    cuts = np.unique(np.concatenate([[0], np.searchsorted(cdf, np.arange(1, k) / k, side="right"), [len(mass)]]))
    share = np.array([mass[a:b].sum() for a, b in zip(cuts[:-1], cuts[1:])])
    want = share / share.sum() * cases
    counts = np.floor(want).astype(np.int64)
    counts[np.argsort(-(want - counts), kind="stable")[:cases - counts.sum()]] += 1
    out, first = [], 0
    for (a, b), n in zip(zip(cuts[:-1], cuts[1:]), counts):
        dates = (year[[a, b - 1]] - 1970).astype("datetime64[Y]").astype("datetime64[D]") + day[[a, b - 1]]
        out.append(SimpleNamespace(index=len(out), cases=int(n), first_case=first, days=np.arange(b - a),
                                   p=mass[a:b] / mass[a:b].sum(), year=year[a:b], day=day[a:b], first=dates[0], last=dates[1]))
        first += int(n)
    return out


def _make_part(w: SimpleNamespace, window, streams, planted) -> tuple:
    """One part: its cases, their games and patients, and the two tables (written by the caller)."""
    main, doctors, games = streams
    n = window.cases if window is not None else w.cases
    c = place_cases(w, n, main, window)
    planted = place_doctors(w, c, doctors, planted)
    draw_outcomes(w, c, main)
    play_games(w, c, games, window)
    ids, _, _ = doctor_names(w, c.doctor_keys)
    c.doctor_vocab = pa.array(ids, pa.string())
    table, truth = part_tables(w, c, window.first_case if window is not None else 0)
    tally = tally_part(w, c)
    tally.planted = planted
    return table, truth, tally


def synthesize(scheme, out_dir: str, *, region: str = "dezhou", years=(2018, 2019, 2020, 2021), cases: int = 200_000,
               seed: int = 1, quiet: bool = False, part_cases: int = PART_CASES, workers: int | None = None,
               lang: str = "zh") -> dict:
    """Write discharges.parquet, truth.parquet, truth.json, support_pairs.csv and drg_profile.parquet to
    ``out_dir``; return the truth dict.

    Up to ``part_cases`` cases are made at once; a larger synth is made in parts of consecutive days (each
    part's cases and coding games; patients' risks centred per part; repeat admissions of patients placed
    anywhere in the period), ``workers`` parts at a time in forked processes, and written in date order as
    they come: memory follows ``part_cases``, not ``cases``. The same arguments give the same bytes, whatever
    ``workers``."""
    rng = np.random.default_rng(seed)
    years = list(years)
    os.makedirs(out_dir, exist_ok=True)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    lang = lang if lang in SYNTH_WORDS else "zh"
    w = make_world(scheme, region, years, rng, say, SYNTH_WORDS[lang])
    w.h = plant_gaming(w.h, years, np.random.default_rng([seed, 19, 1]))
    prepare_world(w, scheme)
    w.cases = int(cases)
    windows = _windows(years, int(cases), max(int(part_cases), 1))
    one = len(windows) == 1
    w.seed, w.windows = seed, windows
    planted = None
    if not one:  # the planted doctors, chosen on the first part's cases (every part then gets the same two)
        main, doctors, _ = part_streams(seed, 0, False, rng)
        planted = place_doctors(w, place_cases(w, windows[0].cases, main, windows[0]), doctors)
    tally = None
    with atomic_writer(os.path.join(out_dir, "discharges.parquet"), dictionary=FEW_VALUES) as out, \
            atomic_writer(os.path.join(out_dir, "truth.parquet"), dictionary=FEW_VALUES) as out_truth:
        def part(k):
            return _make_part(w, windows[k], part_streams(seed, k, one, rng), planted)

        for k, (table, truth_cases, t) in enumerate(_in_order(part, len(windows), workers)):
            out.write(table)
            out_truth.write(truth_cases)
            tally = add_tallies(tally, t)
            if not one:
                say(SYNTH_WORDS[lang]["made"].format(done=windows[k].first_case + windows[k].cases, total=w.cases))
    support, programs = planted_support(w, tally)
    write_table_atomic(pa.Table.from_pandas(w.plan.drop(columns=["planted_effect"]), preserve_index=False),
                       os.path.join(out_dir, "support_pairs.csv"))
    truth = _truth(w, tally, seed, years, scheme, region, support, programs)
    write_json_atomic(os.path.join(out_dir, "truth.json"), truth)
    prof_out = w.prof.reset_index().rename(columns={"index": "drg"})
    write_table_atomic(pa.Table.from_pandas(prof_out, preserve_index=False), os.path.join(out_dir, "drg_profile.parquet"))
    from ..atomic import target_of

    path = target_of(os.path.join(out_dir, "discharges.parquet"), keep_rest=True)  # the user's folder, not ours
    say(SYNTH_WORDS[lang]["wrote"].format(n=int(tally.n), path=path))
    return truth


# columns with few distinct values: a Parquet dictionary pays for them; for ids and costs it costs a third of the write
FEW_VALUES = ["hospital_id", "year", "residence_county", "sex", "age_years", "age_days", "weight_g", "dept", "doctor_id",
              "los_days", "leaving_type", "icu_hours", *NEW_FIELDS, "receiving_institution", "dx", "px",
              "intended_drg", "transfer_to", "comorbidities"]


def _truth(w, tally, seed: int, years: list, scheme, region, support: dict, programs) -> dict:
    """truth.json: every planted effect of the world and what the parts tallied."""
    doctor_ids, doctor_hosp, doctor_dept = doctor_names(w, tally.doctors)
    doctor_factor = tally.planted
    return {
        "seed": seed, "cases": int(tally.n), "years": years, "scheme": scheme.id, "region": str(region),
        "error_rate": ERROR_RATE, "unknown_pdx": UNKNOWN_PDX, "support_start": SUPPORT_START,
        "support_tilt": SUPPORT_TILT, "support_surgical_multiplier": SUPPORT_SURGICAL,
        "quality_overdispersion_sd": QUALITY_SD,
        "casemix_only": sorted(w.h.loc[w.h["casemix_only"], "hospital_id"].astype(str)),
        "patient_risk": {"age_log_or_per_year": AGE_LOG_OR, "casemix_prevalence_multiplier": CASEMIX_PREVALENCE,
                         "comorbidities": {cat: {"prevalence_at_60": p, "death_log_or": b, "los_cost_log_effect": e,
                                                 "codes": list(map(str, codes))}
                                           for cat, codes, p, b, e in w.comorbidities}},
        "gaming": {"upcode_share": UPCODE_SHARE, "split_share": SPLIT_SHARE, "low_value_extra": LOW_VALUE_EXTRA,
                   "readmit_share": READMIT_SHARE, "readmit_plant_share": READMIT_PLANT_SHARE,
                   "sloppy_error_rate": SLOPPY_ERROR_RATE, "upcoded_cases": tally.upcoded,
                   "split_pairs": tally.split_pairs, "low_value_cases": tally.low_value, "readmissions": tally.readmissions},
        "programs": programs,
        "seasonality": {"amplitude": SEASON_AMPLITUDE, "peak_day": SEASON_PEAK_DAY},
        "doctors": {doctor_ids[i]: {"hospital_id": doctor_hosp[i], "dept": doctor_dept[i],
                                    "cost_factor": float(doctor_factor.get(int(key), (1.0, 1.0))[0]),
                                    "death_or": float(doctor_factor.get(int(key), (1.0, 1.0))[1])}
                    for i, key in enumerate(tally.doctors.tolist())},
        "counties": {name: {"planted_in_county_rate": float(w.in_county_rate[i]), "population_share": float(w.population[i])}
                     for i, name in enumerate(w.counties)},
        "hospitals": [
            {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in w.h[["hospital_id", "name", "level", "kind", "county", "cost_factor", "los_factor", "death_or",
                            "quality_outlier", "casemix_only", "efficiency_outlier", "supported", "upcoding_from",
                            *GAMES[1:]]].to_dict("records")
        ],
        "support": support,
        "drgs": int(w.n_drg),
    }


def _in_order(make, count: int, workers: int | None):
    """``make(0), make(1), ...`` in order; up to ``workers`` made at a time in forked processes (each inherits
    the world; a part comes back as Arrow buffers), at most ``workers`` in flight, so memory stays a few parts
    however many there are. One worker, or a system without ``fork``: made here, one after another."""
    import multiprocessing as mp

    workers = max(1, min(workers or os.cpu_count() or 1, 8, count))
    if workers == 1 or "fork" not in mp.get_all_start_methods():
        for k in range(count):
            yield make(k)
        return
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    global _MAKE
    _MAKE = make  # inherited by the forked workers (a closure cannot be pickled)
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"), initializer=_die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        pending = deque()
        nxt = 0
        while nxt < count and len(pending) < workers:
            pending.append(pool.submit(_make_inherited, nxt))
            nxt += 1
        while pending:
            result = pending.popleft().result()
            if nxt < count:
                pending.append(pool.submit(_make_inherited, nxt))
                nxt += 1
            yield result


_MAKE = None


def _die_with_parent(parent: int) -> None:
    """A worker ends when the command does, also when the command is killed outright (SIGKILL, the OOM killer):
    Linux's parent-death signal; otherwise a worker would wait on the task queue forever, holding its copy of the
    world. (Ctrl-C reaches the workers anyway: they are in the command's process group.)"""
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            return
        if os.getppid() != parent:  # the command died before the signal was set
            os._exit(1)


def _make_inherited(k: int):
    return _MAKE(k)
