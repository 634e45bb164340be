"""The atoms of the rule language (FORMAT.md section 4), one class each: how an atom is parsed,
written back as text, compiled into kernel instructions, evaluated with an explanation, which lists
it names, and how a synthetic record satisfies it.

A new atom is a new class here (added to ``ATOMS``), its opcode in ``kernel.eval_program``, and its
independent reading in ``tests/naive.py`` (and a generator for it in ``tests/schemegen.py``);
``tests/test_architecture.py`` fails when one of those does not know an atom. The connectives
(``and``, ``or``, ``not``, ``true``, ``false``) live with the parser, compiler and tracer.
"""

from __future__ import annotations

import numpy as np

from .language import (
    CMP_OPS,
    FIELD_SLOTS,
    FIELDS,
    NULL,
    STR_FIELDS,
    STR_SLOT0,
    RuleError,
    compare,
    int64_literal,
)

# Opcodes of kernel.eval_program: (op, a, b, c) per instruction
OP_TRUE, OP_FALSE = 0, 1
OP_PDX, OP_PPX, OP_ANY_DX, OP_ANY_PX, OP_ANY_SDX, OP_ANY_SPX, OP_SFIELD_IN = 2, 3, 4, 5, 6, 7, 8
OP_MCC, OP_CC, OP_KNOWN, OP_NONZERO, OP_REGIONS, OP_CMP, OP_COUNT = 9, 10, 11, 12, 13, 14, 15
OP_JF, OP_JT, OP_NOT = 20, 21, 22
CMP_CODE = {op: i for i, op in enumerate(CMP_OPS)}  # == != < <= > >=: the kernel's compare() codes
IN_OPS = {"pdx": OP_PDX, "ppx": OP_PPX, "any_dx": OP_ANY_DX, "any_px": OP_ANY_PX, "any_sdx": OP_ANY_SDX, "any_spx": OP_ANY_SPX}
# Operand kinds of OP_CMP.
V_INT_FIELD, V_STR_FIELD, V_DX_COUNT, V_PX_COUNT, V_INT, V_STR = 0, 1, 2, 3, 4, 5


COUNT_TARGETS = ("dx", "px", "sdx", "spx")  # count(...) target codes 0..3 of OP_COUNT


def list_key(ref) -> tuple:
    """The identity of a list reference: ("named", NAME) or ("inline", sorted distinct codes)."""
    return ("named", ref[1]) if ref[0] == "named" else ("inline", tuple(sorted(set(ref[1]))))


def prefix_key(ref) -> tuple:
    """The identity of a list of code prefixes (``pdx prefix in L``): ("prefix", "named", NAME) or
    ("prefix", "inline", sorted distinct prefixes)."""
    return ("prefix",) + list_key(ref)


def key_of(node) -> tuple:
    """The list identity a membership node (``in`` or ``prefix``) tests."""
    return prefix_key(node[2]) if node[0] == "prefix" else list_key(node[2])


def _ref_text(ref) -> str:
    return "@" + ref[1] if ref[0] == "named" else "{" + ",".join(f'"{c}"' for c in ref[1]) + "}"


def _compared_to_int(p, name: str) -> tuple:
    """The ``OP N`` after ``name(...)``: (operator, integer)."""
    _, op = p.take()
    if op not in CMP_OPS:
        raise RuleError(f"expected a comparison after {name}(...), found {op!r}")
    k, num = p.take()
    if k != "int":
        raise RuleError(f"expected an integer after {name}(...) {op}, found {num!r}")
    return op, int64_literal(num)


def _hits(text: str, r: bool, hits) -> str:
    return f"{text} = {r}" + (f" ({', '.join(hits)})" if hits else "")


class Atom:
    """One kind of atom. ``nodes``: the AST node names it produces; ``opcodes``: the kernel opcodes
    its instructions use; ``words``: the rule-text words that introduce it."""

    nodes: tuple = ()
    opcodes: tuple = ()
    words: tuple = ()

    def parse(self, p):
        """The node for the tokens at the parser ``p`` (consumed), or None (nothing consumed)."""
        raise NotImplementedError

    def text(self, node) -> str:
        raise NotImplementedError

    def emit(self, c, node) -> None:
        """Append the node's instructions to the compiler ``c``."""
        raise NotImplementedError

    def trace(self, ctx, node, notes: list) -> bool:
        """Evaluate the node for the explain context ``ctx``, noting why."""
        raise NotImplementedError

    def refs(self, node):
        """(kind of list, name) of every named list the node uses: list, tagged list, region list."""
        return ()

    def satisfy(self, node, d, lists, rng) -> None:
        """Make the synthetic draft ``d`` meet the node (``lists``: code ids per compiled list)."""
        raise NotImplementedError


class InList(Atom):
    """``pdx|ppx in L``, ``any dx|px|sdx|spx in L``, ``dept|leaving_type in L``."""

    nodes = ("in",)
    opcodes = (OP_PDX, OP_PPX, OP_ANY_DX, OP_ANY_PX, OP_ANY_SDX, OP_ANY_SPX, OP_SFIELD_IN)
    words = ("pdx", "ppx", "any")

    def parse(self, p):
        kind, val = p.peek()
        if kind != "word":
            return None
        if (val in ("pdx", "ppx") or val in STR_FIELDS) and p.peek(1) == ("word", "in"):
            p.take()
            p.take()
            return ("in", val, p.listref())
        if val == "any":
            p.take()
            _, what = p.take()
            if what not in ("dx", "px", "sdx", "spx"):
                raise RuleError(f"expected dx, px, sdx or spx after 'any', found {what!r}")
            p.expect_in()
            return ("in", "any_" + what, p.listref())
        return None

    def text(self, node):
        target = {"any_dx": "any dx", "any_px": "any px", "any_sdx": "any sdx", "any_spx": "any spx"}.get(node[1], node[1])
        ref = node[2]
        lst = "@" + ref[1] if ref[0] == "named" else "{" + ",".join(f'"{c}"' for c in ref[1]) + "}"
        return f"{target} in {lst}"

    def emit(self, c, node):
        lid = c.listref(node[2])
        if node[1] in IN_OPS:
            c.ins.append([IN_OPS[node[1]], lid, 0, 0])
        else:
            c.ins.append([OP_SFIELD_IN, lid, FIELD_SLOTS[node[1]] - STR_SLOT0, 0])

    def trace(self, ctx, node, notes):
        key, target = list_key(node[2]), node[1]
        if target in ("pdx", "ppx"):
            codes = (ctx.dx if target == "pdx" else ctx.px)[:1]
        elif target in STR_FIELDS:
            codes = [int(ctx.srow[FIELD_SLOTS[target] - STR_SLOT0])]
        else:
            lst = ctx.dx if target.endswith("dx") else ctx.px
            codes = lst[1:] if target in ("any_sdx", "any_spx") else lst
        hits = [c for c in codes if ctx.member(c, key)]
        notes.append(_hits(self.text(node), bool(hits), [ctx.code(c) for c in hits]))
        return bool(hits)

    def refs(self, node):
        return [("list", node[2][1])] if node[2][0] == "named" and node[2][1] != "OR" else []

    def satisfy(self, node, d, lists, rng):
        codes = lists.members(list_key(node[2]))
        if len(codes) == 0:
            return
        c = lists.codes[int(rng.choice(codes))]
        t = node[1]
        if t == "pdx":
            d.dx0 = c
        elif t == "ppx":
            d.px0 = c
        elif t in ("any_dx", "any_sdx"):
            d.sdx.append(c)
        elif t == "any_px":
            if d.px0 is None:
                d.px0 = c
            else:
                d.spx.append(c)
        elif t == "any_spx":
            d.spx.append(c)
            d.min_px = max(d.min_px, 2)
        else:
            d.strs[t] = c


class PxTag(Atom):
    """``px tag "T" in @TLIST``: some procedure has tag T in the tagged list."""

    nodes = ("tag",)
    opcodes = (OP_ANY_PX,)
    words = ("tag",)

    def parse(self, p):
        if p.peek() != ("word", "px") or p.peek(1) != ("word", "tag"):
            return None
        p.take()
        p.take()
        k, tag = p.take()
        if k != "str":
            raise RuleError(f"expected a quoted tag after 'px tag', found {tag!r}")
        p.expect_in()
        return ("tag", tag[1:-1], p.named_only("tagged list"))

    def text(self, node):
        return f'px tag "{node[1]}" in @{node[2]}'

    def emit(self, c, node):
        c.ins.append([OP_ANY_PX, c.list_id(("tag", node[2], node[1])), 0, 0])

    def trace(self, ctx, node, notes):
        hits = [c for c in ctx.px if ctx.member(c, ("tag", node[2], node[1]))]
        notes.append(_hits(self.text(node), bool(hits), [ctx.code(c) for c in hits]))
        return bool(hits)

    def refs(self, node):
        return [("tagged list", node[2])]

    def satisfy(self, node, d, lists, rng):
        codes = lists.members(("tag", node[2], node[1]))
        if len(codes):
            c = lists.codes[int(rng.choice(codes))]
            if d.px0 is None:
                d.px0 = c
            else:
                d.spx.append(c)


class Complication(Atom):
    """``mcc`` / ``cc`` (FORMAT.md 4.1): a secondary diagnosis in the table, not excluded by the principal."""

    nodes = ("mcc", "cc")
    opcodes = (OP_MCC, OP_CC)
    words = ("mcc", "cc")

    def parse(self, p):
        kind, val = p.peek()
        if kind == "word" and val in ("mcc", "cc"):
            p.take()
            return (val,)
        return None

    def text(self, node):
        return node[0]

    def emit(self, c, node):
        c.ins.append([OP_MCC if node[0] == "mcc" else OP_CC, 0, 0, 0])

    def trace(self, ctx, node, notes):
        r, hits = ctx.cx(node[0])
        notes.append(_hits(node[0], r, hits))
        return r

    def satisfy(self, node, d, lists, rng):
        pool = lists.mcc if node[0] == "mcc" else lists.cc
        if len(pool):
            d.sdx.append(lists.codes[int(rng.choice(pool))])
        d.min_dx = max(d.min_dx, 2)


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
        return ("regions", rlist, *_compared_to_int(p, "dx_region_count"))

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


class Prefix(Atom):
    """``pdx prefix in L`` / ``ppx prefix in L``: the principal code starts with one of the strings of L (CHS-DRG
    2.0 sub-groups by code family, e.g. Shanghai BR1 with I61.0). Compiled to list membership: a code the scheme
    names is a member when it starts with a prefix; a code unknown to the scheme is encoded as the entry of its
    longest prefix (``records.encode``), which is a member of exactly the lists of the prefixes it starts with."""

    nodes = ("prefix",)
    opcodes = (OP_PDX, OP_PPX)
    words = ("prefix",)

    def parse(self, p):
        kind, val = p.peek()
        if kind != "word" or val not in ("pdx", "ppx") or p.peek(1) != ("word", "prefix"):
            return None
        p.take()
        p.take()
        p.expect_in()
        return ("prefix", val, p.listref())

    def text(self, node):
        return f"{node[1]} prefix in {_ref_text(node[2])}"

    def emit(self, c, node):
        c.ins.append([OP_PDX if node[1] == "pdx" else OP_PPX, c.list_id(prefix_key(node[2])), 0, 0])

    def trace(self, ctx, node, notes):
        codes = (ctx.dx if node[1] == "pdx" else ctx.px)[:1]
        hits = [c for c in codes if ctx.member(c, prefix_key(node[2]))]
        notes.append(_hits(self.text(node), bool(hits), [ctx.code(c) for c in hits]))
        return bool(hits)

    def refs(self, node):
        return [("list", node[2][1])] if node[2][0] == "named" else []

    def satisfy(self, node, d, lists, rng):
        codes = lists.members(prefix_key(node[2]))
        codes = [c for c in codes if not lists.codes[int(c)].endswith("\x00")]  # a code, not a prefix's entry
        if len(codes) == 0:
            return
        c = lists.codes[int(rng.choice(codes))]
        if node[1] == "pdx":
            d.dx0 = c
        else:
            d.px0 = c


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
        return ("count", what, distinct, ref, *_compared_to_int(p, "count"))

    def text(self, node):
        return f"count({'distinct ' if node[2] else ''}{node[1]} in {_ref_text(node[3])}) {node[4]} {node[5]}"

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
            _narrow(d.bounds[left[1]], cop, right[1])
            d.need.add(left[1])


def _narrow(b: list, cop: str, n: int) -> None:
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


# In parsing order: each atom but the comparison starts with its own word; the comparison comes last.
ATOMS = (InList(), Prefix(), PxTag(), Complication(), FieldState(), RegionCount(), Count(), Comparison())
BY_NODE = {name: a for a in ATOMS for name in a.nodes}


def atom_of(node) -> Atom:
    try:
        return BY_NODE[node[0]]
    except KeyError:
        raise ValueError(f"unknown rule atom {node[0]!r}") from None


def parse_atom(p):
    for a in ATOMS:
        node = a.parse(p)
        if node is not None:
            return node
    raise RuleError("no atom")  # pragma: no cover - the comparison parses or raises
