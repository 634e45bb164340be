"""What `drg serve` does, without HTTP: group, explain, simulate and price records against one loaded scheme.

Everything a request needs is loaded once (the compiled scheme, its names in both languages, the code index, the
weights and payment rules) and shared by every request of the process. One record goes through
``grouper.single.group_one`` (microseconds; exactly ``drg group``'s result), a list of records through
``group_table`` as one table, as ``drg group`` reads a file.
"""

from __future__ import annotations

import numpy as np

from grouper.columns import CANONICAL, ColumnError, canonicalize, resolve_columns
from grouper.decode import RESULT_COLUMNS

from .codes import CodeIndex
from .records import RequestError, check_code, check_record, check_records, code_characters, cost_of, columns_table, field_kind, grouping_fields, records_table

MAX_ADDED = 50  # codes a what-if may add


class Service:
    """The loaded scheme and options of one `drg serve` process.

    Parameters
    ----------
    scheme : grouper.CompiledScheme
    weights : str, optional
        Weights CSV (``drg, weight[, mean_cost]``): results then carry ``rw`` and, with ``point_value`` or
        ``base_rate``, a ``payment_estimate``.
    point_value, base_rate, config, coefficient
        As ``drg explain``.
    map_codes : bool
        Convert codes with the scheme's maps first (FORMAT.md 5.2), as ``drg group --map-codes``.
    rules : str, optional
        A folder of rule tables added to the default quality-control rules (``drg check --rules``).
    """

    def __init__(self, scheme, *, weights: str | None = None, point_value: float | None = None,
                 base_rate: float | None = None, config: str | None = None, coefficient: float = 1.0,
                 map_codes: bool = False, rules: str | None = None):
        from grouper.api import warm_up
        from grouper.single import group_one

        from ..explain_words import Words

        self.scheme, self.map_codes, self.coefficient = scheme, map_codes, coefficient
        self.chars = code_characters(scheme)
        self.words = {lang: Words(str(scheme.path), lang) for lang in ("zh", "en")}
        zh = self.words["zh"]
        known = {k: [c for c, ok in zip(scheme.codes, scheme.arrays[k + "_known"]) if ok] for k in ("dx", "px")}
        self.codes = CodeIndex({"dx": zh.dx or {c: "" for c in known["dx"]}, "px": zh.px or {c: "" for c in known["px"]}})
        self.estimator = None
        if weights:
            from ..estimate import PaymentEstimator

            self.estimator = PaymentEstimator(weights, point_value=point_value, base_rate=base_rate, config=config)
        from ..check.engine import Checker
        from ..check.rules import load_rules

        checks = load_rules(rules)  # a bad rule table stops the start, as a bad weights file does
        self.checkers = {lang: Checker(scheme, checks, lang=lang) for lang in ("zh", "en")}
        warm_up(scheme, map_codes)
        group_one({"sex": 1, "age_years": 40, "dx": [known["dx"][0]] if known["dx"] else ["?"]}, scheme)
        self._group_one = group_one

    # -- grouping ---------------------------------------------------------------------------------------------
    def group(self, rec: dict, lang: str = "zh") -> dict:
        """One record's result (``status ... warnings``, ``rw`` and ``payment_estimate`` with weights)."""
        check_record(rec, chars=self.chars)
        try:
            out = self._group_one(grouping_fields(rec), self.scheme, map_codes=self.map_codes, lang=lang)
        except ColumnError as e:
            raise _refused(e) from None
        if self.estimator is not None:
            self._price([out], [rec])
        return out

    def group_many(self, body: dict, lang: str = "zh") -> list[dict]:
        """The results of ``body["records"]`` in order, exactly as ``drg group`` on a file of them."""
        cols = check_records(body, self.chars)
        recs = body["records"]
        if not recs:
            return []
        out = self._table_results(columns_table({k: v for k, v in cols.items() if field_kind(k) not in ("cost", "list")}, len(recs)), lang)
        if self.estimator is not None:
            self._price(out, recs)
        return out

    def _table_results(self, table, lang: str) -> list[dict]:
        from grouper.api import group_table

        try:
            res = group_table(table, self.scheme, map_codes=self.map_codes, lang=lang, only_results=True, keep_dictionary=False)
        except ColumnError as e:
            raise _refused(e) from None
        names = [c for c in (["case_id"] if "case_id" in res.column_names else []) + list(RESULT_COLUMNS)]
        cols = [res.column(c).to_pylist() for c in names]
        return [dict(zip(names, row)) for row in zip(*cols)]

    def _price(self, results: list, recs: list) -> None:
        """``rw`` on every result; ``payment_estimate`` too when a point value or base rate is loaded."""
        est = self.estimator
        if not est.priced:
            for r in results:
                r["rw"] = est.weight(r["drg"] or "")
            return
        found = [resolve_columns(list(r)) for r in recs]
        ests = est.estimate_many(
            [r["drg"] or "" for r in results], [r["status_code"] == "ok" for r in results],
            costs=[cost_of(r) for r in recs], los=[_num(r.get(f.get("los_days"))) for r, f in zip(recs, found)],
            leaving_types=[_text(r.get(f.get("leaving_type"))) for r, f in zip(recs, found)], coefficient=self.coefficient)
        for r, e in zip(results, ests):
            r["rw"] = e["weight"]
            r["payment_estimate"] = e

    # -- quality control ------------------------------------------------------------------------------------------
    def check(self, body: dict, lang: str = "zh") -> dict:
        """Every issue of a record (``{"issues": [...], "errors": n, "warnings": n}``), or of ``{"records": [...]}``
        (``{"results": [...]}`` in order), as ``drg check`` finds them; duplicates are looked for within the request."""
        one = not ("records" in body and len(body) == 1)
        if one:
            check_record(body, chars=self.chars)
            cols, n = {k: [v] for k, v in body.items()}, 1
        else:
            cols, n = check_records(body, self.chars), len(body["records"])
        out: list = [{"issues": [], "errors": 0, "warnings": 0} for _ in range(n)]
        if n:
            try:
                issues, _ = self.checkers[lang].check(columns_table(cols, n))
            except ColumnError as e:
                raise _refused(e) from None
            for t in issues.to_pylist():
                r = out[t.pop("row") - 1]
                for k in ("hospital_id", "dept"):
                    t.pop(k)
                r["issues"].append(t)
                r["errors" if t["severity"] == "error" else "warnings"] += 1
        return out[0] if one else {"results": out}

    # -- explain and simulate ---------------------------------------------------------------------------------
    def canonical(self, rec: dict) -> dict:
        """The record in canonical fields with ``dx``/``px`` as lists, as the grouper reads it."""
        check_record(rec, chars=self.chars)
        try:
            row = canonicalize(records_table([grouping_fields(rec)])).to_pylist()[0]
        except ColumnError as e:
            raise _refused(e) from None
        out = {k: row[k] for k in CANONICAL if k in row}
        out["dx"] = [c or "" for c in (row.get("dx") or [])]
        out["px"] = [c or "" for c in (row.get("px") or [])]
        return out

    def explain(self, rec: dict, lang: str = "zh") -> dict:
        """The result, the engine's trace (``trace``: its lines; ``steps``: each rule tried as data -- level, name,
        kind, rule, holds, notes) and the trace in words (``text``), as ``drg explain``."""
        import grouper

        from ..explain_words import explain_in_words

        canon = self.canonical(rec)
        e = grouper.explain(records_table([canon]), self.scheme, map_codes=self.map_codes, lang=lang)
        text = explain_in_words(e, str(self.scheme.path), canon["dx"], canon["px"], lang, self.words[lang])
        out = {k: getattr(e, k) for k in RESULT_COLUMNS}
        if self.estimator is not None:
            self._price([out], [rec])
            if self.estimator.priced:
                text += "\n" + self.estimator.words(out["payment_estimate"], lang)
        out.update(trace=e.lines, steps=e.steps, text=text)
        return out

    def simulate(self, body: dict, lang: str = "zh") -> dict:
        """The coder's what-if: the record as it is, then with each secondary diagnosis or procedure removed, each
        secondary diagnosis (procedure) taken as principal, and each code of ``add_dx``/``add_px`` added; every
        variant grouped (and priced), ranked by weight (highest first, the record's own order among equals)."""
        rec = body.get("record")
        if rec is None:
            raise RequestError('the body has no "record"', 'send {"record": {...}, "add_dx": ["E11.900"], "add_px": []}')
        adds = {}
        for key in ("add_dx", "add_px"):
            v = body.get(key) or []
            if not isinstance(v, list) or len(v) > MAX_ADDED or not all(isinstance(c, str) and 0 < len(c) <= 64 for c in v):
                raise RequestError(f"{key} is {str(v)[:60]}", f"{key} is a list of at most {MAX_ADDED} codes")
            for c in v:
                check_code(c, self.chars, "", key)
            adds[key] = v
        base = self.canonical(rec)
        variants = [("record", None, base)] + _variants(base, adds["add_dx"], adds["add_px"])
        results = self._table_results(records_table([v for _, _, v in variants]), lang)
        if self.estimator is not None:
            self._price(results, [{**v, **({"total_cost": cost_of(rec)} if cost_of(rec) is not None else {})} for _, _, v in variants])
        words = self.words[lang]
        rows = []
        for k, ((change, code, v), r) in enumerate(zip(variants, results)):
            r.pop("case_id", None)
            rows.append({"change": change, "code": code, "code_name": words.code(code) if code else None,
                         "dx": v["dx"], "px": v["px"], "changed": k > 0 and r["drg"] != results[0]["drg"], **r})
        head, rest = rows[0], rows[1:]
        rest.sort(key=lambda r: -(r.get("rw") if r.get("rw") is not None else -np.inf))
        return {"record": head, "variants": rest}

    def search(self, q: str, kind: str | None = None, limit: int = 20) -> list[dict]:
        if kind not in (None, "", "dx", "px"):
            raise RequestError(f"kind={kind[:20]!r}", "kind is dx, px or left out")
        if len(q) > 64:
            raise RequestError(f"q has {len(q):,} characters", "search with a code's start or part of its name (at most 64 characters)")
        if not 1 <= limit <= 100:
            raise RequestError(f"limit={limit}", "limit is a whole number from 1 to 100")
        return self.codes.search(q, kind or None, limit)

    def info(self) -> dict:
        s = self.scheme.summary()
        return {"scheme": {k: s[k] for k in ("id", "name", "mdc", "adrg", "drg")}, "weights": self.estimator is not None,
                "payment": None if self.estimator is None or not self.estimator.priced else
                ("points" if self.estimator.point_value is not None else "rate"), "map_codes": self.map_codes}


def _variants(base: dict, add_dx: list, add_px: list) -> list:
    out = []
    dx, px = base["dx"], base["px"]
    for i in range(1, len(dx)):
        out.append(("remove_dx", dx[i], {**base, "dx": dx[:i] + dx[i + 1:]}))
        out.append(("principal_dx", dx[i], {**base, "dx": [dx[i]] + dx[:i] + dx[i + 1:]}))
    for i in range(len(px)):
        out.append(("remove_px", px[i], {**base, "px": px[:i] + px[i + 1:]}))
        if i:
            out.append(("principal_px", px[i], {**base, "px": [px[i]] + px[:i] + px[i + 1:]}))
    out += [("add_dx", c, {**base, "dx": dx + [c]}) for c in add_dx if c not in dx]
    out += [("add_px", c, {**base, "px": px + [c]}) for c in add_px if c not in px]
    return out


def _refused(e: Exception) -> RequestError:
    """An engine refusal (``problem; fix``) as the request's refusal."""
    problem, _, fix = str(e).partition(";")
    return RequestError(problem, fix.strip() or "see GET /openapi.json for the record's fields")


def _num(v):
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def _text(v):
    return None if v is None else str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
