"""Load and validate a scheme directory (FORMAT.md), hash it, and cache its compiled form.

``load_scheme(path)`` is the one entry point: it hashes the tables, returns the
cached :class:`~grouper.compile.CompiledScheme` when one exists for that hash,
and otherwise reads, validates and compiles the tables and stores the result.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from .atoms import BY_NODE
from .language import RuleError
from .rules import parse_rule, walk


def _engine_version() -> str:
    """Hash of the modules that define the compiled form: any change to them invalidates the cache."""
    h = hashlib.sha256()
    here = Path(__file__).parent
    names = ["rules.py", "scheme.py", "compile.py", "cache.py", "language.py", "codes.py"]
    for name in names + sorted(p.relative_to(here).as_posix() for p in here.glob("atoms/*.py")):
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


ENGINE_VERSION = _engine_version()

TABLES = {
    "meta.csv": ("key", "value"),
    "mdc.csv": ("order", "mdc", "rule"),
    "adrg.csv": ("mdc", "seq", "step", "kind", "adrg", "rule"),
    "drg.csv": ("step", "seq", "drg", "rule"),
    "lists.csv": ("list", "code"),
    "tagged_lists.csv": ("list", "code", "tag"),
    "region_lists.csv": ("list", "code", "region"),
    "mcc.csv": ("code", "exclusion_id"),
    "cc.csv": ("code", "exclusion_id"),
    "cc_exclusion.csv": ("pdx", "exclusion_id"),
    "or_procedures.csv": ("code", "name"),
    "drg_names.csv": ("drg", "name"),
    "dx_codes.csv": ("code", "name"),
    "px_codes.csv": ("code", "name"),
    "dx_map.csv": ("from", "to"),
    "px_map.csv": ("from", "to"),
    "reject.csv": ("seq", "status", "rule"),
}
REQUIRED = ("mdc.csv", "adrg.csv", "drg.csv")
STEP_KINDS = ("adrg", "adrg_next", "qy")
BOOL_KEYS = ("missing_age_days_weight_as_zero", "retry_secondary_px_alone", "medical_only_without_ppx", "day_surgery_no_cc")
INPUT_CHECKS = ("sex", "age_years", "age_days", "weight_g", "dx")  # FORMAT.md 5.3, in order
CHOICES = {"output_no_split": ("adrg", "0000"), "output_qy_adrg": ("QY", "code")}
MAX_REJECT_RULES = 100
# The national CHS-DRG 1.1 tables (public) ship with the package; regional schemes never do.
DEFAULT_SCHEME = str(Path(__file__).parent / "schemes" / "chs-drg-1.1")
FORMAT_DOC = str(Path(__file__).parent / "schemes" / "FORMAT.md")


class SchemeError(ValueError):
    """A scheme directory that does not follow FORMAT.md; the message names file, row, column and fix."""


@dataclass
class SchemeTables:
    """The validated tables of one scheme, as plain Python rows."""

    path: str
    digest: str
    meta: dict
    mdcs: list  # (order, mdc, rule_text, ast)
    steps: list  # (mdc, seq, step, kind, adrg, rule_text, ast), grouped by MDC order then seq
    splits: dict  # step -> [(seq, drg, rule_text, ast)] sorted by seq
    lists: dict  # name -> [code]
    tagged: dict  # name -> [(code, tag)]
    regions: dict  # name -> [(code, region)]
    mcc: list  # [(code, exclusion_id)]
    cc: list
    cc_exclusion: list  # [(pdx, exclusion_id)]
    or_codes: list
    drg_names: dict
    dx_codes: list
    px_codes: list
    dx_map: list  # [(from, to)]
    px_map: list
    rejects: list = field(default_factory=list)  # [RejectRow] in seq order
    warnings: list = field(default_factory=list)


def scheme_digest(path: str | os.PathLike) -> str:
    """Content hash of the scheme tables (file names and bytes), plus the engine version."""
    root = Path(path)
    h = hashlib.sha256(f"drg-engine-{ENGINE_VERSION}".encode())
    for name in sorted(TABLES):
        p = root / name
        if p.exists():
            h.update(name.encode() + b"\0")
            h.update(p.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


def _read_table(root: Path, name: str) -> list[tuple[int, dict]]:
    cols = TABLES[name]
    p = root / name
    if not p.exists():
        if name in REQUIRED:
            raise SchemeError(f"{p}: file missing; a scheme directory needs {', '.join(REQUIRED)} (see FORMAT.md section 1)")
        return []
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SchemeError(f"{p}: not UTF-8 ({e}); save the table as UTF-8 CSV") from None
    # a rule with a long inline code set can pass the csv module's 128 KB default field limit
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 26))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise SchemeError(f"{p}: empty file; write at least the header row {','.join(cols)}") from None
    missing = [c for c in cols if c not in header]
    if missing:
        raise SchemeError(f"{p}: row 1 (header): column(s) {', '.join(missing)} missing; the header must be {','.join(cols)}")
    idx = [header.index(c) for c in cols]
    rows = []
    for lineno, rec in enumerate(reader, start=2):
        if not rec:
            continue
        if len(rec) < len(header):
            raise SchemeError(f"{p}: row {lineno}: {len(rec)} fields, expected {len(header)}; quote cells that contain commas")
        rows.append((lineno, {c: rec[i] for c, i in zip(cols, idx)}))
    return rows


def _int(p, lineno, col, value):
    try:
        return int(value)
    except ValueError:
        raise SchemeError(f"{p}: row {lineno}, column {col}: {value!r} is not an integer; write a whole number") from None


def _parse(p, lineno, text):
    try:
        return parse_rule(text)
    except RuleError as e:
        shown = repr(text) if len(text) <= 120 else repr(text[:100]) + f" ... ({len(text):,} characters)"
        raise SchemeError(f"{p}: row {lineno}, column rule: {e} in {shown}; fix the rule (grammar in FORMAT.md section 4)") from None


class MdcRow(NamedTuple):
    order: int
    mdc: str
    text: str      # the rule as written
    rule: tuple    # the parsed rule
    line: int      # row in mdc.csv


class StepRow(NamedTuple):
    mdc: str
    seq: int
    step: str
    kind: str
    adrg: str
    text: str
    rule: tuple
    line: int


class SplitRow(NamedTuple):
    seq: int
    drg: str
    text: str
    rule: tuple
    line: int


def _read_meta(root: Path, rows) -> dict:
    meta = {r["key"]: r["value"] for _, r in rows}
    for key in BOOL_KEYS:
        v = meta.get(key, "false").strip().lower()
        if v not in ("true", "false"):
            raise SchemeError(f"{root / 'meta.csv'}: key {key}: value {meta[key]!r} must be true or false")
        meta[key] = v == "true"
    rejected = meta.get("output_codes_rejected", "0000|00|0000").split("|")
    if len(rejected) != 3:
        raise SchemeError(f"{root / 'meta.csv'}: key output_codes_rejected: {meta['output_codes_rejected']!r} must be mdc|adrg|drg, e.g. 0000|00|0000")
    meta["output_codes_rejected"] = tuple(rejected)
    meta.setdefault("output_drg_fail", "0000")
    meta.setdefault("output_drg_fail_in_mdc", "0000")
    checks = meta.get("input_checks", "|".join(INPUT_CHECKS)).strip()
    checks = tuple(c.strip() for c in checks.split("|")) if checks else ()
    unknown = [c for c in checks if c not in INPUT_CHECKS]
    if unknown:
        raise SchemeError(f"{root / 'meta.csv'}: key input_checks: {unknown[0]!r} is not a check; write some of "
                          f"{'|'.join(INPUT_CHECKS)} (FORMAT.md 5.3)")
    meta["input_checks"] = checks
    for key, allowed in CHOICES.items():
        meta.setdefault(key, allowed[0])
        if meta[key] not in allowed:
            raise SchemeError(f"{root / 'meta.csv'}: key {key}: {meta[key]!r} must be one of {', '.join(allowed)}")
    name = meta.get("null_ppx_list", "").strip().lstrip("@")
    meta["null_ppx_list"] = name
    return meta


class RejectRow(NamedTuple):
    seq: int
    status: str
    text: str
    rule: tuple
    line: int


def _read_rejects(p: Path, rows) -> list:
    """The reject step (FORMAT.md 5.4): (seq, status, rule text, rule, row) in seq order."""
    out = []
    for lineno, r in rows:
        if not r["status"].strip():
            raise SchemeError(f"{p}: row {lineno}, column status: empty; write the status the record ends with")
        out.append(RejectRow(_int(p, lineno, "seq", r["seq"]), r["status"].strip(), r["rule"], _parse(p, lineno, r["rule"]), lineno))
    out.sort(key=lambda r: r.seq)
    seqs = [r.seq for r in out]
    if len(set(seqs)) != len(seqs):
        raise SchemeError(f"{p}: column seq has a value used twice; give each reject rule its own seq")
    if len(out) > MAX_REJECT_RULES:
        raise SchemeError(f"{p}: {len(out)} reject rules; at most {MAX_REJECT_RULES} (join rules with 'or')")
    return out


def _read_mdcs(p: Path, rows) -> list:
    """(order, mdc, rule text, rule, row) in MDC order."""
    mdcs, seen = [], {}
    for lineno, r in rows:
        order = _int(p, lineno, "order", r["order"])
        if r["mdc"] in seen:
            raise SchemeError(f"{p}: row {lineno}, column mdc: {r['mdc']!r} already defined on row {seen[r['mdc']]}; each MDC appears once")
        if len(r["mdc"]) < 4:
            raise SchemeError(f"{p}: row {lineno}, column mdc: {r['mdc']!r} must look like MDCA (MDC + letter)")
        seen[r["mdc"]] = lineno
        mdcs.append(MdcRow(order, r["mdc"], r["rule"], _parse(p, lineno, r["rule"]), lineno))
    orders = [m.order for m in mdcs]
    if len(set(orders)) != len(orders):
        dup = sorted(o for o in set(orders) if orders.count(o) > 1)[0]
        raise SchemeError(f"{p}: column order: value {dup} used twice; give each MDC its own order")
    return sorted(mdcs, key=lambda m: m.order)


def _read_steps(p: Path, rows, mdcs: list) -> list:
    """(mdc, seq, step, kind, adrg, rule text, rule, row), MDC by MDC in seq order."""
    by_mdc: dict[str, list] = {m.mdc: [] for m in mdcs}
    step_names = {}
    for lineno, r in rows:
        if r["mdc"] not in by_mdc:
            raise SchemeError(f"{p}: row {lineno}, column mdc: {r['mdc']!r} is not in mdc.csv; add it there or fix the name")
        if r["kind"] not in STEP_KINDS:
            raise SchemeError(f"{p}: row {lineno}, column kind: {r['kind']!r} must be one of {', '.join(STEP_KINDS)}")
        if r["step"] in step_names:
            raise SchemeError(f"{p}: row {lineno}, column step: {r['step']!r} already used on row {step_names[r['step']]}; step ids are unique")
        if not r["adrg"]:
            raise SchemeError(f"{p}: row {lineno}, column adrg: empty; write the ADRG (or QY) code")
        step_names[r["step"]] = lineno
        seq = _int(p, lineno, "seq", r["seq"])
        by_mdc[r["mdc"]].append(StepRow(r["mdc"], seq, r["step"], r["kind"], r["adrg"], r["rule"], _parse(p, lineno, r["rule"]), lineno))
    steps = []
    for m in mdcs:
        ordered = sorted(by_mdc[m.mdc], key=lambda s: s.seq)
        seqs = [s.seq for s in ordered]
        if len(set(seqs)) != len(seqs):
            raise SchemeError(f"{p}: MDC {m.mdc}: column seq has a value used twice; give each step of an MDC its own seq")
        steps.extend(ordered)
    return steps


def _read_splits(p: Path, rows, steps: list) -> dict:
    """step -> [(seq, drg, rule text, rule, row)] in seq order."""
    splits: dict[str, list] = {s.step: [] for s in steps}
    for lineno, r in rows:
        if r["step"] not in splits:
            raise SchemeError(f"{p}: row {lineno}, column step: {r['step']!r} is not a step of adrg.csv; fix the step id")
        if not r["drg"]:
            raise SchemeError(f"{p}: row {lineno}, column drg: empty; write the DRG code")
        seq = _int(p, lineno, "seq", r["seq"])
        splits[r["step"]].append(SplitRow(seq, r["drg"], r["rule"], _parse(p, lineno, r["rule"]), lineno))
    for name, ordered in splits.items():
        ordered.sort(key=lambda s: s.seq)
        seqs = [s.seq for s in ordered]
        if len(set(seqs)) != len(seqs):
            raise SchemeError(f"{p}: step {name}: column seq has a value used twice; give each split of a step its own seq")
    return splits


def _grouped(rows, *fields) -> dict:
    out: dict[str, list] = {}
    for _, r in rows:
        out.setdefault(r["list"], []).append(r[fields[0]] if len(fields) == 1 else tuple(r[f] for f in fields))
    return out


def _empty_list_warnings(mdcs, steps, splits, lists, tagged, regions, rejects=()) -> list:
    """Lists that rules name but the tables do not define denote the empty list (FORMAT.md 3); that is
    legal, but usually a typo, so `drg scheme check` reports it."""
    warnings = []
    defined = {"list": lists, "tagged list": tagged, "region list": regions}
    for rule_ast, where in [(m.rule, f"mdc.csv {m.mdc}") for m in mdcs] + [(s.rule, f"adrg.csv {s.step}") for s in steps] + [
        (sp.rule, f"drg.csv {sp.drg}") for rows in splits.values() for sp in rows] + [
        (r.rule, f"reject.csv {r.seq}") for r in rejects
    ]:
        for node in walk(rule_ast):
            if node[0] in BY_NODE:
                for kind, name in BY_NODE[node[0]].refs(node):
                    if name not in defined[kind]:
                        warnings.append(f"{where}: {kind} @{name} has no rows (treated as empty)")
    return warnings


def read_tables(path: str | os.PathLike, digest: str | None = None) -> SchemeTables:
    """Read and validate every table of a scheme directory."""
    root = Path(path)
    if not root.is_dir():
        raise SchemeError(f"{root}: not a directory; pass a scheme directory (with mdc.csv, adrg.csv, drg.csv) via --scheme or DRG_SCHEME")
    t = {name: _read_table(root, name) for name in TABLES}
    meta = _read_meta(root, t["meta.csv"])
    mdcs = _read_mdcs(root / "mdc.csv", t["mdc.csv"])
    steps = _read_steps(root / "adrg.csv", t["adrg.csv"], mdcs)
    splits = _read_splits(root / "drg.csv", t["drg.csv"], steps)
    lists = _grouped(t["lists.csv"], "code")
    tagged = _grouped(t["tagged_lists.csv"], "code", "tag")
    regions = _grouped(t["region_lists.csv"], "code", "region")
    rejects = _read_rejects(root / "reject.csv", t["reject.csv"])
    return SchemeTables(
        path=str(root),
        digest=digest or scheme_digest(root),
        meta=meta,
        mdcs=mdcs,
        steps=steps,
        splits=splits,
        lists=lists,
        tagged=tagged,
        regions=regions,
        mcc=[(r["code"], r["exclusion_id"]) for _, r in t["mcc.csv"]],
        cc=[(r["code"], r["exclusion_id"]) for _, r in t["cc.csv"]],
        cc_exclusion=[(r["pdx"], r["exclusion_id"]) for _, r in t["cc_exclusion.csv"]],
        or_codes=[r["code"] for _, r in t["or_procedures.csv"]],
        drg_names={r["drg"]: r["name"] for _, r in t["drg_names.csv"]},
        dx_codes=[r["code"] for _, r in t["dx_codes.csv"]],
        px_codes=[r["code"] for _, r in t["px_codes.csv"]],
        dx_map=[(r["from"], r["to"]) for _, r in t["dx_map.csv"]],
        px_map=[(r["from"], r["to"]) for _, r in t["px_map.csv"]],
        rejects=rejects,
        warnings=_empty_list_warnings(mdcs, steps, splits, lists, tagged, regions, rejects),
    )


def load_scheme(path: str | os.PathLike | None = None, *, use_cache: bool = True):
    """Load a scheme directory and return its compiled form.

    Parameters
    ----------
    path : str or path-like, optional
        Scheme directory in the format of FORMAT.md. Defaults to the
        ``DRG_SCHEME`` environment variable, else the national CHS-DRG 1.1
        shipped with the package (:data:`DEFAULT_SCHEME`).
    use_cache : bool, default True
        Reuse (and store) the compiled form keyed by the tables' content hash
        in ``DRG_CACHE_DIR`` (default ``~/.cache/drg-toolkit``).

    Returns
    -------
    CompiledScheme

    Examples
    --------
    >>> scheme = load_scheme("../shared/schemes/chs-drg-1.1")  # doctest: +SKIP
    >>> scheme.summary()["drg"]  # doctest: +SKIP
    628
    """
    from .cache import load_compiled, save_compiled
    from .compile import compile_scheme

    if path is None:
        path = os.environ.get("DRG_SCHEME") or DEFAULT_SCHEME
    root = Path(path)
    if not root.is_dir():
        raise SchemeError(f"{root}: not a directory; pass a scheme directory (with mdc.csv, adrg.csv, drg.csv) via --scheme or DRG_SCHEME")
    digest = scheme_digest(root)
    # .npz read without pickle and checked against its content digest; only from a folder no one else can write
    from .cache import trusted_cache_dir

    folder = trusted_cache_dir() if use_cache else None
    use_cache = folder is not None
    target = folder / f"{digest}.npz" if use_cache else None
    if use_cache:
        cached = load_compiled(target, digest)
        if cached is not None:
            cached.path = str(root)
            return cached
    compiled = compile_scheme(read_tables(root, digest))
    if use_cache:
        try:
            save_compiled(compiled, target)
        except OSError:  # read-only home: run without a cache
            pass
    return compiled
