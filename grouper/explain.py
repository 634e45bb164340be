"""Explain one record: every rule tried, in order, and why it held or not.

The record is prepared by the same code as a batch (``records.encode`` on a
one-row table: list splitting, map mode, null handling), then the scheme's
rules are walked in the order of FORMAT.md section 6 (every MDC, every step,
no candidate index) by a plain Python evaluator that notes each atom's value.
Tests check that the outcome equals the kernel's on every reference case.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from .atoms import atom_of
from .codes import STAT_DX_MAP, STAT_REJECT
from .compile import PREFIX_END
from .language import FIELD_SLOTS, NULL, STR_FIELDS
from .text import EXPLAIN


@dataclass
class Explanation:
    """The outcome of one record and the trace of the rules tried."""

    status: str
    status_code: str
    mdc: str
    adrg: str
    drg: str
    drg_name: str
    reason: str
    warnings: str | None
    lines: list = field(default_factory=list)
    # the same trace as data: {"level": "mdc" | "step" | "split" | "retry", "name", "kind", "rule", "holds", "notes"}
    steps: list = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(self.lines)


class _Ctx:
    def __init__(self, scheme, dx, px, frow, srow, lit_rank, empty_rank):
        self.s = scheme
        self.dx = [int(x) for x in dx]
        self.px = [int(x) for x in px]
        self.frow = frow
        self.srow = srow
        self.lit_rank = lit_rank
        self.empty_rank = empty_rank
        a = scheme.arrays
        self.mptr, self.mlists = a["member_ptr"], a["member_lists"]
        self.steps: list = []
        # day surgery counts as no CC where the scheme says so
        self.no_cx = bool(a["flags"][3]) and int(frow[FIELD_SLOTS["day_surgery"]]) == 1

    def code(self, i):
        if i < 0:
            return "?"
        c = self.s.codes[i]
        return c[:-1] + "…" if c.endswith(PREFIX_END) else c  # an unknown code, known by its longest prefix

    def member(self, code, key):
        lid = self.s.list_ids.get(key)
        if lid is None or code < 0:
            return False
        lo, hi = self.mptr[code], self.mptr[code + 1]
        return bool(lid in self.mlists[lo:hi])

    def cx(self, which):
        a = self.s.arrays
        if self.no_cx:
            return False, [self.day_surgery_words]
        ex = a["mcc_ex"] if which == "mcc" else a["cc_ex"]
        if len(self.dx) <= 1:
            return False, []
        p = self.dx[0]
        e = a["pdx_ex"][p] if p >= 0 else -1
        hits = [self.code(c) for c in self.dx[1:] if c >= 0 and ex[c] >= 0 and not (e >= 0 and e == ex[c])]
        return bool(hits), hits

    def value(self, v):
        kind, x = v
        if kind == "field":
            raw = int(self.frow[FIELD_SLOTS[x]])
            return (raw == NULL, x in STR_FIELDS, raw)
        if kind == "count":
            return (False, False, len(self.dx) if x == "dx" else len(self.px))
        if kind == "int":
            return (False, False, x)
        return (False, True, int(self.lit_rank[self.s.str_literals.index(x)]))

    def ev(self, node, notes):
        op = node[0]
        if op == "true":
            return True
        if op == "false":
            return False
        if op == "and":
            return self.ev(node[1], notes) and self.ev(node[2], notes)
        if op == "or":
            return self.ev(node[1], notes) or self.ev(node[2], notes)
        if op == "not":
            return not self.ev(node[1], notes)
        return atom_of(node).trace(self, node, notes)


def _record_table(record) -> pa.Table:
    if isinstance(record, pa.Table):
        return record.slice(0, 1)
    if hasattr(record, "to_dict") and not isinstance(record, dict):  # pandas Series
        record = record.to_dict()
    rec = {}
    for k, v in dict(record).items():
        if k in ("dx", "px") and isinstance(v, str):
            v = [x for x in v.replace(";", "|").replace(",", "|").split("|") if x != ""]
        elif hasattr(v, "tolist"):
            v = v.tolist()
        rec[k] = [v]
    return pa.table(rec)


def _routing_px(ctx) -> list:
    """The procedures MDC / ADRG / QY rules see: a principal procedure on the scheme's null_ppx_list is there as a
    code that matches nothing (FORMAT.md 6)."""
    lid = int(ctx.s.arrays["flags"][1])
    if lid >= 0 and ctx.px and ctx.px[0] >= 0 and lid in ctx.mlists[ctx.mptr[ctx.px[0]]:ctx.mptr[ctx.px[0] + 1]]:
        return [-1] + ctx.px[1:]
    return ctx.px


def _group_traced(ctx, t, lines):
    """FORMAT.md 6 steps 2-4 for the context's lists; returns (result code, info)."""
    full_px = ctx.px
    ctx.px = _routing_px(ctx)
    if ctx.px is not full_px:
        lines.append(t["nulled"].format(code=ctx.code(full_px[0])))
    medical_only = bool(ctx.s.arrays["flags"][2]) and (not full_px or ctx.px is not full_px)
    try:
        return _walk_traced(ctx, t, lines, full_px, medical_only)
    finally:
        ctx.px = full_px


def _walk_traced(ctx, t, lines, full_px, medical_only):
    s = ctx.s
    first_mdc = -1
    for m, (text, ast) in enumerate(s.mdc_asts):
        notes: list = []
        ok = ctx.ev(ast, notes)
        lines.append(f"{t['mdc'].format(name=s.mdc_names[m])}: {text} -> {t['true'] if ok else t['false']}"
                     + (f"  [{'; '.join(notes)}]" if ok or len(notes) <= 2 else ""))
        ctx.steps.append({"level": "mdc", "name": s.mdc_names[m], "kind": "mdc", "rule": text, "holds": bool(ok), "notes": notes})
        if not ok:
            continue
        if first_mdc < 0:
            first_mdc = m
        a, b = s.mdc_steps[m]
        for st in range(a, b):
            text, ast = s.step_asts[st]
            if medical_only and s.step_kinds[st] != "qy" and not s.arrays["step_medical"][st]:
                lines.append(f"{t['step'].format(name=s.step_names[st], kind=s.step_kinds[st])}: {t['not_medical']}")
                continue
            notes = []
            ok = ctx.ev(ast, notes)
            lines.append(f"{t['step'].format(name=s.step_names[st], kind=s.step_kinds[st])}: {text} -> {t['true'] if ok else t['false']}"
                         + (f"  [{'; '.join(notes)}]" if notes else ""))
            ctx.steps.append({"level": "step", "name": s.step_names[st], "kind": s.step_kinds[st], "rule": text, "holds": bool(ok),
                              "notes": notes})
            if not ok:
                continue
            if s.step_kinds[st] == "qy":
                return s.step_adrg[st], st
            x, y = s.step_splits[st]
            routing_px, ctx.px = ctx.px, full_px  # splits see the procedures as coded
            for k in range(x, y):
                drg, text, ast = s.split_asts[k]
                notes = []
                ok = ctx.ev(ast, notes)
                lines.append(f"{t['split'].format(drg=drg)}: {text} -> {t['true'] if ok else t['false']}"
                             + (f"  [{'; '.join(notes)}]" if notes else ""))
                ctx.steps.append({"level": "split", "name": drg, "kind": "drg", "rule": text, "holds": bool(ok), "notes": notes})
                if ok:
                    return drg, st
            ctx.px = routing_px
            if s.step_kinds[st] == "adrg":
                return s.results[int(s.arrays["step_nosplit"][st])], st
    return "0000", (-1 if first_mdc < 0 else -2 - first_mdc)


def _reject_traced(ctx, t, lines) -> int:
    """FORMAT.md 5.4: the stat of the first reject rule that holds (0: none)."""
    for k, (seq, status, text, ast) in enumerate(ctx.s.reject_asts):
        notes: list = []
        ok = ctx.ev(ast, notes)
        lines.append(f"{t['reject'].format(seq=seq, status=status)}: {text} -> {t['true'] if ok else t['false']}"
                     + (f"  [{'; '.join(notes)}]" if notes else ""))
        ctx.steps.append({"level": "reject", "name": str(seq), "kind": "reject", "rule": text, "holds": bool(ok), "notes": notes})
        if ok:
            return STAT_REJECT + k
    return 0


def explain(record, scheme, *, map_codes: bool = False, lang: str = "zh") -> Explanation:
    """Group one record and return the trace of every rule tried.

    Parameters
    ----------
    record : dict, pandas.Series or one-row pyarrow.Table
        Canonical fields (or aliases); ``dx``/``px`` as lists or ``A|B`` strings.
    scheme : CompiledScheme or str
    map_codes : bool
        Convert codes with the scheme's maps first (FORMAT.md 5.2).
    lang : {"zh", "en"}

    Examples
    --------
    >>> e = explain({"sex": 1, "age_years": 60, "dx": ["I21.000"], "px": []}, scheme)  # doctest: +SKIP
    >>> print(e)  # doctest: +SKIP
    """
    from .columns import canonicalize
    from .decode import decode, warnings_column
    from .records import encode
    from .scheme import load_scheme

    if isinstance(scheme, (str, bytes)) or hasattr(scheme, "__fspath__"):
        scheme = load_scheme(scheme)
    if lang not in EXPLAIN:
        raise ValueError(f"lang={lang!r} is not supported; use 'zh' (default) or 'en'")
    t = EXPLAIN[lang]
    table = canonicalize(_record_table(record))
    enc = encode(table, scheme, map_mode=map_codes)
    dx = enc.dx[enc.dx_off[0]:enc.dx_off[1]]
    px = enc.px[enc.px_off[0]:enc.px_off[1]]
    ctx = _Ctx(scheme, dx, px, enc.fields[0], enc.sids[0], enc.lit_rank, enc.empty_rank)
    ctx.day_surgery_words = t["day_surgery"]
    lines = [
        f"{t['input']}: dx={table.column('dx')[0].as_py()} px={table.column('px')[0].as_py() if 'px' in table.column_names else []}",
        f"{t['prepared']}: dx={[ctx.code(c) for c in ctx.dx]} px={[ctx.code(c) for c in ctx.px]}",
    ]
    from .kernel import input_check

    stat = int(enc.pre_stat[0])
    if stat == 0:
        stat = int(input_check(enc.fields, 0, enc.dx_off[0], enc.dx_off[1], scheme.arrays["flags"][0]))
    if stat == 0:
        stat = _reject_traced(ctx, t, lines)
    res_code, info = "0000", -1
    if stat == 0:
        res_code, info = _group_traced(ctx, t, lines)
        if res_code == "0000" and scheme.meta.get("retry_secondary_px_alone") and len(ctx.px) > 1:
            full_px = ctx.px
            for p in full_px[1:]:
                lines.append(t["retry"].format(code=ctx.code(p)))
                ctx.steps.append({"level": "retry", "name": ctx.code(p), "kind": "px_alone", "rule": "", "holds": True, "notes": []})
                ctx.px = [p]
                res_code, info = _group_traced(ctx, t, lines)
                if res_code != "0000":
                    break
            ctx.px = full_px
    res = np.array([scheme.results.index(res_code) if stat == 0 else 0], dtype=np.int32)
    cols = decode(scheme, res, np.array([stat], dtype=np.int8), np.array([info], dtype=np.int32), lang=lang)
    out = {k: v.dictionary_decode()[0].as_py() for k, v in cols.items()}
    warn = warnings_column(enc, scheme, map_codes, lang)[0].as_py()
    if stat and stat < STAT_REJECT:
        lines.append((t["map_fail"] if stat >= STAT_DX_MAP else t["check_fail"]).format(why=out["reason"]))
    lines.append(f"{t['result']}: {out['status']} {out['mdc']} {out['adrg']} {out['drg']} {out['drg_name']}"
                 + (f" ({out['reason']})" if out["reason"] else "") + (f" [{warn}]" if warn else ""))
    return Explanation(warnings=warn, lines=lines, steps=ctx.steps, **out)
