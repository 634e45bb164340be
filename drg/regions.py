"""Hospital networks: the built-in region (Dezhou) or a user's folder with ``hospitals.csv`` and
``support_pairs.csv``, and the hospitals table of an analysis command."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from .io import InputError

PAIR_COLUMNS = ["supporter_id", "recipient_id", "program", "county", "specialty_1", "specialty_2"]


def region_dir(region: str) -> Path:
    p = Path(region)
    if (p / "hospitals.csv").exists():
        return p
    builtin = resources.files("drg") / "data" / "regions" / region
    if (Path(str(builtin)) / "hospitals.csv").exists():
        return Path(str(builtin))
    raise InputError(f"--region {region}: neither a built-in region (dezhou) nor a folder with hospitals.csv and support_pairs.csv")


def load_region(region: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(hospitals, support pairs) of a built-in region or a folder."""
    d = region_dir(region)
    hospitals = pd.read_csv(d / "hospitals.csv", dtype=str)
    pairs = pd.read_csv(d / "support_pairs.csv", dtype=str) if (d / "support_pairs.csv").exists() else pd.DataFrame(
        columns=PAIR_COLUMNS)
    need = {"hospital_id", "name", "level", "kind", "county"}
    if not need <= set(hospitals.columns):
        raise InputError(f"{d / 'hospitals.csv'}: needs columns {', '.join(sorted(need))}")
    return hospitals, pairs


def hospitals_table(arg: str | None, data_ids=None) -> pd.DataFrame | None:
    """--hospitals CSV or region folder, or the built-in region's table when the data's hospital ids are all in it."""
    if arg:
        p = Path(arg)
        if p.is_dir():
            return load_region(str(p))[0]
        if not p.exists():
            raise InputError(f"--hospitals {arg}: no such file; pass a CSV with hospital_id, level[, kind, name]")
        h = pd.read_csv(p, dtype=str)
        if not {"hospital_id", "level"} <= set(h.columns):
            raise InputError(f"--hospitals {arg}: needs columns hospital_id and level (tertiary/secondary/primary or 三级/二级/一级)")
        return h
    h = load_region("dezhou")[0]
    if data_ids is not None and set(map(str, data_ids)) <= set(h["hospital_id"]):
        return h
    return None
