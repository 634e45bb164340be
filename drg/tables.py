"""Tables in and out of the analysis commands: grouped records read by column, the small CSV tables
options name (weights, grades, levels, factors, lists), and sets of result tables written as Parquet
plus one workbook."""

from __future__ import annotations

import glob
import os
from pathlib import Path

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

    from .contract import read_plan
    from .io import input_files, read_table

    kind, files = input_files(path)
    cols, rename = read_plan(path, columns, mapping)
    if kind == "parquet":
        tables = [pq.read_table(f, columns=cols) for f in files]
        t = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    else:
        t = read_table(path, columns=cols)
    return t.rename_columns([rename.get(c, c) for c in t.column_names]).to_pandas()


def only_hospitals(data, keep: set | None):
    """The rows (of a pyarrow Table) of the hospitals in ``keep`` (all rows when None)."""
    if keep is None:
        return data
    import pyarrow as pa
    import pyarrow.compute as pc

    col = pc.cast(data.column("hospital_id"), pa.string())
    return data.filter(pc.is_in(col, value_set=pa.array(sorted(keep))))


def write_tables(tables: dict, out_dir: str, lang: str, stem: str, workbook: dict | None = None) -> None:
    """Every table as Parquet, and a workbook of ``workbook`` (default: the same tables) for reading."""
    import pyarrow as pa

    from evaluation.common import label

    from .excel import write_workbook
    from .io import write_table_atomic

    labelled = {k: label(v, lang) for k, v in tables.items()}
    for name, df in labelled.items():
        write_table_atomic(pa.Table.from_pandas(df, preserve_index=False), os.path.join(out_dir, f"{name}.parquet"))
    sheets = labelled if workbook is None else {k: label(v, lang) for k, v in workbook.items()}
    write_workbook(sheets, os.path.join(out_dir, f"{stem}.xlsx"), lang=lang)


def option_csv(path: str, option: str, need, what: str, dtype=str) -> pd.DataFrame:
    """A small CSV named by an option, with the columns ``need``; one line naming ``what`` it must hold
    when the file is missing or lacks them."""
    if not os.path.exists(path):
        raise InputError(f"{option} {path}: no such file; pass a CSV with {what}")
    t = pd.read_csv(path, dtype=dtype)
    if not set(need) <= set(t.columns):
        raise InputError(f"{option} {path}: needs columns {what}")
    return t


def procedure_grades(path: str) -> dict:
    """code -> surgical grade 1-4 (手术分级目录) from a CSV with columns code, grade."""
    t = option_csv(path, "--procedure-grades", ("code", "grade"), "code, grade (1-4)", dtype={"code": str})
    g = pd.to_numeric(t["grade"], errors="coerce")
    if not g.isin([1, 2, 3, 4]).all():
        raise InputError(f"--procedure-grades {path}: needs columns code and grade with values 1-4")
    return dict(zip(t["code"], g.astype(int)))


def risk_levels(path: str | None) -> pd.DataFrame | None:
    """A fixed DRG risk-level list (drg, risk_level 0-4), e.g. the national assessment's."""
    if not path:
        return None
    t = option_csv(path, "--risk-levels", ("drg", "risk_level"), "drg, risk_level (0-4)", dtype={"drg": str})
    if not pd.to_numeric(t["risk_level"], errors="coerce").isin([0, 1, 2, 3, 4]).all():
        raise InputError(f"--risk-levels {path}: needs columns drg and risk_level with values 0-4")
    return t


def supplied_weights(path: str | None) -> pd.DataFrame | None:
    """Published weights (drg, weight or rw) used instead of computed ones."""
    if not path:
        return None
    t = option_csv(path, "--weights", ("drg",), "drg, weight", dtype={"drg": str})
    if not {"weight", "rw"} & set(map(str.lower, t.columns)):
        raise InputError(f"--weights {path}: needs columns drg and weight")
    return t


def factors(path: str, option: str) -> dict:
    """hospital_id -> factor, from a CSV with columns hospital_id and factor."""
    import numpy as np

    t = option_csv(path, option, ("hospital_id", "factor"), "hospital_id, factor (e.g. 1.02 for a 2% quality bonus)",
                   dtype={"hospital_id": str})
    f = pd.to_numeric(t["factor"], errors="coerce")
    if not (np.isfinite(f) & (f > 0)).all():
        raise InputError(f"{option} {path}: every factor must be a positive number")
    return dict(zip(t["hospital_id"], f.astype(float)))


CASE_ID_COLUMNS = ("case_id", "病案号", "清单流水号", "结算清单流水号")


def case_id_list(path: str, option: str) -> pd.Series:
    """The case ids of a CSV (``case_id`` or a Chinese alias), in file order: the special-review list."""
    t = option_csv(path, option, (), "a case_id column (the case ids, in priority order)")
    col = next((c for c in CASE_ID_COLUMNS if c in t.columns), None)
    if col is None:
        raise InputError(f"{option} {path}: needs a case_id column (the case ids, in priority order)")
    return t[col].dropna().astype(str)


def drg_list(path: str, option: str) -> list:
    """The ``drg`` column of a CSV (e.g. the basic-care list, 基层病种)."""
    return option_csv(path, option, ("drg",), "a drg column (基层病种 list)")["drg"].dropna().tolist()


def support_pairs(path: str) -> pd.DataFrame:
    """Support pairs: supporter_id, recipient_id[, program, specialty_1, specialty_2, start_year]."""
    pairs = option_csv(path, "--pairs", ("supporter_id", "recipient_id"),
                       "supporter_id, recipient_id, program[, specialty_1, specialty_2, start_year]")
    if "program" not in pairs.columns:
        pairs["program"] = "support"
    return pairs
