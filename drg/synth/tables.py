"""drg synth's output tables: a part's discharges and truth as Arrow tables (codes decoded by ``take``), and the
tallies of what was planted."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pyarrow as pa

from .world import case_mix, stable_order


def _codes_column(vocab: pa.Array, codes: np.ndarray) -> pa.Array:
    """``vocab[codes]`` as an Arrow column, null where a code is negative."""
    return vocab.take(pa.array(codes, mask=codes < 0)) if (codes < 0).any() else vocab.take(pa.array(codes))


def _numbered(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + each number zero-padded to ``width`` digits, built as one byte buffer."""
    n = len(numbers)
    if n and int(numbers.max()) >= 10**width:  # beyond a billion cases: every number one digit longer
        width = len(str(int(numbers.max())))
    digits = np.empty((n, len(prefix) + width), np.uint8)
    digits[:, :len(prefix)] = np.frombuffer(prefix.encode(), np.uint8)
    rest = np.asarray(numbers, np.int64).copy()
    for k in range(width - 1, -1, -1):
        rest, d = np.divmod(rest, 10)
        digits[:, len(prefix) + k] = d + 48
    offsets = np.arange(0, (n + 1) * digits.shape[1], digits.shape[1], dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(digits))


def _dx_lists(w: SimpleNamespace, tmpl: np.ndarray, error: np.ndarray, extra: np.ndarray,
              swap: np.ndarray | None = None) -> pa.ListArray:
    """Each case's diagnoses: its template's (the principal one the unknown code where ``error``), then the
    codes ``extra[row, k] >= 0`` (ids into ``w.dx_vocab``) in k order; one ``take`` of the code strings. ``swap``:
    per case a place in the template's list whose code trades places with the principal (-1: none)."""
    start, lens = w.t_dx_off[tmpl], np.diff(w.t_dx_off)[tmpl]
    have = extra >= 0
    n_extra = have.sum(axis=1)
    off = np.zeros(len(tmpl) + 1, np.int64)
    np.cumsum(lens + n_extra, out=off[1:])
    ids = np.empty(int(off[-1]), np.int64)
    row = np.repeat(np.arange(len(tmpl)), lens)
    within = np.arange(len(row)) - np.repeat(np.cumsum(lens) - lens, lens)
    ids[off[:-1][row] + within] = w.t_dx_ids[start[row] + within]
    ids[off[:-1][error]] = w.unknown_dx
    rows, _ = np.nonzero(have)  # row-major: a row's extras in k order
    rank = np.arange(len(rows)) - np.repeat(np.cumsum(n_extra) - n_extra, n_extra)
    ids[off[:-1][rows] + lens[rows] + rank] = extra[have]
    if swap is not None and (swap > 0).any():
        r = np.flatnonzero(swap > 0)
        head, other = off[:-1][r], off[:-1][r] + swap[r]
        ids[head], ids[other] = ids[other], ids[head].copy()
    return pa.ListArray.from_arrays(pa.array(off.astype(np.int32)), w.dx_vocab.take(pa.array(ids)))


def part_tables(w: SimpleNamespace, c: SimpleNamespace, first_case: int = 0) -> tuple[pa.Table, pa.Table]:
    """(discharges, truth per case), in discharge-date order; case ids from ``first_case + 1``."""
    # by discharge date, then hospital (a stable sort: ties keep their order)
    day = c.discharge.astype(np.int64)
    day = day - day.min() if c.n else day
    by_hospital = stable_order(c.hosp)
    order = by_hospital[stable_order(day[by_hospital])]  # as np.lexsort((hosp, day))
    tmpl = c.tmpl[order]
    # planted comorbidities, then an upcoder's added MCC/CC code
    extra = np.take(c.comorbid_ids, order, axis=0)
    dx = _dx_lists(w, tmpl, c.error[order], extra, c.swap_pos[order])
    case_id = _numbered("S", np.arange(first_case + 1, first_case + c.n + 1), 9)
    take = pa.array(tmpl)
    position = np.empty(c.n, np.int64)
    position[order] = np.arange(c.n)

    def stay_of(src):  # the case id of each case's first stay (a split's, a readmission's), null elsewhere
        return case_id.take(pa.array(np.where(src >= 0, position[np.maximum(src, 0)], 0), mask=src < 0))

    split_of, readmission_of = stay_of(c.split_src[order]), stay_of(c.readmit_src[order])
    t_dept = w.t_dept[tmpl]
    dept = np.where(t_dept >= 0, t_dept, w.dept_code[c.dept[order]])
    parts = np.take(c.parts, order, axis=0)
    table = pa.table({
        "case_id": case_id,
        "hospital_id": w.hospital_ids.take(pa.array(c.hosp[order])),
        "patient_id": _numbered("P", c.patient[order], 10),
        "year": pa.array(c.year[order].astype(np.int16)),
        "admit_date": pa.array(c.admit[order]),
        "discharge_date": pa.array(c.discharge[order]),
        "residence_county": w.county_vocab.take(pa.array(c.res[order])),
        "sex": w.t_cols["sex"].take(take),
        "age_years": w.t_cols["age_years"].take(take),
        "age_days": w.t_cols["age_days"].take(take),
        "weight_g": w.t_cols["weight_g"].take(take),
        "dept": w.dept_vocab.take(pa.array(dept)),
        "doctor_id": c.doctor_vocab.take(pa.array(c.doctor[order])),
        "los_days": pa.array(c.los[order].astype(np.int32)),
        "leaving_type": w.leave_vocab.take(pa.array(c.leaving[order])),
        "icu_hours": w.t_cols["icu_hours"].take(take),
        **{f: col.take(take) for f, col in w.t_new.items()},
        "receiving_institution": _codes_column(w.receiver_vocab, c.receiver_text[order]),
        "dx": dx,
        "px": w.t_px.take(take),
        "total_cost": pa.array(c.total[order]),
        "drug_cost": pa.array(parts[:, 0]),
        "consumables_cost": pa.array(parts[:, 1]),
        "service_cost": pa.array(parts[:, 2]),
        "exam_cost": pa.array(parts[:, 3]),
        "other_cost": pa.array(c.other[order]),
    })
    truth_cases = pa.table({
        "case_id": case_id,
        "intended_drg": w.drg_vocab.take(pa.array(c.drg[order])),
        "coding_error": pa.array(c.error[order]),
        "in_county": pa.array(c.in_county[order]),
        "transfer_to": _codes_column(w.hospital_ids, c.receiver[order]),
        "p_death": pa.array(c.p_death[order].astype(np.float64)),
        "comorbidities": pa.array((extra[:, :-1] >= 0).sum(axis=1).astype(np.int8)),
        "upcoded": pa.array(extra[:, -1] >= 0),
        "split_of": split_of,
        "readmission_of": readmission_of,
        "low_value": pa.array(c.low_value[order]),
        "principal_swapped": pa.array(c.swap_pos[order] > 0),
    })
    return table, truth_cases


def planted_support(w: SimpleNamespace, tally: SimpleNamespace) -> tuple[dict, dict]:
    """Per recipient the planted CMI gain, and per program its effect and start years (from the cases'
    per-DRG tallies)."""
    prof, h = w.prof, w.h
    # in the generator's own weights (mean cost / overall mean) ...
    rw = prof["mean_cost"].to_numpy() / float(np.sum(prof["mean_cost"].to_numpy() * tally.drg_cases) / tally.n)
    # ... and in weights as `drg support` estimates them: realized mean cost per DRG over the overall
    # mean in the baseline years (before the first start), frozen for every year
    cases, cost, total, count = ((tally.base_cases, tally.base_cost, tally.base_total, tally.base_n) if tally.base_n
                                 else (tally.drg_cases, tally.drg_cost, tally.total, tally.n))
    rw_data = (cost / np.maximum(cases, 1)) / (total / count)
    surg = prof["surgical"].to_numpy()
    support = {}
    for hid in sorted(w.recipients):
        hi = int(np.flatnonzero(h["hospital_id"].to_numpy() == hid)[0])
        before, after = case_mix(h, prof, hi, 0), case_mix(h, prof, hi, 1)
        support[hid] = {"program": "tertiary_pairing", "start_year": int(h.at[hi, "support_start"]),
                        "expected_cmi_before": float(before @ rw), "expected_cmi_after": float(after @ rw),
                        "planted_cmi_gain": float(after @ rw - before @ rw),
                        "planted_cmi_gain_data_weights": float(after @ rw_data - before @ rw_data),
                        "planted_surgical_share_gain": float(after @ surg - before @ surg)}
    programs = {}
    for prog, grp in w.plan.groupby("program", sort=True):
        programs[str(prog)] = {"planted_effect": bool(grp["planted_effect"].iloc[0]),
                               "recipients": int(grp["recipient_id"].nunique()),
                               "start_years": {str(k): int(v) for k, v in grp.groupby("start_year")["recipient_id"].nunique().items()}}
    return support, programs


def tally_part(w: SimpleNamespace, c: SimpleNamespace) -> SimpleNamespace:
    """What truth.json needs of a part's cases: counts and per-DRG sums (added up over the parts)."""
    n_drg = w.n_drg
    base = c.year < int(w.plan["start_year"].min()) if len(w.plan) else np.ones(c.n, bool)
    return SimpleNamespace(
        n=c.n, upcoded=int((c.comorbid_ids[:, -1] >= 0).sum()), split_pairs=int((c.split_src >= 0).sum()),
        low_value=int(c.low_value.sum()), readmissions=int((c.readmit_src >= 0).sum()),
        drg_cases=np.bincount(c.drg, minlength=n_drg), drg_cost=np.bincount(c.drg, weights=c.total, minlength=n_drg),
        total=float(c.total.sum()),
        base_cases=np.bincount(c.drg[base], minlength=n_drg),
        base_cost=np.bincount(c.drg[base], weights=c.total[base], minlength=n_drg),
        base_total=float(c.total[base].sum()), base_n=int(base.sum()),
        doctors=c.doctor_keys[np.unique(c.doctor)])


def add_tallies(a: SimpleNamespace | None, b: SimpleNamespace) -> SimpleNamespace:
    if a is None:
        return b
    return SimpleNamespace(**{k: (np.union1d(v, getattr(b, k)) if k == "doctors" else v if k == "planted" else v + getattr(b, k))
                              for k, v in vars(a).items()})
