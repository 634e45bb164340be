"""The atoms that test record fields and counts: field states, region counts, ``count(...)`` and comparisons
(:mod:`grouper.atoms`)."""

from __future__ import annotations

import numpy as np

from ..language import (
    compare,
    int64_literal,
    CMP_OPS,
    FIELDS,
    FIELD_SLOTS,
    NULL,
    RuleError,
    STR_FIELDS,
)
from .base import (
    Atom,
    CMP_CODE,
    COUNT_TARGETS,
    OP_CMP,
    OP_COUNT,
    OP_KNOWN,
    OP_NONZERO,
    OP_REGIONS,
    compared_to_int,
    list_key,
    ref_text,
)


class FieldState(Atom):
    """``known(FIELD)`` / ``nonzero(FIELD)``."""

    nodes = ("known", "nonzero")
    opcodes = (OP_KNOWN, OP_NONZERO)
    words = ("known", "nonzero")

    def parse(self, p):
        kind, val = p.peek()
        if kind != "word" or val not in ("known", "nonzero"):
            return None
        p.take()
        p.expect("(")
        _, name = p.take()
        if name not in FIELDS:
            raise RuleError(f"{val}() takes one of {', '.join(FIELDS)}, found {name!r}")
        p.expect(")")
        return (val, name)

    def text(self, node):
        return f"{node[0]}({node[1]})"

    def emit(self, c, node):
        c.ins.append([OP_KNOWN if node[0] == "known" else OP_NONZERO, FIELD_SLOTS[node[1]], 0, 0])

    def trace(self, ctx, node, notes):
        slot = FIELD_SLOTS[node[1]]
        v = int(ctx.frow[slot])
        r = v != NULL if node[0] == "known" else (v != NULL and v != (ctx.empty_rank if node[1] in STR_FIELDS else 0))
        notes.append(f"{self.text(node)} = {r}")
        return r

    def satisfy(self, node, d, lists, rng):
        name = node[1]
        if name in d.bounds:
            d.need.add(name)
            if node[0] == "nonzero":
                d.bounds[name][0] = max(d.bounds[name][0], 1)
        else:
            d.strs.setdefault(name, "X")


class RegionCount(Atom):
    """``dx_region_count(@RLIST) OP N``: distinct body regions among the diagnoses."""

    nodes = ("regions",)
    opcodes = (OP_REGIONS,)
    words = ("dx_region_count",)

    def parse(self, p):
        if p.peek() != ("word", "dx_region_count"):
            return None
        p.take()
        p.expect("(")
        rlist = p.named_only("region list")
        p.expect(")")
        return ("regions", rlist, *compared_to_int(p, "dx_region_count"))

    def text(self, node):
        return f"dx_region_count(@{node[1]}) {node[2]} {node[3]}"

    def emit(self, c, node):
        rid = c.rlist_keys.setdefault(node[1], len(c.rlist_keys))
        c.ins.append([OP_REGIONS, rid, CMP_CODE[node[2]], node[3]])

    def trace(self, ctx, node, notes):
        rid = ctx.s.rlist_ids.get(node[1])
        row = ctx.s.arrays["region"][rid] if rid is not None else np.full(ctx.s.n_codes, -1)
        regions = {int(row[c]) for c in ctx.dx if c >= 0 and row[c] >= 0}
        r = compare(len(regions), node[2], node[3])
        notes.append(f"{self.text(node)} = {r} (count {len(regions)})")
        return r

    def refs(self, node):
        return [("region list", node[1])]

    def satisfy(self, node, d, lists, rng):
        rid = lists.rlists.get(node[1])
        if rid is None:
            return
        row = lists.region[rid]
        have = np.flatnonzero(row >= 0)
        want = node[3] + (1 if node[2] in (">", ">=") else 0) + (1 if node[2] == ">" else 0)
        regs = {}
        for c in rng.permutation(have)[:2000]:
            regs.setdefault(int(row[c]), int(c))
            if len(regs) >= max(want, 1):
                break
        d.sdx.extend(lists.codes[c] for c in list(regs.values())[: max(want, 1)])


class Count(Atom):
    """``count([distinct] dx|px|sdx|spx in L) OP N``: how many codes of the list (positions, or distinct codes)
    are in L (CHS-DRG 3.0 IC2 "两个及以上", regional "N个及以上不重复的次要诊断")."""

    nodes = ("count",)
    opcodes = (OP_COUNT,)
    words = ("count", "distinct")

    def parse(self, p):
        if p.peek() != ("word", "count") or p.peek(1) != ("punct", "("):
            return None
        p.take()
        p.take()
        distinct = p.peek() == ("word", "distinct")
        if distinct:
            p.take()
        _, what = p.take()
        if what not in COUNT_TARGETS:
            raise RuleError(f"expected dx, px, sdx or spx in count(...), found {what!r}")
        p.expect_in()
        ref = p.listref()
        p.expect(")")
        return ("count", what, distinct, ref, *compared_to_int(p, "count"))

    def text(self, node):
        return f"count({'distinct ' if node[2] else ''}{node[1]} in {ref_text(node[3])}) {node[4]} {node[5]}"

    def emit(self, c, node):
        b = COUNT_TARGETS.index(node[1]) * 2 + int(node[2]) + 16 * CMP_CODE[node[4]]
        c.ins.append([OP_COUNT, c.listref(node[3]), b, node[5]])

    def trace(self, ctx, node, notes):
        lst = ctx.dx if node[1] in ("dx", "sdx") else ctx.px
        lst = lst[1:] if node[1] in ("sdx", "spx") else lst
        hits = [c for c in lst if ctx.member(c, list_key(node[3]))]
        n = len(set(hits)) if node[2] else len(hits)
        r = compare(n, node[4], node[5])
        notes.append(f"{self.text(node)} = {r} (count {n}{': ' + ', '.join(ctx.code(c) for c in hits) if hits else ''})")
        return r

    def refs(self, node):
        return [("list", node[3][1])] if node[3][0] == "named" and node[3][1] != "OR" else []

    def satisfy(self, node, d, lists, rng):
        op, n = node[4], node[5]
        if op not in (">", ">=", "=="):
            return
        want = n + (1 if op == ">" else 0)
        codes = lists.members(list_key(node[3]))
        if len(codes) == 0 or want <= 0:
            return
        picked = [lists.codes[int(c)] for c in rng.permutation(codes)[:want]]
        while len(picked) < want and not node[2]:
            picked.append(picked[-1])
        t = node[1]
        if t in ("dx", "sdx"):
            d.sdx.extend(picked)
            d.min_dx = max(d.min_dx, 1 + len(picked))
        else:
            if t == "px" and d.px0 is None:
                d.px0 = picked.pop(0)
            d.spx.extend(picked)
            d.min_px = max(d.min_px, 1 + len(d.spx))


class Comparison(Atom):
    """``VALUE OP VALUE`` over fields, ``dx_count`` / ``px_count``, integers and quoted strings (the
    parser's last resort: every other atom starts with its own word)."""

    nodes = ("cmp",)
    opcodes = (OP_CMP,)
    words = ("dx_count", "px_count")

    def parse(self, p):
        left = self._value(p)
        _, op = p.take()
        if op not in CMP_OPS:
            raise RuleError(f"expected a comparison operator after {left[1]!r}, found {op or 'end of rule'!r}")
        return ("cmp", left, op, self._value(p))

    @staticmethod
    def _value(p):
        kind, val = p.take()
        if kind == "int":
            return ("int", int64_literal(val))
        if kind == "str":
            return ("str", val[1:-1])
        if kind == "word" and val in FIELDS:
            return ("field", val)
        if kind == "word" and val in ("dx_count", "px_count"):
            return ("count", val[:2])
        raise RuleError(f"unknown term {val or 'end of rule'!r} (see FORMAT.md section 4 for the atoms)")

    def text(self, node):
        def v(x):
            if x[0] == "field":
                return x[1]
            if x[0] == "count":
                return x[1] + "_count"
            if x[0] == "int":
                return str(x[1])
            return f'"{x[1]}"'
        return f"{v(node[1])} {node[2]} {v(node[3])}"

    def emit(self, c, node):
        c.ins.append([OP_CMP, c.operand(node[1]), CMP_CODE[node[2]], c.operand(node[3])])

    def trace(self, ctx, node, notes):
        ln, ls, lv = ctx.value(node[1])
        rn, rs, rv = ctx.value(node[3])
        if node[2] in ("==", "!="):  # null equals only null; values of different types differ
            eq = (ln and rn) or ((not ln) and (not rn) and ls == rs and lv == rv)
            r = eq if node[2] == "==" else not eq
        else:  # ordering is false with a null or across types
            r = (not ln) and (not rn) and ls == rs and compare(lv, node[2], rv)
        notes.append(f"{self.text(node)} = {r}")
        return r

    def satisfy(self, node, d, lists, rng):
        left, cop, right = node[1], node[2], node[3]
        if left[0] == "int" and right[0] in ("field", "count"):
            left, right = right, left
            cop = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(cop, cop)
        if right[0] != "int" and not (right[0] == "str" and left[0] == "field"):
            return
        if left[0] == "count":
            n = right[1] + (1 if cop == ">" else 0) if cop in (">", ">=", "==") else 0
            if left[1] == "dx":
                d.min_dx = max(d.min_dx, n)
            else:
                d.min_px = max(d.min_px, n)
        elif left[0] == "field" and right[0] == "str":
            if cop == "==":
                d.strs[left[1]] = right[1]
        elif left[0] == "field" and left[1] in d.bounds:
            narrow(d.bounds[left[1]], cop, right[1])
            d.need.add(left[1])


def narrow(b: list, cop: str, n: int) -> None:
    if cop == "==":
        b[0], b[1] = n, n
    elif cop == "<":
        b[1] = min(b[1], n - 1)
    elif cop == "<=":
        b[1] = min(b[1], n)
    elif cop == ">":
        b[0] = max(b[0], n + 1)
    elif cop == ">=":
        b[0] = max(b[0], n)
