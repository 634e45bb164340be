"""Hypothesis strategies: random small schemes (every rule atom, kind, flag and output
convention of FORMAT.md) and random records that hit their edges."""

from __future__ import annotations

import csv
import os

from hypothesis import strategies as st

DX = ["D0", "D1", "D2", "D3", "D4", "D5"]
PX = ["P0", "P1", "P2", "P3", "P4"]
CODES = DX + PX
LISTS = ["L0", "L1", "L2", "L3", "Lempty"]  # Lempty is named by rules but has no rows
FIELDS_INT = ["sex", "age_years", "age_days", "weight_g", "los", "icu_hours", "admission_weight_g", "new_technique",
              "intensive_care", "day_surgery", "crrt_hours"]
PREFIXES = ["D", "D1", "P", "P0", "D9", "", "Q"]
FIELDS_STR = ["dept", "leaving_type"]
OPS = ["==", "!=", "<", "<=", ">", ">="]
STRS = ["ICU", "A", "", "1", "2", "5"]


def q(s):
    return '"' + s + '"'


def listref(draw):
    if draw(st.booleans()):
        return "@" + draw(st.sampled_from(LISTS))
    codes = draw(st.lists(st.sampled_from(CODES + ["", "ICU", "1", "5"]), min_size=1, max_size=3))
    return "{" + ",".join(q(c) for c in codes) + "}"


def prefixref(draw):
    if draw(st.booleans()):
        return "@" + draw(st.sampled_from(LISTS))
    return "{" + ",".join(q(c) for c in draw(st.lists(st.sampled_from(PREFIXES), min_size=1, max_size=3))) + "}"


@st.composite
def atom(draw):
    k = draw(st.integers(0, 15))
    if k == 14:  # pdx / ppx prefix in a list of prefixes
        return f"{draw(st.sampled_from(['pdx', 'ppx']))} prefix in {prefixref(draw)}"
    if k == 15:  # count([distinct] dx|px|sdx|spx in L) OP N
        distinct = "distinct " if draw(st.booleans()) else ""
        what = draw(st.sampled_from(["dx", "px", "sdx", "spx"]))
        return f"count({distinct}{what} in {listref(draw)}) {draw(st.sampled_from(OPS))} {draw(st.integers(0, 3))}"
    if k == 0:
        return f"pdx in {listref(draw)}"
    if k == 1:
        return f"ppx in {listref(draw)}"
    if k == 2:
        return f"any {draw(st.sampled_from(['dx', 'px', 'sdx', 'spx']))} in {listref(draw)}"
    if k == 3:
        return f'px tag "{draw(st.sampled_from(["1", "2", "3"]))}" in @{draw(st.sampled_from(["T0", "Tnone"]))}'
    if k == 4:
        return draw(st.sampled_from(["mcc", "cc", "dx_count > 1 and mcc", "dx_count > 1 and (mcc or cc)"]))
    if k == 5:
        return f"{draw(st.sampled_from(['known', 'nonzero']))}({draw(st.sampled_from(FIELDS_INT + FIELDS_STR))})"
    if k == 6:
        return f"dx_region_count(@{draw(st.sampled_from(['R0', 'Rnone']))}) {draw(st.sampled_from(OPS))} {draw(st.integers(0, 3))}"
    if k == 7:
        f = draw(st.sampled_from(FIELDS_INT))
        n = draw(st.integers(-1, 130))
        op = draw(st.sampled_from(OPS))
        return f"{n} {op} {f}" if draw(st.booleans()) else f"{f} {op} {n}"
    if k == 8:
        f = draw(st.sampled_from(FIELDS_STR))
        return f"{f} {draw(st.sampled_from(OPS))} {q(draw(st.sampled_from(STRS)))}"
    if k == 9:
        return f"{draw(st.sampled_from(FIELDS_STR))} in {listref(draw)}"
    if k == 10:
        return f"{draw(st.sampled_from(['dx_count', 'px_count']))} {draw(st.sampled_from(OPS))} {draw(st.integers(0, 3))}"
    if k == 11:  # mixed types and field-to-field comparisons
        a = draw(st.sampled_from(FIELDS_INT + FIELDS_STR + ["dx_count"]))
        b = draw(st.sampled_from(FIELDS_INT + FIELDS_STR + ['"5"', "5", "px_count"]))
        return f"{a} {draw(st.sampled_from(OPS))} {b}"
    if k == 12:
        return draw(st.sampled_from(["true", "false"]))
    return "px_count > 0 and ppx in @OR"


def rule(max_depth=3):
    return st.recursive(
        atom(),
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})" if t[1] == "or" else f"{t[0]} {t[1]} {t[2]}"),
            inner.map(lambda r: f"not ({r})"),
            inner.map(lambda r: f"false and {r}"),
        ),
        max_leaves=max_depth + 2,
    )


@st.composite
def schemes(draw):
    """A dict of table name -> rows (header first)."""
    letters = draw(st.lists(st.sampled_from("ABCDEF"), min_size=1, max_size=4, unique=True))
    orders = draw(st.permutations(list(range(1, len(letters) + 1))))
    # biased towards rules that hold often, so that many records reach splits and results
    often = st.one_of(rule(), st.just("true"), atom(), st.just("pdx in @L0 or px_count > 0"))
    mdc_rows = [["order", "mdc", "rule"]] + [[str(o), "MDC" + L, draw(often)] for o, L in zip(orders, letters)]
    adrg_rows = [["mdc", "seq", "step", "kind", "adrg", "rule"]]
    drg_rows = [["step", "seq", "drg", "rule"]]
    n_step = 0
    for L in letters:
        k = draw(st.integers(0, 4))
        seqs = draw(st.permutations(list(range(1, k + 1))))
        for seq in seqs:
            n_step += 1
            kind = draw(st.sampled_from(["adrg", "adrg_next", "qy"]))
            code = L + ("QY" if kind == "qy" else draw(st.sampled_from(["B1", "B2", "C1", "00", "R1", "T2"])))
            step = f"{code}_{n_step}" if draw(st.booleans()) else f"S{n_step}"
            adrg_rows.append([f"MDC{L}", str(seq), step, kind, code, draw(often)])
            n_split = draw(st.integers(0, 3))
            for sseq in draw(st.permutations(list(range(1, n_split + 1)))):
                drg = code + draw(st.sampled_from(["1", "3", "5", "9"]))
                drg_rows.append([step, str(sseq), drg, draw(rule())])
            if draw(st.booleans()):
                drg_rows.append([step, str(n_split + 1), code + "9", "true"])
    subset = st.lists(st.sampled_from(CODES), max_size=6)
    lists = [["list", "code"]] + [[name, c] for name in LISTS[:-1] for c in draw(subset)]
    tagged = [["list", "code", "tag"]] + [["T0", c, draw(st.sampled_from(["1", "2", "3"]))] for c in draw(st.lists(st.sampled_from(PX), max_size=6))]
    regions = [["list", "code", "region"]] + [["R0", c, draw(st.sampled_from(["", "head", "limb"]))] for c in draw(st.lists(st.sampled_from(DX), max_size=6, unique=True))]
    excl = st.sampled_from(["1", "2", "3"])
    mcc = [["code", "exclusion_id"]] + [[c, draw(excl)] for c in draw(st.lists(st.sampled_from(DX), max_size=4, unique=True))]
    cc = [["code", "exclusion_id"]] + [[c, draw(excl)] for c in draw(st.lists(st.sampled_from(DX), max_size=4, unique=True))]
    cc_ex = [["pdx", "exclusion_id"]] + [[c, draw(st.sampled_from(["1", "2", "3", ""]))] for c in draw(st.lists(st.sampled_from(DX), max_size=4, unique=True))]
    orp = [["code", "name"]] + [[c, "op"] for c in draw(st.lists(st.sampled_from(PX), max_size=4, unique=True))]
    target_dx = st.sampled_from(DX + ["-", "D9"])
    target_px = st.sampled_from(PX + ["-", "P9"])
    dx_map = [["from", "to"]] + [[c, draw(target_dx)] for c in draw(st.lists(st.sampled_from(DX + ["D9"]), max_size=7, unique=True))]
    px_map = [["from", "to"]] + [[c, draw(target_px)] for c in draw(st.lists(st.sampled_from(PX + ["P9"]), max_size=6, unique=True))]
    meta = [["key", "value"], ["id", "random"], ["name", "随机方案"], ["format_version", "1"],
            ["missing_age_days_weight_as_zero", draw(st.sampled_from(["true", "false"]))],
            ["retry_secondary_px_alone", draw(st.sampled_from(["true", "false"]))]]
    if draw(st.booleans()):
        meta.append(["output_codes_rejected", "||"])
    if draw(st.booleans()):
        meta.append(["output_drg_fail", "0000A"])
    if draw(st.booleans()):
        meta.append(["output_drg_fail_in_mdc", "0000B"])
    # CHS-DRG 2.0 / 3.0 conventions (FORMAT.md 1.1), each drawn on its own
    if draw(st.booleans()):
        checks = draw(st.lists(st.sampled_from(["sex", "age_years", "age_days", "weight_g", "dx"]), unique=True))
        meta.append(["input_checks", "|".join(checks)])
    if draw(st.booleans()):
        meta.append(["null_ppx_list", draw(st.sampled_from(["L0", "L1", "@L2", "Lempty"]))])
    for key in ("medical_only_without_ppx", "day_surgery_no_cc"):
        if draw(st.booleans()):
            meta.append([key, draw(st.sampled_from(["true", "false"]))])
    if draw(st.booleans()):
        meta.append(["output_no_split", draw(st.sampled_from(["adrg", "0000", "0000"]))])
    if draw(st.booleans()):
        meta.append(["output_qy_adrg", draw(st.sampled_from(["QY", "code"]))])
    rejects = [["seq", "status", "rule"]] + [
        [str(seq), draw(st.sampled_from(["编码不规范：主要诊断无效", "主要诊断为灰码", "主要手术为灰码"])), draw(atom())]
        for seq in draw(st.lists(st.integers(1, 9), max_size=2, unique=True))]
    names = [["drg", "name"]] + [[r[2], "名" + r[2]] for r in drg_rows[1:]]
    return {
        "meta.csv": meta, "mdc.csv": mdc_rows, "adrg.csv": adrg_rows, "drg.csv": drg_rows, "lists.csv": lists,
        "tagged_lists.csv": tagged, "region_lists.csv": regions, "mcc.csv": mcc, "cc.csv": cc,
        "cc_exclusion.csv": cc_ex, "or_procedures.csv": orp, "drg_names.csv": names,
        "dx_codes.csv": [["code", "name"]] + [[c, c] for c in DX], "px_codes.csv": [["code", "name"]] + [[c, c] for c in PX],
        "dx_map.csv": dx_map, "px_map.csv": px_map, "reject.csv": rejects,
    }


def write_scheme(tables: dict, path) -> None:
    os.makedirs(path, exist_ok=True)
    for name, rows in tables.items():
        with open(os.path.join(path, name), "w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)


def maybe(s):
    return st.one_of(st.none(), s)


@st.composite
def records(draw):
    code_dx = st.sampled_from(DX + ["D9", "", "X?", "D1|D2", "D0,P1", "D1x", "D9y", "Dz"])  # D1x ...: unknown, with prefixes
    code_px = st.sampled_from(PX + ["P9", "", "P0|P1", "P0x", "Pq"])
    return {
        "case_id": "r",
        "sex": draw(st.sampled_from([1, 2, 1, 2, 1, 2, 0, 3, None])),
        "age_years": draw(st.sampled_from([0, 0, 1, 6, 16, 17, 30, 80, -1, None])),
        "age_days": draw(maybe(st.sampled_from([0, 10, 28, 29, 200]))),
        "weight_g": draw(maybe(st.sampled_from([0, 900, 1499, 1500, 2499, 2600]))),
        "dept": draw(maybe(st.sampled_from(["", "ICU", "A", "B", "1"]))),
        "los_days": draw(maybe(st.sampled_from([0, 1, 4, 5, 60, 61]))),
        "leaving_type": draw(maybe(st.sampled_from(["1", "2", "5", "9", ""]))),
        "icu_hours": draw(maybe(st.sampled_from([0, 1, 120, 121]))),
        "admission_weight_g": draw(maybe(st.sampled_from([0, 1499, 1500, 2500]))),
        "new_technique": draw(maybe(st.sampled_from([0, 1]))),
        "intensive_care": draw(maybe(st.sampled_from([0, 1]))),
        "day_surgery": draw(maybe(st.sampled_from([0, 1, 1]))),
        "crrt_hours": draw(maybe(st.sampled_from([0, 24, 72]))),
        "dx": draw(st.lists(code_dx, max_size=5)),
        "px": draw(st.lists(code_px, max_size=4)),
    }
