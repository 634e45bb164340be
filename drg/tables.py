"""Tables in and out of the analysis commands: grouped records read by column, the small CSV tables
options name (weights, grades, levels, factors, lists), and sets of result tables written as Parquet
plus one workbook."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .io import InputError


def output_folder(output: str, inputs, command: str):
    """The command's output folder, built beside ``output`` and swapped in as a unit; refused when it
    is, or holds, one of the ``inputs`` (files, folders or globs)."""
    from .atomic import OutputFolder

    files = []
    for spec in filter(None, inputs):
        if any(ch in spec for ch in "*?["):
            files += glob.glob(spec, recursive=True)
        elif os.path.isdir(spec):
            files += [str(p) for p in Path(spec).rglob("*") if p.is_file()] or [spec]
        else:
            files.append(spec)
    return OutputFolder(output, inputs=files, command=command)


def read_grouped(path: str, columns: list[str], mapping: dict | None = None) -> pd.DataFrame:
    """The ``columns`` (those present, under their canonical names or the aliases and ``mapping`` of
    :mod:`drg.contract`) of a grouped file, folder or glob, as pandas with canonical column names
    (dictionary columns arrive as Categoricals: evaluation works on their categories)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .contract import YEAR_FROM, add_year, read_plan
    from .io import input_files, read_table

    from . import progress

    kind, files = input_files(path)
    cols, rename = read_plan(path, columns, mapping)
    source = rename.get(YEAR_FROM)
    progress.phase(progress.word("read"))
    if kind == "parquet":
        tables = [pq.read_table(f, columns=cols) for f in files]
        t = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    else:
        t = read_table(path, columns=cols)
    return add_year(t.rename_columns([rename.get(c, c) for c in t.column_names]), source).to_pandas()


def only_hospitals(data, keep: set | None):
    """The rows (of a pyarrow Table) of the hospitals in ``keep`` (all rows when None)."""
    if keep is None:
        return data
    import pyarrow as pa
    import pyarrow.compute as pc

    col = pc.cast(data.column("hospital_id"), pa.string())
    return data.filter(pc.is_in(col, value_set=pa.array(sorted(keep))))


def write_tables(tables: dict, out_dir: str, lang: str, stem: str, workbook: dict | None = None,
                 kind: str | None = None) -> None:
    """Every table as Parquet in canonical column names and codes (the same file in every language: machines and
    `drg report` read it), and a workbook of ``workbook`` (default: the same tables) in ``lang`` for people (``kind``: a kind of table with words of its own, :func:`evaluation.words.label`)."""
    import pyarrow as pa

    from evaluation.words import label

    from .excel import write_workbook
    from .io import write_table_atomic

    from . import progress

    progress.phase(progress.word("write"))
    for name, df in tables.items():
        write_table_atomic(pa.Table.from_pandas(df, preserve_index=False), os.path.join(out_dir, f"{name}.parquet"))
    sheets = {k: label(v, lang, kind) for k, v in (tables if workbook is None else workbook).items()}
    write_workbook(sheets, os.path.join(out_dir, f"{stem}.xlsx"), lang=lang)


OPTION_CSV_MAX_BYTES = 512 << 20  # an option file (weights, hospitals, lists) is small; larger is not one

# headers of option files as offices write them (compared as drg group compares headers: NFKC, case, spaces)
OPTION_ALIASES = {
    "hospital_id": ("hospital_id", "医院编码", "机构编码", "医疗机构编码", "定点医疗机构编码", "医院代码", "机构代码"),
    "level": ("level", "级别", "医院级别", "医疗机构级别", "机构级别", "医院等级"),
    "name": ("name", "名称", "医院名称", "机构名称", "医疗机构名称"),
    "kind": ("kind", "类别", "医院类别", "机构类别"),
    "county": ("county", "县区", "区县", "所属县区"),
    "drg": ("drg", "drg编码", "drg组", "drg代码", "drg组编码"),
    "weight": ("weight", "权重", "相对权重", "rw"),
    "mean_cost": ("mean_cost", "例均费用", "平均费用"),
    "factor": ("factor", "系数", "质量系数"),
    "code": ("code", "编码", "手术编码", "手术操作编码"),
    "grade": ("grade", "手术级别", "级别"),
    "risk_level": ("risk_level", "风险等级", "死亡风险等级"),
    "supporter_id": ("supporter_id", "支援医院编码", "支援方"),
    "recipient_id": ("recipient_id", "受援医院编码", "受援方"),
    "program": ("program", "项目", "支援项目"),
}


def _text_of(raw: bytes, where: str, what: str) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark), else GBK/GB18030 as Chinese office tools save
    CSV; a binary file (NUL bytes) or text in neither is one line."""
    if b"\x00" in raw[:65536]:
        raise InputError(f"{where}: a binary file, not a CSV; pass a CSV with {what}")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{where}: neither UTF-8 nor GBK text; save it as CSV (UTF-8) with {what}")


def option_csv(path: str, option: str, need, what: str, *, ids=(), unique=(), optional=(),
               allow_empty: bool = False) -> pd.DataFrame:
    """A small CSV named by an option (the one reader of every option file: weights, hospitals, risk levels,
    special review, quality factors, pairs, procedure grades, basic care), every cell as text.

    UTF-8 or GBK; headers matched as ``drg group`` matches them (:data:`OPTION_ALIASES`: 医院编码, 权重, ...);
    one line ``drg: error`` naming ``option`` and saying it must hold ``what`` when the file is missing, not a
    regular file, binary, not CSV, without rows, lacks a column of ``need``, has a blank cell in a column of ``ids``
    or a value twice in a column of ``unique``."""
    import io

    import pandas.errors

    from grouper.columns import norm_header

    from evaluation.common import EvaluationError, option_file_bytes

    where = f"{option} {path}"
    try:
        raw = option_file_bytes(path, where, f"pass a CSV with {what}", OPTION_CSV_MAX_BYTES)
    except EvaluationError as e:
        raise InputError(str(e)) from None
    text = _text_of(raw, where, what)
    if not text.strip():
        raise InputError(f"{where}: the file is empty; pass a CSV with {what}")
    try:
        t = pd.read_csv(io.StringIO(text), dtype=str, skipinitialspace=True)
    except (pandas.errors.ParserError, pandas.errors.EmptyDataError, ValueError) as e:
        raise InputError(f"{where}: not a readable CSV ({str(e).splitlines()[0][:120]}); pass a CSV with {what}") from None
    t.columns = [str(c).strip() for c in t.columns]
    wanted = list(dict.fromkeys([*need, *ids, *unique, *optional]))
    rename = {}
    for canon in wanted:
        if canon in t.columns:
            continue
        names = {norm_header(a) for a in OPTION_ALIASES.get(canon, (canon,))}
        hit = [c for c in t.columns if norm_header(c) in names and c not in rename]
        if hit:
            rename[hit[0]] = canon
    t = t.rename(columns=rename)
    dup = sorted({c for c in t.columns if list(t.columns).count(c) > 1})
    if dup:
        raise InputError(f"{where}: the column {', '.join(dup)} appears twice; keep one")
    missing = [c for c in need if c not in t.columns]
    if missing:
        raise InputError(f"{where}: no column {', '.join(missing)}; give it columns {what}")
    if not len(t) and not allow_empty:
        raise InputError(f"{where}: has a header but no rows; pass a CSV with {what}")
    for c in ids:
        if c in t.columns:
            blank = t[c].isna() | (t[c].astype(str).str.strip() == "")
            if blank.any():
                raise InputError(f"{where}: row {int(np.flatnonzero(blank.to_numpy())[0]) + 2} has no {c}; "
                                 f"fill it or delete the row")
            t[c] = t[c].astype(str).str.strip()
    for c in unique:
        if c in t.columns:
            twice = t[c][t[c].duplicated()].dropna()
            if len(twice):
                from .terminal import clean

                raise InputError(f"{where}: {c} {clean(twice.iloc[0], 60)} is listed twice; keep one row for it")
    return t


def _numbers(t: pd.DataFrame, col: str, where: str, ok, rule: str, blank_ok: bool = False) -> pd.Series:
    """Column ``col`` as numbers; one line naming the first row whose value is not a number or fails ``ok`` (a
    blank cell passes when ``blank_ok``: an optional value)."""
    from .terminal import clean

    v = pd.to_numeric(t[col], errors="coerce")
    with np.errstate(invalid="ignore"):
        bad = ~ok(v.to_numpy(float)) | v.isna().to_numpy()
    if blank_ok:
        bad &= t[col].notna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        fix = "correct or empty it" if blank_ok else "correct the file"
        raise InputError(f"{where}: row {i + 2}: {col} {clean(t[col].iloc[i], 60)} is not {rule}; {fix}")
    return v


def procedure_grades(path: str) -> dict:
    """code -> surgical grade 1-4 (手术分级目录) from a CSV with columns code, grade."""
    where = f"--procedure-grades {path}"
    t = option_csv(path, "--procedure-grades", ("code", "grade"), "code, grade (1-4)", ids=("code",), unique=("code",))
    g = _numbers(t, "grade", where, lambda v: np.isin(v, [1, 2, 3, 4]), "a grade 1-4")
    return dict(zip(t["code"], g.astype(int)))


def risk_levels(path: str | None) -> pd.DataFrame | None:
    """A fixed DRG risk-level list (drg, risk_level 0-4), e.g. the national assessment's."""
    if not path:
        return None
    t = option_csv(path, "--risk-levels", ("drg", "risk_level"), "drg, risk_level (0-4)", ids=("drg",), unique=("drg",))
    _numbers(t, "risk_level", f"--risk-levels {path}", lambda v: np.isin(v, [0, 1, 2, 3, 4]), "a risk level 0-4")
    return t


def supplied_weights(path: str | None, option: str = "--weights") -> pd.DataFrame | None:
    """Published weights (drg, weight or rw[, mean_cost]) used instead of computed ones: a positive finite weight
    per DRG, each DRG once."""
    if not path:
        return None
    where = f"{option} {path}"
    t = option_csv(path, option, ("drg",), "drg, weight", ids=("drg",), unique=("drg",), optional=("weight", "mean_cost"))
    t.columns = [str(c).strip().lower() for c in t.columns]
    col = "weight" if "weight" in t.columns else "rw" if "rw" in t.columns else None
    if col is None:
        raise InputError(f"{where}: no weight column; give it columns drg, weight")
    t[col] = _numbers(t, col, where, lambda v: np.isfinite(v) & (v > 0) & (v <= 1000), "a weight (a number above 0, at most 1000)")
    if "mean_cost" in t.columns:
        from evaluation.common import COST_MAX_YUAN

        t["mean_cost"] = _numbers(t, "mean_cost", where, lambda v: np.isfinite(v) & (v > 0) & (v <= COST_MAX_YUAN),
                                  f"a cost in yuan (above 0, at most {COST_MAX_YUAN:g})", blank_ok=True)
    return t


def factors(path: str, option: str) -> dict:
    """hospital_id -> factor, from a CSV with columns hospital_id and factor (above 0, at most 100: the bounds of
    PaymentConfig.quality_factors)."""
    t = option_csv(path, option, ("hospital_id", "factor"), "hospital_id, factor (e.g. 1.02 for a 2% quality bonus)",
                   ids=("hospital_id",), unique=("hospital_id",))
    f = _numbers(t, "factor", f"{option} {path}", lambda v: np.isfinite(v) & (v > 0) & (v <= 100),
                 "a positive number (at most 100)")
    return dict(zip(t["hospital_id"], f.astype(float)))


CASE_ID_COLUMNS = ("case_id", "病案号", "清单流水号", "结算清单流水号")


def case_id_list(path: str, option: str) -> pd.Series:
    """The case ids of a CSV (``case_id`` or a Chinese alias), in file order: the special-review list."""
    what = "a case_id column (the case ids, in priority order)"
    t = option_csv(path, option, (), what)
    col = next((c for c in CASE_ID_COLUMNS if c in t.columns), None)
    if col is None:
        raise InputError(f"{option} {path}: no case_id column; give it {what}")
    ids = t[col].dropna().astype(str).str.strip()
    return ids[ids != ""]


def drg_list(path: str, option: str) -> list:
    """The ``drg`` column of a CSV (e.g. the basic-care list, 基层病种)."""
    t = option_csv(path, option, ("drg",), "a drg column (基层病种 list)", ids=("drg",))
    return list(dict.fromkeys(t["drg"]))


def support_pairs(path: str) -> pd.DataFrame:
    """Support pairs: supporter_id, recipient_id[, program, specialty_1, specialty_2, start_year]."""
    what = "supporter_id, recipient_id, program[, specialty_1, specialty_2, start_year]"
    pairs = option_csv(path, "--pairs", ("supporter_id", "recipient_id"), what, ids=("supporter_id", "recipient_id"),
                       optional=("program",))
    keep = ["supporter_id", "recipient_id", "program", "county", "specialty_1", "specialty_2", "start_year"]
    pairs = pairs[[c for c in keep if c in pairs.columns]].copy()  # other columns of the file play no part
    if "program" not in pairs.columns:
        pairs["program"] = "support"
    pairs["program"] = pairs["program"].fillna("support")
    if "start_year" in pairs.columns:
        _numbers(pairs, "start_year", f"--pairs {path}", lambda y: (y >= 1900) & (y <= 2200) & (y == np.floor(y)),
                 "a year from 1900 to 2200 (e.g. 2019)", blank_ok=True)
    return pairs
