"""The rule-program interpreter of the grouping kernel (:mod:`grouper.kernel`): one compiled rule (``compile.py``: the
atoms' instructions with short-circuit jumps) evaluated for one record, and the membership, comparison, complication,
region and count tests its opcodes (:mod:`grouper.atoms`) stand for. Numba functions over the scheme's arrays."""

from __future__ import annotations

import numpy as np
from numba import njit

from . import numba_cache  # noqa: F401  (kernels cached in the user cache dir, never in the package)
from .atoms import (
    OP_ANY_DX,
    OP_ANY_PX,
    OP_ANY_SDX,
    OP_ANY_SPX,
    OP_CC,
    OP_CMP,
    OP_COUNT,
    OP_FALSE,
    OP_JF,
    OP_JT,
    OP_KNOWN,
    OP_MCC,
    OP_NONZERO,
    OP_NOT,
    OP_PDX,
    OP_PPX,
    OP_REGIONS,
    OP_SFIELD_IN,
    OP_TRUE,
    V_DX_COUNT,
    V_INT,
    V_INT_FIELD,
    V_PX_COUNT,
    V_STR_FIELD,
)
from .language import NULL, STR_SLOT0, STR_SLOT_END


@njit(cache=True, inline="always")
def in_list(code, lst, member_ptr, member_lists):
    if code < 0:
        return False
    lo = member_ptr[code]
    hi = member_ptr[code + 1]
    while lo < hi:  # list ids of a code are sorted
        mid = (lo + hi) >> 1
        v = member_lists[mid]
        if v < lst:
            lo = mid + 1
        elif v > lst:
            hi = mid
        else:
            return True
    return False


@njit(cache=True, inline="always")
def compare(a, op, b):
    if op == 0:
        return a == b
    if op == 1:
        return a != b
    if op == 2:
        return a < b
    if op == 3:
        return a <= b
    if op == 4:
        return a > b
    return a >= b


@njit(cache=True, inline="always")
def has_complication(dx, d0, d1, ex, pdx_ex):
    """``mcc``/``cc`` of FORMAT.md 4.1: a secondary diagnosis in the table whose
    exclusion id differs from the principal diagnosis's (if it has one)."""
    if d1 - d0 <= 1:
        return False
    p = dx[d0]
    e = pdx_ex[p] if p >= 0 else -1
    for k in range(d0 + 1, d1):
        c = dx[k]
        if c >= 0:
            x = ex[c]
            if x >= 0 and not (e >= 0 and e == x):
                return True
    return False


@njit(cache=True)
def region_count(dx, d0, d1, regions):
    """Number of distinct regions over the dx codes that the region list contains."""
    n = 0
    for k in range(d0, d1):
        c = dx[k]
        if c < 0:
            continue
        r = regions[c]
        if r < 0:
            continue
        new = True
        for q in range(d0, k):
            c2 = dx[q]
            if c2 >= 0 and regions[c2] == r:
                new = False
                break
        if new:
            n += 1
    return n


@njit(cache=True)
def count_in(lst, how, member_ptr, member_lists, dx, d0, d1, px, p0, p1):
    """``count(...)``: codes of dx / px / sdx / spx (``how >> 1`` = 0-3) in the list; ``how & 1``: distinct codes."""
    target = how >> 1
    if target == 1 or target == 3:
        codes, a, b = px, p0 + (1 if target == 3 else 0), p1
    else:
        codes, a, b = dx, d0 + (1 if target == 2 else 0), d1
    n = 0
    for k in range(a, b):
        c = codes[k]
        if not in_list(c, lst, member_ptr, member_lists):
            continue
        if how & 1:
            seen = False
            for q in range(a, k):
                if codes[q] == c:
                    seen = True
                    break
            if seen:
                continue
        n += 1
    return n


@njit(cache=True, inline="always")
def operand(k, opnd, frow, d0, d1, p0, p1, lit_rank):
    """(is_null, is_string, value) of a comparison operand."""
    kind = opnd[k, 0]
    x = opnd[k, 1]
    if kind == V_INT_FIELD:
        v = frow[x]
        return v == NULL, False, v
    if kind == V_STR_FIELD:
        v = frow[x]
        return v == NULL, True, v
    if kind == V_DX_COUNT:
        return False, False, np.int64(d1 - d0)
    if kind == V_PX_COUNT:
        return False, False, np.int64(p1 - p0)
    if kind == V_INT:
        return False, False, x
    return False, True, lit_rank[x]  # V_STR


@njit(cache=True)
def eval_program(start, end, ins, opnd, member_ptr, member_lists, region, ex_tables, dx, d0, d1, px, p0, p1, frow, srow, lit_rank, empty_rank, cx):
    """Evaluate one compiled rule for one record; short-circuit jumps as compiled.

    ``frow``/``srow`` are the record's rows of ``fields``/``sids``; ``cx`` caches mcc / cc (bits below)."""
    r = False
    pc = start
    while pc < end:
        op = ins[pc, 0]
        a = ins[pc, 1]
        if op == OP_JF:
            if not r:
                pc = a
                continue
        elif op == OP_JT:
            if r:
                pc = a
                continue
        elif op == OP_PDX:
            r = d1 > d0 and in_list(dx[d0], a, member_ptr, member_lists)
        elif op == OP_PPX:
            r = p1 > p0 and in_list(px[p0], a, member_ptr, member_lists)
        elif op == OP_NOT:
            r = not r
        elif op == OP_TRUE:
            r = True
        elif op == OP_FALSE:
            r = False
        elif op == OP_ANY_DX or op == OP_ANY_SDX:
            r = False
            for k in range(d0 + (1 if op == OP_ANY_SDX else 0), d1):
                if in_list(dx[k], a, member_ptr, member_lists):
                    r = True
                    break
        elif op == OP_ANY_PX or op == OP_ANY_SPX:
            r = False
            for k in range(p0 + (1 if op == OP_ANY_SPX else 0), p1):
                if in_list(px[k], a, member_ptr, member_lists):
                    r = True
                    break
        elif op == OP_SFIELD_IN:
            r = in_list(srow[ins[pc, 2]], a, member_ptr, member_lists)
        elif op == OP_MCC:  # cx caches mcc/cc: bit 1 mcc known, 2 mcc true, 4 cc known, 8 cc true
            if cx & 1 == 0:
                cx |= 1 | (2 if has_complication(dx, d0, d1, ex_tables[0], ex_tables[2]) else 0)
            r = cx & 2 != 0
        elif op == OP_CC:
            if cx & 4 == 0:
                cx |= 4 | (8 if has_complication(dx, d0, d1, ex_tables[1], ex_tables[2]) else 0)
            r = cx & 8 != 0
        elif op == OP_KNOWN:
            r = frow[a] != NULL
        elif op == OP_NONZERO:
            v = frow[a]
            r = v != NULL and v != (empty_rank if STR_SLOT0 <= a < STR_SLOT_END else 0)
        elif op == OP_REGIONS:
            r = compare(region_count(dx, d0, d1, region[a]), ins[pc, 2], ins[pc, 3])
        elif op == OP_CMP:
            ln, ls, lv = operand(a, opnd, frow, d0, d1, p0, p1, lit_rank)
            rn, rs, rv = operand(ins[pc, 3], opnd, frow, d0, d1, p0, p1, lit_rank)
            cop = ins[pc, 2]
            if cop <= 1:  # == / !=: null equals only null; values of different types differ
                eq = (ln and rn) or ((not ln) and (not rn) and ls == rs and lv == rv)
                r = eq if cop == 0 else not eq
            else:  # ordering is false with a null or across types
                r = (not ln) and (not rn) and ls == rs and compare(lv, cop, rv)
        elif op == OP_COUNT:  # last: the 1.x schemes never use it
            r = compare(count_in(a, ins[pc, 2] & 15, member_ptr, member_lists, dx, d0, d1, px, p0, p1),
                        ins[pc, 2] >> 4, ins[pc, 3])
        pc += 1
    return r, cx
