"""The grouping kernel: integer arrays in, result ids out (FORMAT.md sections 5-6).

Pure functions over NumPy arrays compiled with Numba (the rule programs' interpreter: :mod:`grouper.program`). A
record is a range of ``dx`` ids, a range of ``px`` ids and one row of ``fields``; the scheme is the named tuple of
arrays built by ``compile.py`` (:class:`SchemeArrays`). Nothing here knows any MDC, ADRG or DRG: every decision is
data.

Outputs per record:

* ``res``: result id (index into ``CompiledScheme.results``; 0 = ``0000``);
* ``stat``: 0 grouped, 1-5 the failed input check of FORMAT.md 5.3,
  6 a diagnosis that cannot be converted, 7 a procedure that cannot be
  converted (map mode), ``8 + k`` reject rule ``k`` held (FORMAT.md 5.4);
* ``info``: for a grouped record the step that decided it, ``-1`` when no MDC
  rule held, ``-2 - m`` when MDC ``m`` was the first entered but no step matched.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from . import numba_cache  # noqa: F401  (kernels cached in the user cache dir, never in the package)
from .codes import KIND_ADRG, KIND_QY, STAT_REJECT
from .language import FIELD_SLOTS, NULL
from .program import eval_program, in_list

DAY_SURGERY = FIELD_SLOTS["day_surgery"]

BIG = 1 << 40


class SchemeArrays(NamedTuple):
    """The compiled scheme as the kernel takes it (arrays of :attr:`CompiledScheme.arrays`, by name)."""

    ins: np.ndarray           # rule programs: (opcode, a, b, c) per instruction
    opnd: np.ndarray          # comparison operands: (kind, value)
    mdc_prog: np.ndarray      # per MDC: [start, end) of its rule program
    mdc_steps: np.ndarray     # per MDC: [first, last) step
    step_prog: np.ndarray     # per step: its rule program
    step_kind: np.ndarray     # per step: KIND_ADRG / KIND_NEXT / KIND_QY
    step_result: np.ndarray   # per step: result id of its ADRG (or QY) code
    step_splits: np.ndarray   # per step: [first, last) split
    split_prog: np.ndarray    # per split: its rule program
    split_result: np.ndarray  # per split: result id of its DRG
    step_nosplit: np.ndarray  # per step: result id when no split holds (the ADRG, or its 0000 result)
    step_medical: np.ndarray  # per step: a medical ADRG (second letter R-Z)
    reject_prog: np.ndarray   # per reject rule: its program
    flags: np.ndarray         # input check bits, null_ppx list id (-1), medical_only_without_ppx, day_surgery_no_cc
    member_ptr: np.ndarray    # list membership, CSR by code ...
    member_lists: np.ndarray  # ... list ids, sorted
    mcc_ex: np.ndarray        # per code: MCC exclusion id (-1 none)
    cc_ex: np.ndarray         # per code: CC exclusion id
    pdx_ex: np.ndarray        # per code: exclusion id as a principal diagnosis
    region: np.ndarray        # per region list and code: region id
    free_rules: np.ndarray    # rules without a principal-code requirement
    pdx_ptr: np.ndarray       # rules requiring the principal diagnosis in a list, CSR by code
    pdx_rules: np.ndarray
    ppx_ptr: np.ndarray       # the same for the principal procedure
    ppx_rules: np.ndarray


def scheme_arrays(scheme) -> SchemeArrays:
    """The compiled scheme as the named tuple the kernel takes."""
    return SchemeArrays(*(scheme.arrays[k] for k in SchemeArrays._fields))


@njit(cache=True, inline="always")
def lower_bound(arr, lo, hi, x):
    """First index in [lo, hi) of sorted ``arr`` whose value is >= x."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if arr[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def head(arr, k, end):
    return arr[k] if k < end else BIG


@njit(cache=True, inline="always")
def next_candidate(free, kf, nf, pdx_rules, kp, pa1, ppx_rules, kq, qa1):
    """Smallest rule id at the heads of the three sorted candidate streams, and the streams
    advanced past it (a stream is exhausted at its end index)."""
    a = head(free, kf, nf)
    b = head(pdx_rules, kp, pa1)
    c = head(ppx_rules, kq, qa1)
    r = min(a, min(b, c))
    return r, kf + (1 if a == r else 0), kp + (1 if b == r else 0), kq + (1 if c == r else 0)


@njit(cache=True, inline="always")
def group_one(S, dx, d0, d1, px, p0, p1, fields, sids, i, lit_rank, empty_rank):
    """Steps 2-4 of FORMAT.md section 6 for one record: (result id, info).

    Rules are visited in scheme order, but only the candidates: rules free of a
    principal-code requirement, and rules whose requirement the record's pdx/ppx
    meets (three sorted streams of rule ids, merged). Every visited rule is
    evaluated in full, so the outcome is that of trying every rule in order."""
    mdc_prog, mdc_steps, step_prog, step_kind = S.mdc_prog, S.mdc_steps, S.step_prog, S.step_kind
    step_result, step_splits, split_prog, split_result = S.step_result, S.step_splits, S.split_prog, S.split_result
    free, pdx_ptr, pdx_rules, ppx_ptr, ppx_rules = S.free_rules, S.pdx_ptr, S.pdx_rules, S.ppx_ptr, S.ppx_rules
    ins, opnd, mptr, mlists, region = S.ins, S.opnd, S.member_ptr, S.member_lists, S.region
    frow = fields[i]
    srow = sids[i]
    n_mdc = mdc_prog.shape[0]
    nf = free.shape[0]
    ex_tables = (S.mcc_ex, S.cc_ex, S.pdx_ex)
    flags = S.flags
    # mcc / cc of this record: computed by the first rule that asks, then reused; day surgery: both known false
    cx = 5 if flags[3] != 0 and frow[DAY_SURGERY] == 1 else 0
    # a principal procedure on the invalid list is absent for MDC / ADRG / QY rules (a code matching nothing in its
    # place: positions kept); the splits see the list as coded
    nulled = flags[1] >= 0 and p1 > p0 and in_list(px[p0], flags[1], mptr, mlists)
    medical_only = flags[2] != 0 and (p1 == p0 or nulled)
    rpx, r0, r1 = px, p0, p1
    if nulled:
        rpx = px[p0:p1].copy()
        rpx[0] = -1
        r0, r1 = 0, p1 - p0
    pa0 = pa1 = qa0 = qa1 = 0
    if d1 > d0 and dx[d0] >= 0:
        pa0 = pdx_ptr[dx[d0]]
        pa1 = pdx_ptr[dx[d0] + 1]
    if p1 > p0 and px[p0] >= 0 and not nulled:
        qa0 = ppx_ptr[px[p0]]
        qa1 = ppx_ptr[px[p0] + 1]
    kf, kp, kq = 0, pa0, qa0
    first_mdc = -1
    while True:
        m, kf, kp, kq = next_candidate(free, kf, nf, pdx_rules, kp, pa1, ppx_rules, kq, qa1)
        if m >= n_mdc:
            break
        ok, cx = eval_program(mdc_prog[m, 0], mdc_prog[m, 1], ins, opnd, mptr, mlists, region, ex_tables, dx, d0, d1, rpx, r0, r1, frow, srow, lit_rank, empty_rank, cx)
        if not ok:
            continue
        if first_mdc < 0:
            first_mdc = m
        lo = n_mdc + mdc_steps[m, 0]
        hi = n_mdc + mdc_steps[m, 1]
        jf = lower_bound(free, kf, nf, lo)
        jp = lower_bound(pdx_rules, kp, pa1, lo)
        jq = lower_bound(ppx_rules, kq, qa1, lo)
        while True:
            r, jf, jp, jq = next_candidate(free, jf, nf, pdx_rules, jp, pa1, ppx_rules, jq, qa1)
            if r >= hi:
                break
            s = r - n_mdc
            kind = step_kind[s]
            if medical_only and kind != KIND_QY and not S.step_medical[s]:
                continue
            ok, cx = eval_program(step_prog[s, 0], step_prog[s, 1], ins, opnd, mptr, mlists, region, ex_tables, dx, d0, d1, rpx, r0, r1, frow, srow, lit_rank, empty_rank, cx)
            if not ok:
                continue
            if kind == KIND_QY:
                return step_result[s], s
            for k in range(step_splits[s, 0], step_splits[s, 1]):
                ok, cx = eval_program(split_prog[k, 0], split_prog[k, 1], ins, opnd, mptr, mlists, region, ex_tables, dx, d0, d1, px, p0, p1, frow, srow, lit_rank, empty_rank, cx)
                if ok:
                    return split_result[k], s
            if kind == KIND_ADRG:
                return S.step_nosplit[s], s  # [quirk] no split holds: the ADRG code itself (or its 0000 result)
            # adrg_next: as if the step's rule had been false [quirk]
    return 0, (-1 if first_mdc < 0 else -2 - first_mdc)


@njit(cache=True)
def input_check(fields, i, d0, d1, checks):
    """FORMAT.md 5.3: 0 when the record passes, else the number of the failed check (``checks``: the bits of the
    checks the scheme applies, 1 sex, 2 age, 4 age in days, 8 newborn weight, 16 diagnoses)."""
    sex = fields[i, 0]
    if checks & 1 and (sex == NULL or (sex != 1 and sex != 2)):
        return 1
    age = fields[i, 1]
    if checks & 2 and age == NULL:
        return 2
    if age == 0:
        days = fields[i, 2]
        if checks & 4 and days == NULL:
            return 3
        if checks & 8 and days != NULL and days <= 28 and fields[i, 3] == NULL:
            return 4
    if checks & 16 and d1 == d0:
        return 5
    return 0


@njit(cache=True, inline="always")
def reject_rule(S, dx, d0, d1, px, p0, p1, frow, srow, lit_rank, empty_rank):
    """FORMAT.md 5.4: the first reject rule that holds for the record as it is (-1: none)."""
    ex_tables = (S.mcc_ex, S.cc_ex, S.pdx_ex)
    cx = 5 if S.flags[3] != 0 and frow[DAY_SURGERY] == 1 else 0  # day surgery: mcc and cc known false
    for k in range(S.reject_prog.shape[0]):
        ok, cx = eval_program(S.reject_prog[k, 0], S.reject_prog[k, 1], S.ins, S.opnd, S.member_ptr, S.member_lists, S.region,
                              ex_tables, dx, d0, d1, px, p0, p1, frow, srow, lit_rank, empty_rank, cx)
        if ok:
            return k
    return -1


@njit(cache=True, nogil=True, inline="always")
def group_record(S, dx, dx_off, px, px_off, fields, sids, pre_stat, lit_rank, empty_rank, retry_px, i, res, stat, info):
    """Group record ``i`` into ``res[i], stat[i], info[i]``. ``pre_stat`` carries map-mode failures (6/7) from
    :func:`map_codes`."""
    d0 = dx_off[i]
    d1 = dx_off[i + 1]
    p0 = px_off[i]
    p1 = px_off[i + 1]
    if pre_stat[i] != 0:
        stat[i] = pre_stat[i]
        return
    c = input_check(fields, i, d0, d1, S.flags[0])
    if c != 0:
        stat[i] = c
        return
    if S.reject_prog.shape[0] > 0:
        k = reject_rule(S, dx, d0, d1, px, p0, p1, fields[i], sids[i], lit_rank, empty_rank)
        if k >= 0:
            stat[i] = STAT_REJECT + k
            return
    # attempt 0: the record as it is; attempts 1..: each secondary procedure alone
    # (FORMAT.md 6 step 5). One call site, so group_one is inlined once.
    n_try = p1 - p0 if (retry_px and p1 - p0 > 1) else 1
    r = 0
    inf = -1
    for t in range(n_try):
        q0 = p0 if t == 0 else p0 + t
        q1 = p1 if t == 0 else p0 + t + 1
        r2, inf2 = group_one(S, dx, d0, d1, px, q0, q1, fields, sids, i, lit_rank, empty_rank)
        if t == 0 or r2 != 0:
            r = r2
            inf = inf2
        if r2 != 0:
            break
    res[i] = r
    info[i] = inf


@njit(parallel=True, cache=True, nogil=True)
def group_kernel(S, dx, dx_off, px, px_off, fields, sids, pre_stat, lit_rank, empty_rank, retry_px):
    """Group every record, across Numba's threads."""
    n = dx_off.shape[0] - 1
    res = np.zeros(n, dtype=np.int32)
    stat = np.zeros(n, dtype=np.int8)
    info = np.full(n, -1, dtype=np.int32)
    for i in prange(n):
        group_record(S, dx, dx_off, px, px_off, fields, sids, pre_stat, lit_rank, empty_rank, retry_px, i, res, stat, info)
    return res, stat, info


@njit(cache=True, nogil=True)
def group_kernel_serial(S, dx, dx_off, px, px_off, fields, sids, pre_stat, lit_rank, empty_rank, retry_px):
    """:func:`group_kernel` in the calling thread: for one record (`drg serve`), where starting Numba's thread pool
    per call costs more than the grouping and competes with the server's clients for the cores."""
    n = dx_off.shape[0] - 1
    res = np.zeros(n, dtype=np.int32)
    stat = np.zeros(n, dtype=np.int8)
    info = np.full(n, -1, dtype=np.int32)
    for i in range(n):
        group_record(S, dx, dx_off, px, px_off, fields, sids, pre_stat, lit_rank, empty_rank, retry_px, i, res, stat, info)
    return res, stat, info


@njit(parallel=True, cache=True, nogil=True)
def fill_empty(ids, off, fill_id):
    """Give every empty list the single element ``fill_id`` (dx ``[]`` -> ``[""]``, FORMAT.md 5.1)."""
    n = off.shape[0] - 1
    new_off = np.empty(n + 1, dtype=np.int64)
    new_off[0] = 0
    for i in range(n):
        ln = off[i + 1] - off[i]
        new_off[i + 1] = new_off[i] + (ln if ln > 0 else 1)
    out = np.empty(new_off[n], dtype=ids.dtype)
    for i in prange(n):
        a = off[i]
        b = off[i + 1]
        o = new_off[i]
        if b == a:
            out[o] = fill_id
        else:
            for k in range(a, b):
                out[o + k - a] = ids[k]
    return out, new_off


@njit(parallel=True, cache=True, nogil=True)
def map_codes(ids, off, mapping, empty_id, dash_id):
    """Map mode (FORMAT.md 5.2), literally: the replacement goes to the first position
    currently holding the value, so chains in the map are order dependent.

    Returns the mapped lists (``""`` and ``"-"`` removed) and a per-record flag
    that some code could not be converted."""
    n = off.shape[0] - 1
    work = ids.copy()
    bad = np.zeros(n, dtype=np.bool_)
    keep = np.zeros(n, dtype=np.int64)
    for i in prange(n):
        a = off[i]
        b = off[i + 1]
        for k in range(a, b):
            x = work[k]
            j = a
            while work[j] != x:
                j += 1
            if x >= 0 and mapping[x] >= 0:
                work[j] = mapping[x]
            else:
                work[j] = empty_id
                bad[i] = True
        if b > a and work[a] == dash_id:
            bad[i] = True
        c = 0
        for k in range(a, b):
            if work[k] != empty_id and work[k] != dash_id:
                c += 1
        keep[i] = c
    new_off = np.empty(n + 1, dtype=np.int64)
    new_off[0] = 0
    for i in range(n):
        new_off[i + 1] = new_off[i] + keep[i]
    out = np.empty(new_off[n], dtype=ids.dtype)
    for i in prange(n):
        o = new_off[i]
        for k in range(off[i], off[i + 1]):
            v = work[k]
            if v != empty_id and v != dash_id:
                out[o] = v
                o += 1
    return out, new_off, bad
