"""Compile validated scheme tables into the flat integer arrays the kernel reads.

Everything scheme-specific becomes data here; the kernel has no knowledge of
any MDC, ADRG or DRG:

* one sorted code dictionary (every code or string that any table or rule
  mentions) -> int32 ids; an input code outside it gets -1 and matches nothing;
* list membership as a CSR table: for each code id, the sorted ids of the lists
  that contain it (named lists, ``@OR``, inline sets, and one derived list per
  ``(tagged list, tag)`` pair);
* MCC/CC exclusion ids per code, the principal diagnosis's exclusion id per code;
* body-region ids per (region list, code);
* code conversion maps as id -> id arrays;
* every rule as a short program of (op, a, b, c) instructions with
  short-circuit jumps, interpreted by ``program.eval_program``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .atoms import (
    OP_FALSE,
    OP_JF,
    OP_JT,
    OP_KNOWN,
    OP_NONZERO,
    OP_NOT,
    OP_TRUE,
    V_DX_COUNT,
    V_INT,
    V_INT_FIELD,
    V_PX_COUNT,
    V_STR,
    V_STR_FIELD,
    atom_of,
    key_of,
    list_key,
)
from .codes import KIND_CODE, STATUS_FAIL, STATUS_OK, STATUS_QY
from .language import FIELD_SLOTS, N_FIELDS, STR_FIELDS, V1_WIDTH

PREFIX_END = "\x00"  # a prefix P's dictionary entry is P + PREFIX_END: the id of an unknown code whose longest prefix is P
NO_SPLIT = ":0000"  # result code suffix of an ADRG without a matching split, where the scheme reports 0000
CHECK_BITS = {"sex": 1, "age_years": 2, "age_days": 4, "weight_g": 8, "dx": 16}  # FORMAT.md 5.3 checks 1-5


@dataclass
class CompiledScheme:
    """A scheme compiled into arrays; what :func:`grouper.group` runs on."""

    id: str
    name: str
    path: str
    digest: str
    meta: dict
    codes: list  # sorted code dictionary; id = position
    arrays: dict  # name -> numpy array (kernel inputs)
    results: list  # result strings; 0 = "0000"
    result_rows: list  # (status, status_code, mdc, adrg, drg, drg_name) per result id
    str_literals: list  # string literals compared with dept/leaving_type, by slot
    mdc_names: list  # in order
    step_names: list  # step ids in kernel order
    step_kinds: list
    step_adrg: list
    mdc_asts: list  # (rule_text, ast) per MDC, for explain
    step_asts: list  # (rule_text, ast) per step
    split_asts: list  # (drg, rule_text, ast) per split
    step_splits: list  # (start, end) into split_asts per step
    mdc_steps: list  # (start, end) into steps per MDC
    list_ids: dict  # list key -> id (for explain)
    rlist_ids: dict  # region list name -> row of arrays["region"]
    drg_names: dict
    warnings: list = field(default_factory=list)
    prefixes: list = field(default_factory=list)  # every prefix of the prefix lists (pdx/ppx prefix in L), sorted
    field_width: int = N_FIELDS  # columns of the encoded fields the kernel reads (V1_WIDTH: no 2.0 field)
    reject_asts: list = field(default_factory=list)  # (seq, status, rule_text, ast) of reject.csv, in seq order

    @property
    def n_codes(self) -> int:
        return len(self.codes)

    # Derived lookups are rebuilt on demand and kept out of the pickle (cache stays small).
    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_value_set", None)
        state.pop("_code_index", None)
        state.pop("_prefix_set", None)
        return state

    @property
    def prefix_set(self) -> frozenset:
        """The prefixes of the prefix lists, as a set (empty for most schemes)."""
        if getattr(self, "_prefix_set", None) is None:
            self._prefix_set = frozenset(self.prefixes)
        return self._prefix_set

    @property
    def value_set(self):
        """The code dictionary as a pyarrow array (for ``pc.index_in``)."""
        if getattr(self, "_value_set", None) is None:
            import pyarrow as pa

            self._value_set = pa.array(self.codes, pa.string())
        return self._value_set

    @property
    def code_index(self) -> dict:
        if getattr(self, "_code_index", None) is None:
            self._code_index = {c: i for i, c in enumerate(self.codes)}
        return self._code_index

    def summary(self) -> dict:
        adrgs = {a for a, k in zip(self.step_adrg, self.step_kinds) if k != "qy"}
        drgs = {d for d, _, _ in self.split_asts}
        return {
            "id": self.id,
            "name": self.name,
            "mdc": len(self.mdc_names),
            "adrg": len(adrgs),
            "drg": len(drgs),
            "steps": len(self.step_names),
            "qy_checkpoints": sum(k == "qy" for k in self.step_kinds),
            "qy_enabled": sum(k == "qy" and not _never(a[1]) for k, a in zip(self.step_kinds, self.step_asts)),
            "split_rules": len(self.split_asts),
            "lists": len(self.list_ids),
            "dx_codes": int(self.arrays["dx_known"].sum()),
            "px_codes": int(self.arrays["px_known"].sum()),
            "dictionary": len(self.codes),
            "dx_map": int((self.arrays["dx_map"] >= 0).sum()),
            "px_map": int((self.arrays["px_map"] >= 0).sum()),
            "reject_rules": len(self.reject_asts),
            "prefixes": len(self.prefixes),
            "conventions": {k: self.meta[k] for k in ("input_checks", "null_ppx_list", "medical_only_without_ppx",
                                                       "day_surgery_no_cc", "output_no_split", "output_qy_adrg")},
        }


def result_row(code: str, meta: dict, drg_names: dict):
    """Output columns for one result code (FORMAT.md section 7)."""
    if code == "0000":
        return (STATUS_FAIL, "ungroupable", "0000", "00", meta["output_drg_fail"], "")
    mdc = "MDC" + code[0]
    if code.endswith(NO_SPLIT):  # output_no_split = 0000: the ADRG kept, no DRG
        return (STATUS_FAIL, "ungroupable", mdc, code[: -len(NO_SPLIT)], "0000", "")
    if code[1:3] == "QY":
        adrg = code if meta.get("output_qy_adrg") == "code" else "QY"
        return (STATUS_QY, "ambiguous", mdc, adrg, code, drg_names.get(code, ""))
    if code[1:3] == "00":
        return (STATUS_FAIL, "ungroupable", mdc, "00", meta["output_drg_fail_in_mdc"], "")
    return (STATUS_OK, "ok", mdc, code[:3], code, drg_names.get(code, ""))


class _Compiler:
    def __init__(self, tables):
        self.t = tables
        self.list_keys: dict = {}  # key -> list id
        self.rlist_keys: dict = {}
        self.str_literals: dict = {}
        self.ins: list = []
        self.operands: list = []

    # -- string and list registries -------------------------------------------------
    def list_id(self, key) -> int:
        return self.list_keys.setdefault(key, len(self.list_keys))

    def listref(self, ref) -> int:
        return self.list_id(list_key(ref))

    def operand(self, value) -> int:
        kind, x = value
        if kind == "field":
            slot = FIELD_SLOTS[x]
            self.operands.append((V_STR_FIELD if x in STR_FIELDS else V_INT_FIELD, slot))
        elif kind == "count":
            self.operands.append((V_DX_COUNT if x == "dx" else V_PX_COUNT, 0))
        elif kind == "int":
            self.operands.append((V_INT, x))
        else:
            self.operands.append((V_STR, self.str_literals.setdefault(x, len(self.str_literals))))
        return len(self.operands) - 1

    # -- rule programs ------------------------------------------------------------------
    def emit(self, node):
        op = node[0]
        ins = self.ins
        if op in ("and", "or"):
            self.emit(node[1])
            j = len(ins)
            ins.append([OP_JF if op == "and" else OP_JT, -1, 0, 0])
            self.emit(node[2])
            ins[j][1] = len(ins)
        elif op == "not":
            self.emit(node[1])
            ins.append([OP_NOT, 0, 0, 0])
        elif op == "true":
            ins.append([OP_TRUE, 0, 0, 0])
        elif op == "false":
            ins.append([OP_FALSE, 0, 0, 0])
        else:
            atom_of(node).emit(self, node)

    def program(self, ast) -> tuple[int, int]:
        start = len(self.ins)
        self.emit(ast)
        return start, len(self.ins)


def _never(node) -> bool:
    """The rule is false for every record (e.g. a disabled checkpoint `false and ...`)."""
    op = node[0]
    if op == "false":
        return True
    if op == "and":
        return _never(node[1]) or _never(node[2])
    if op == "or":
        return _never(node[1]) and _never(node[2])
    return False


def _necessary(node, target: str):
    """List keys L1..Lk such that the rule can hold only if `target in L1 or ... Lk`; None if none."""
    op = node[0]
    if op in ("in", "prefix") and node[1] == target:
        return [key_of(node)]
    if op == "and":
        a = _necessary(node[1], target)
        return a if a is not None else _necessary(node[2], target)
    if op == "or":
        a, b = _necessary(node[1], target), _necessary(node[2], target)
        return a + b if a is not None and b is not None else None
    return None


def _ids(index: dict, codes) -> np.ndarray:
    return np.fromiter((index[c] for c in codes), dtype=np.int32, count=len(codes))


def _layout(t, comp) -> dict:
    """Rule programs in scheme order: MDC rules, their steps (grouped by MDC), each step's splits."""
    out = {"mdc_prog": [comp.program(m.rule) for m in t.mdcs], "step_prog": [], "step_kind": [], "step_adrg": [],
           "mdc_steps": [], "split_prog": [], "split_drg": [], "split_asts": [], "step_splits": []}
    by_mdc = {}
    for s in t.steps:
        by_mdc.setdefault(s.mdc, []).append(s)
    steps_in_order = []
    for m in t.mdcs:
        start = len(steps_in_order)
        steps_in_order.extend(by_mdc.get(m.mdc, []))
        out["mdc_steps"].append((start, len(steps_in_order)))
    for s in steps_in_order:
        out["step_prog"].append(comp.program(s.rule))
        out["step_kind"].append(s.kind)
        out["step_adrg"].append(s.adrg)
        start = len(out["split_prog"])
        for sp in t.splits.get(s.step, []):
            out["split_prog"].append(comp.program(sp.rule))
            out["split_drg"].append(sp.drg)
            out["split_asts"].append((sp.drg, sp.text, sp.rule))
        out["step_splits"].append((start, len(out["split_prog"])))
    out["steps_in_order"] = steps_in_order
    return out


def _string_table(t, comp) -> list:
    """Every string that can be compared with an input code or field value, sorted (the code ids)."""
    strings = {"", "-"}
    strings.update(c for codes in t.lists.values() for c in codes)
    strings.update(c for rows in t.tagged.values() for c, _ in rows)
    strings.update(c for rows in t.regions.values() for c, _ in rows)
    strings.update(c for c, _ in t.mcc)
    strings.update(c for c, _ in t.cc)
    strings.update(c for c, _ in t.cc_exclusion)
    strings.update(t.or_codes)
    strings.update(t.dx_codes)
    strings.update(t.px_codes)
    strings.update(c for pair in t.dx_map for c in pair)
    strings.update(c for pair in t.px_map for c in pair)
    for key in list(comp.list_keys):
        if key[0] == "inline":
            strings.update(key[1])
    strings.update(comp.str_literals)
    strings.update(p + PREFIX_END for p in _prefixes(t, comp))
    return sorted(strings)


def _prefix_members(t, key) -> list:
    """The prefixes of a prefix list key."""
    return t.lists.get(key[2], []) if key[1] == "named" else list(key[2])


def _prefixes(t, comp) -> list:
    """Every prefix that a rule tests (``pdx|ppx prefix in L``), sorted."""
    return sorted({p for key in comp.list_keys if key[0] == "prefix" for p in _prefix_members(t, key)})


def _starting_with(codes: list, prefix: str) -> list:
    import bisect

    return codes[bisect.bisect_left(codes, prefix): bisect.bisect_left(codes, prefix + "\U0010ffff")]


def _membership(t, comp, index: dict, n: int, codes: list):
    """List membership as CSR by code (list ids sorted): (member_ptr, member_lists, members per list id)."""
    pair_codes, pair_lists = [], []
    list_members: dict = {}
    first_tag: dict = {}
    for name, rows in t.tagged.items():
        tags = {}
        for code, tag in rows:
            tags.setdefault(code, tag)  # the tag at a code's first occurrence counts
        first_tag[name] = tags
    for key, lid in comp.list_keys.items():
        if key[0] == "named":
            members = t.or_codes if key[1] == "OR" else t.lists.get(key[1], [])
        elif key[0] == "inline":
            members = key[1]
        elif key[0] == "prefix":  # the codes that start with a prefix: a range of the sorted dictionary each
            members = [c for p in _prefix_members(t, key) for c in _starting_with(codes, p)]
        else:  # ("tag", tlist, tag)
            members = [c for c, tag in first_tag.get(key[1], {}).items() if tag == key[2]]
        ids = np.unique(_ids(index, list(members)))
        list_members[lid] = ids
        pair_codes.append(ids)
        pair_lists.append(np.full(len(ids), lid, dtype=np.int32))
    pc = np.concatenate(pair_codes) if pair_codes else np.zeros(0, np.int32)
    pl = np.concatenate(pair_lists) if pair_lists else np.zeros(0, np.int32)
    order = np.lexsort((pl, pc))
    member_lists = pl[order].astype(np.int32)
    member_ptr = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(pc, minlength=n), out=member_ptr[1:])
    return member_ptr, member_lists, list_members


def _code_tables(t, comp, index: dict, n: int) -> dict:
    """Per code id: MCC / CC / principal exclusion ids, region ids of each region list, dx/px maps, known flags."""
    excl_ids: dict = {}

    def excl_array(rows, empty_is_none):  # dict semantics: a repeated code keeps its last row
        arr = np.full(n, -1, dtype=np.int32)
        for code, ex in rows:
            if empty_is_none and ex == "":
                arr[index[code]] = -1
            else:
                arr[index[code]] = excl_ids.setdefault(ex, len(excl_ids))
        return arr

    def map_array(rows):
        arr = np.full(n, -1, dtype=np.int32)
        for a, b in rows:
            arr[index[a]] = index[b]
        return arr

    out = {"mcc_ex": excl_array(t.mcc, False), "cc_ex": excl_array(t.cc, False), "pdx_ex": excl_array(t.cc_exclusion, True)}
    region = np.full((max(len(comp.rlist_keys), 1), n), -1, dtype=np.int32)  # region id per code, -1 = not in the list
    for name, rid in comp.rlist_keys.items():
        names: dict = {}
        for code, reg in t.regions.get(name, []):
            region[rid, index[code]] = names.setdefault(reg, len(names))  # a repeated code: last row wins
    out["region"] = region
    out["dx_map"], out["px_map"] = map_array(t.dx_map), map_array(t.px_map)
    for kind, codes in (("dx_known", t.dx_codes), ("px_known", t.px_codes)):
        known = np.zeros(n, dtype=np.bool_)
        known[_ids(index, codes)] = True
        out[kind] = known
    return out


def _candidate_index(rule_asts: list, comp, list_members: dict, n: int) -> dict:
    """A rule whose top-level conjunction requires `pdx in L` (or `ppx in L`) can only hold when the
    principal code is in L. The kernel visits, in order, only the rules that are free of such a
    requirement or whose requirement the record's principal code meets; every visited rule is still
    evaluated in full, so results are unchanged."""
    free, pairs = [], {"pdx": ([], []), "ppx": ([], [])}
    for r, ast in enumerate(rule_asts):
        if _never(ast):
            continue
        for target in ("pdx", "ppx"):
            keys = _necessary(ast, target)
            if keys is not None:
                members = set()
                for key in keys:
                    members.update(list_members[comp.list_id(key)])
                ids = np.array(sorted(members), dtype=np.int64)
                pairs[target][0].append(ids)
                pairs[target][1].append(np.full(len(ids), r, dtype=np.int64))
                break
        else:
            free.append(r)
    out = {"free_rules": np.array(free, dtype=np.int32)}
    for target in ("pdx", "ppx"):
        codes_, rules_ = pairs[target]
        c = np.concatenate(codes_) if codes_ else np.zeros(0, np.int64)
        r = np.concatenate(rules_) if rules_ else np.zeros(0, np.int64)
        order_ = np.lexsort((r, c))
        ptr = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(np.bincount(c, minlength=n), out=ptr[1:])
        out[f"{target}_ptr"], out[f"{target}_rules"] = ptr, r[order_].astype(np.int32)
    return out


def _field_width(comp, meta) -> int:
    """How many columns of the fields matrix the rules read: all of them when a rule reads a 2.0 field (or day
    surgery decides mcc / cc), else only the 1.x fields (the batch encoder then builds just those)."""
    slots = [a for op, a, _, _ in comp.ins if op in (OP_KNOWN, OP_NONZERO)]
    slots += [x for kind, x in comp.operands if kind in (V_INT_FIELD, V_STR_FIELD)]
    return N_FIELDS if meta.get("day_surgery_no_cc") or any(s >= V1_WIDTH for s in slots) else V1_WIDTH


def _ranges(pairs):
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def compile_scheme(t) -> CompiledScheme:
    """Turn :class:`~grouper.scheme.SchemeTables` into a :class:`CompiledScheme`."""
    comp = _Compiler(t)
    lay = _layout(t, comp)
    steps_in_order = lay["steps_in_order"]
    reject_prog = [comp.program(r.rule) for r in t.rejects]
    null_list = comp.list_id(("named", t.meta["null_ppx_list"])) if t.meta.get("null_ppx_list") else -1
    codes = _string_table(t, comp)
    index = {c: i for i, c in enumerate(codes)}
    n = len(codes)
    member_ptr, member_lists, list_members = _membership(t, comp, index, n, codes)
    # Results: 0 = "0000"; then every step code and every split code.
    results = ["0000"]
    result_index = {"0000": 0}

    def rid(code):
        if code not in result_index:
            result_index[code] = len(results)
            results.append(code)
        return result_index[code]

    step_result = [rid(a) for a in lay["step_adrg"]]
    split_result = [rid(d) for d in lay["split_drg"]]
    no_split_0000 = t.meta.get("output_no_split") == "0000"
    step_nosplit = [rid(a + NO_SPLIT) if no_split_0000 and k == "adrg" else r
                    for a, k, r in zip(lay["step_adrg"], lay["step_kind"], step_result)]
    flags = [sum(CHECK_BITS[c] for c in t.meta.get("input_checks", CHECK_BITS)), null_list,
             int(bool(t.meta.get("medical_only_without_ppx"))), int(bool(t.meta.get("day_surgery_no_cc")))]
    rule_asts = [m.rule for m in t.mdcs] + [st.rule for st in steps_in_order]
    arrays = {
        "ins": np.array(comp.ins, dtype=np.int64).reshape(-1, 4) if comp.ins else np.zeros((0, 4), np.int64),
        "opnd": np.array(comp.operands, dtype=np.int64).reshape(-1, 2) if comp.operands else np.zeros((0, 2), np.int64),
        "mdc_prog": _ranges(lay["mdc_prog"]),
        "mdc_steps": _ranges(lay["mdc_steps"]),
        "step_prog": _ranges(lay["step_prog"]),
        "step_kind": np.array([KIND_CODE[k] for k in lay["step_kind"]], dtype=np.int64),
        "step_result": np.array(step_result, dtype=np.int64),
        "step_splits": _ranges(lay["step_splits"]),
        "split_prog": _ranges(lay["split_prog"]),
        "split_result": np.array(split_result, dtype=np.int64),
        "step_nosplit": np.array(step_nosplit, dtype=np.int64),
        # medical ADRGs (second letter R-Z): the only ones tried without a principal procedure where the scheme says so
        "step_medical": np.array([a[1:2] >= "R" and a[1:2] <= "Z" for a in lay["step_adrg"]], dtype=np.bool_),
        "reject_prog": _ranges(reject_prog),
        "flags": np.array(flags, dtype=np.int64),
        "member_ptr": member_ptr,
        "member_lists": member_lists,
        **_code_tables(t, comp, index, n),
        **_candidate_index(rule_asts, comp, list_members, n),
    }
    for a in arrays.values():
        a.setflags(write=False)
    return CompiledScheme(
        id=t.meta.get("id", ""),
        name=t.meta.get("name", ""),
        path=t.path,
        digest=t.digest,
        meta=t.meta,
        codes=codes,
        arrays=arrays,
        results=results,
        result_rows=[result_row(c, t.meta, t.drg_names) for c in results],
        str_literals=sorted(comp.str_literals, key=comp.str_literals.get),
        mdc_names=[m.mdc for m in t.mdcs],
        step_names=[s.step for s in steps_in_order],
        step_kinds=lay["step_kind"],
        step_adrg=lay["step_adrg"],
        mdc_asts=[(m.text, m.rule) for m in t.mdcs],
        step_asts=[(s.text, s.rule) for s in steps_in_order],
        split_asts=lay["split_asts"],
        step_splits=lay["step_splits"],
        mdc_steps=lay["mdc_steps"],
        list_ids=dict(comp.list_keys),
        rlist_ids=dict(comp.rlist_keys),
        drg_names=dict(t.drg_names),
        warnings=list(t.warnings),
        prefixes=_prefixes(t, comp),
        field_width=_field_width(comp, t.meta),
        reject_asts=[(r.seq, r.status, r.text, r.rule) for r in t.rejects],
    )
