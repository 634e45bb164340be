"""Run the rules on a batch and write what they found as issue rows, with ``affects_grouping``: whether fixing
the issue can change the case's DRG, found by regrouping the case with the offending code removed (or, for an
unknown code the scheme's map converts, replaced by its conversion) or the offending field blanked."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grouper.columns import CANONICAL

from .kinds import KINDS
from .records import Batch, SchemeCodes

ISSUE_SCHEMA = pa.schema([("row", pa.int64()), ("case_id", pa.string()), ("hospital_id", pa.string()),
                          ("dept", pa.string()), ("rule_id", pa.string()), ("severity", pa.string()),
                          ("field", pa.string()), ("value", pa.string()), ("message", pa.string()),
                          ("affects_grouping", pa.bool_())])
# the fields the grouper reads besides the codes: blanking one may change the group
GROUPER_FIELDS = ("sex", "age_years", "age_days", "weight_g", "los_days", "leaving_type", "icu_hours", "dept")


def _touches(rule) -> tuple[bool, str | None]:
    """(whether an issue of ``rule`` is about something the grouper reads, the grouper's field its fix blanks)."""
    blank = next((x for x in rule.fields if x in GROUPER_FIELDS), None)
    return KINDS[rule.kind].code or blank is not None or rule.field in ("dx", "px"), blank


class Checker:
    """The rules, ready to run on batches: ``check(table)`` -> (issues table, the batch as the rules read it).

    Rules whose columns the input lacks are not applied; :attr:`skipped` names them for the run's summary."""

    def __init__(self, scheme, rules: list, *, lang: str = "zh", regroup: bool = True, aliases: dict | None = None):
        self.scheme = scheme
        self.rules = list(rules)
        self.lang = lang
        self.regroup = regroup
        self.aliases = aliases
        self.applied: set = set()
        self.skipped: set = set()
        self.scheme_codes = SchemeCodes(scheme)

    def check(self, table: pa.Table, first_row: int = 0, skip_kinds: tuple = ()) -> tuple[pa.Table, Batch]:
        """Issues of ``table`` (rows numbered from ``first_row`` + 1), ordered by row, then rule, then code."""
        b = Batch(table, self.scheme, first_row, self.aliases, self.scheme_codes)
        found = []
        for order, rule in enumerate(self.rules):
            if rule.kind in skip_kinds:
                continue
            f = KINDS[rule.kind].find(rule, b)
            if f is None:
                self.skipped.add(rule.rule_id)
                continue
            self.applied.add(rule.rule_id)
            if len(f.rows):
                found.append((order, rule, f))
        return self.issues(b, found), b

    def issues(self, b: Batch, found: list) -> pa.Table:
        if not found:
            return ISSUE_SCHEMA.empty_table()
        rows = np.concatenate([f.rows for _, _, f in found])
        order = np.concatenate([np.full(len(f.rows), o) for o, _, f in found])
        element = np.concatenate([f.elements if f.elements is not None else np.zeros(len(f.rows), np.int64)
                                  for _, _, f in found])
        rule_of = np.concatenate([np.full(len(f.rows), i) for i, (_, _, f) in enumerate(found)])
        affects = self.affects_grouping(b, found) if self.regroup else np.zeros(len(rows), dtype=bool)
        sort = np.lexsort((element, order, rows))
        values = pa.concat_arrays([pc.cast(f.values, pa.string()) for _, _, f in found]).take(pa.array(sort))
        rules = [r for _, r, _ in found]
        pick = rule_of[sort]

        def per_rule(texts):
            return pa.DictionaryArray.from_arrays(pa.array(pick.astype(np.int32)), pa.array(texts, pa.string())).dictionary_decode()

        taken = pa.array(rows[sort])
        return pa.table({
            "row": pa.array(rows[sort] + b.first_row + 1, pa.int64()),
            "case_id": self.take_text(b, "case_id", taken), "hospital_id": self.take_text(b, "hospital_id", taken),
            "dept": self.take_text(b, "dept", taken),
            "rule_id": per_rule([r.rule_id for r in rules]), "severity": per_rule([r.severity for r in rules]),
            "field": per_rule([r.field for r in rules]), "value": values,
            "message": per_rule([r.message(self.lang) for r in rules]),
            "affects_grouping": pa.array(affects[sort], pa.bool_()),
        }, schema=ISSUE_SCHEMA)

    @staticmethod
    def take_text(b: Batch, field: str, rows: pa.Array) -> pa.Array:
        text = b.text(field, rows)
        return pa.nulls(len(rows), pa.string()) if text is None else text

    def affects_grouping(self, b: Batch, found: list) -> np.ndarray:
        """Per issue (in ``found``'s order): the case's DRG changes when the issue is fixed as far as a rule knows
        how (code removed or converted; field blanked), or the case cannot be grouped as it is. The issue rows are
        encoded once; each fix is an edit of their integer codes (``grouper.api.group_edited``)."""
        from grouper.api import group_edited
        from grouper.records import encode

        rows = np.concatenate([f.rows for _, _, f in found])
        unique_rows, inverse = np.unique(rows, return_inverse=True)
        enc = encode(self._grouping_table(b, unique_rows), self.scheme)
        if any(v.any() for v in enc.split_rows.values()):  # a code split at , or |: positions differ from ours
            return self._affects_by_tables(b, found)
        drg_of, ok_of = self._outcome_words()
        base = group_edited(enc, self.scheme, np.arange(len(unique_rows)))
        base_drg = drg_of[base][inverse]
        out = ~ok_of[base][inverse]
        touches = np.zeros(len(rows), dtype=bool)
        start = 0
        for _, rule, f in found:
            k, local = len(f.rows), inverse[start:start + len(f.rows)]
            touches[start:start + k], blank = _touches(rule)
            edited = None
            if KINDS[rule.kind].fix == "add":
                pass
            elif f.elements is not None:
                c = b.codes(f.which)
                off_in = enc.dx_in_off if f.which == "dx" else enc.px_in_off
                demote = KINDS[rule.kind].fix == "demote"
                edited = group_edited(enc, self.scheme, local, which=f.which, drop=off_in[local] + c.pos[f.elements],
                                      replace=None if demote else b.conversions(f.which)[c.idx[f.elements]], demote=demote)
            elif blank:
                edited = group_edited(enc, self.scheme, local, blank=blank)
            if edited is not None:
                out[start:start + k] |= drg_of[edited] != base_drg[start:start + k]
            start += k
        return out & touches

    def _outcome_words(self) -> tuple[np.ndarray, np.ndarray]:
        """Per outcome id: a number for its DRG code (equal codes, equal numbers) and whether it is a grouped case."""
        if not hasattr(self, "_words"):
            from grouper.decode import outcome_rows

            rows_of = outcome_rows(self.scheme)
            _, drg_id = np.unique(np.array([r[4] or "" for r in rows_of], dtype=object), return_inverse=True)
            self._words = (drg_id, np.array([r[1] == "ok" for r in rows_of]))
        return self._words

    def _affects_by_tables(self, b: Batch, found: list) -> np.ndarray:
        """:meth:`affects_grouping` by grouping edited tables (a batch whose codes the grouper splits at , or |)."""
        from grouper.api import group_edited
        from grouper.records import encode

        base = self._grouping_table(b, np.arange(b.n))
        variants, where = [], []
        rows = np.concatenate([f.rows for _, _, f in found])
        touches = np.zeros(len(rows), dtype=bool)
        start = 0
        for _, rule, f in found:
            k = len(f.rows)
            touches[start:start + k], blank = _touches(rule)
            if KINDS[rule.kind].fix == "add" or (f.elements is None and not blank):
                pass
            elif f.elements is not None:
                variants.append(self._without_code(b, base, f, demote=KINDS[rule.kind].fix == "demote"))
                where.append((start, k))
            else:
                t = base.take(pa.array(f.rows))
                if blank in t.column_names:
                    t = t.set_column(t.column_names.index(blank), blank, pa.nulls(k, t.schema.field(blank).type))
                variants.append(t)
                where.append((start, k))
            start += k
        unique_rows, inverse = np.unique(rows, return_inverse=True)
        table = pa.concat_tables([base.take(pa.array(unique_rows))] + variants)
        outcome = group_edited(encode(table, self.scheme), self.scheme, np.arange(table.num_rows))
        drg_of, ok_of = self._outcome_words()
        drg, ok = drg_of[outcome], ok_of[outcome]
        m = len(unique_rows)
        base_drg = drg[:m][inverse]
        out = ~ok[:m][inverse]
        at = m
        for s, k in where:
            out[s:s + k] |= drg[at:at + k] != base_drg[s:s + k]
            at += k
        return out & touches

    @staticmethod
    def _grouping_table(b: Batch, rows: np.ndarray) -> pa.Table:
        """The grouping columns of ``rows`` (canonical, dx/px as the rules read them), ready for ``encode``."""
        taken = pa.array(rows)
        cols = {}
        for name in CANONICAL:
            if name in ("dx", "px"):
                cols[name] = b.codes(name).lists(rows)
            elif name != "case_id" and name in b.canon.column_names:
                cols[name] = b.canon.column(name).take(taken)
        return pa.table(cols)

    def _without_code(self, b: Batch, base: pa.Table, f, demote: bool = False) -> pa.Table:
        """The issue rows' grouping records with the offending code removed, or replaced by the scheme's
        conversion of it (``dx_map``/``px_map``) where there is one, or (``demote``) moved to the end."""
        c = b.codes(f.which)
        rows, el = f.rows, f.elements
        target = np.full(len(el), -1) if demote else b.conversions(f.which)[c.idx[el]]
        has_rep = target >= 0
        lengths = c.off[rows + 1] - c.off[rows]
        which_issue = np.repeat(np.arange(len(rows)), lengths)
        first = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=first[1:])
        pos = c.off[rows][which_issue] + (np.arange(first[-1]) - first[which_issue])
        at_issue = pos == el[which_issue]
        flat = c.raw.take(pa.array(c.idx[pos]))
        if has_rep.any():
            rep = self.scheme.value_set.take(pa.array(np.maximum(target, 0)[which_issue]))
            flat = pc.if_else(pa.array(at_issue & has_rep[which_issue]), rep, flat)
        keep = ~at_issue | has_rep[which_issue]
        if demote:  # every code kept, the offending one last
            order = np.lexsort((np.arange(len(pos)), at_issue, which_issue))
            flat, keep = flat.take(pa.array(order)), np.ones(len(pos), dtype=bool)
            has_rep = np.ones(len(rows), dtype=bool)
        new_len = lengths - (~has_rep).astype(np.int64)
        off = np.zeros(len(rows) + 1, dtype=np.int32)
        np.cumsum(new_len, out=off[1:])
        t = base.take(pa.array(rows))
        return t.set_column(t.column_names.index(f.which), f.which,
                            pa.ListArray.from_arrays(pa.array(off), flat.filter(pa.array(keep))))


def issue_warnings(issues: pa.Table, n: int, first_row: int = 0, lang: str = "zh") -> pa.Array:
    """Per row of a batch of ``n`` rows: its issues as one text (``C301 N83.500：<message>; ...``, ``(affects
    grouping)`` marked), null for a row without any; for ``drg group --check``'s ``warnings``."""
    if not issues.num_rows:
        return pa.nulls(n, pa.string())
    rule = issues.column("rule_id")
    head = pc.coalesce(pc.binary_join_element_wise(rule, issues.column("value"), " "), rule)
    text = pc.binary_join_element_wise(head, issues.column("message"), "：" if lang == "zh" else ": ")
    mark = "（影响分组）" if lang == "zh" else " (affects grouping)"
    text = pc.if_else(issues.column("affects_grouping"), pc.binary_join_element_wise(text, pa.scalar(mark), ""), text)
    rows = issues.column("row").to_numpy() - 1 - first_row
    counts = np.bincount(rows, minlength=n)
    off = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=off[1:])
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(off), pc.cast(text, pa.string()).combine_chunks()
                                                     if isinstance(text, pa.ChunkedArray) else text), "; ")
    return pc.if_else(pa.array(counts > 0), joined, pa.scalar(None, pa.string()))


def with_issues(warnings, extra: pa.Array) -> pa.Array:
    """The grouper's warnings, then the check's (``; `` between), null where neither has any."""
    warnings = warnings.combine_chunks() if isinstance(warnings, pa.ChunkedArray) else warnings
    if pa.types.is_dictionary(warnings.type):
        warnings = warnings.dictionary_decode()
    both = pc.binary_join_element_wise(warnings, extra, "; ")
    return pc.if_else(pc.is_null(extra), warnings, pc.if_else(pc.is_null(warnings), extra, both))
