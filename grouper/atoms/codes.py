"""The atoms that test codes against lists: ``pdx|ppx in L``, ``any dx|... in L``, code prefixes, procedure tags,
MCC/CC complications (:mod:`grouper.atoms`)."""

from __future__ import annotations

from ..language import (
    FIELD_SLOTS,
    RuleError,
    STR_FIELDS,
    STR_SLOT0,
)
from .base import (
    Atom,
    IN_OPS,
    OP_ANY_DX,
    OP_ANY_PX,
    OP_ANY_SDX,
    OP_ANY_SPX,
    OP_CC,
    OP_MCC,
    OP_PDX,
    OP_PPX,
    OP_SFIELD_IN,
    hits_text,
    list_key,
    prefix_key,
    ref_text,
)


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
        notes.append(hits_text(self.text(node), bool(hits), [ctx.code(c) for c in hits]))
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
        notes.append(hits_text(self.text(node), bool(hits), [ctx.code(c) for c in hits]))
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
        notes.append(hits_text(node[0], r, hits))
        return r

    def satisfy(self, node, d, lists, rng):
        pool = lists.mcc if node[0] == "mcc" else lists.cc
        if len(pool):
            d.sdx.append(lists.codes[int(rng.choice(pool))])
        d.min_dx = max(d.min_dx, 2)


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
        return f"{node[1]} prefix in {ref_text(node[2])}"

    def emit(self, c, node):
        c.ins.append([OP_PDX if node[1] == "pdx" else OP_PPX, c.list_id(prefix_key(node[2])), 0, 0])

    def trace(self, ctx, node, notes):
        codes = (ctx.dx if node[1] == "pdx" else ctx.px)[:1]
        hits = [c for c in codes if ctx.member(c, prefix_key(node[2]))]
        notes.append(hits_text(self.text(node), bool(hits), [ctx.code(c) for c in hits]))
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
