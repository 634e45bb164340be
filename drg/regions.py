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
    raise InputError(f"--region {region}: neither a built-in region (dezhou) nor a folder with hospitals.csv; name dezhou or such a folder")


HOSPITALS_WHAT = "hospital_id, level (tertiary/secondary/primary or 三级/二级/一级)[, kind, name, county]"


def load_region(region: str, *, levels_required: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(hospitals, support pairs) of a built-in region or a folder, read as option files are
    (:func:`drg.tables.option_csv`); ``levels_required``: every hospital's level must be one we know
    (``drg synth`` plants by level)."""
    from .tables import option_csv, support_pairs

    d = region_dir(region)
    need = ("hospital_id", "name", "level", "kind", "county")
    hospitals = option_csv(str(d / "hospitals.csv"), "--region", need, ", ".join(need), ids=("hospital_id",),
                           unique=("hospital_id",))
    if levels_required:
        from evaluation.common import LEVEL_ALIASES

        known = hospitals["level"].fillna("").str.strip().isin([*LEVEL_ALIASES, "public_health"])
        if not known.all():
            i = int((~known).to_numpy().argmax())
            raise InputError(f"--region {d / 'hospitals.csv'}: row {i + 2}: hospital {hospitals['hospital_id'].iloc[i]} has "
                             "no known level; write tertiary, secondary, primary (三级/二级/一级) or public_health")
    pairs = support_pairs(str(d / "support_pairs.csv")) if (d / "support_pairs.csv").exists() else pd.DataFrame(
        columns=PAIR_COLUMNS)
    return hospitals, pairs


def hospitals_table(arg: str | None, data_ids=None) -> pd.DataFrame | None:
    """--hospitals CSV or region folder, or the built-in region's table when the data's hospital ids are all in it."""
    from .tables import option_csv

    if arg:
        p = Path(arg)
        if p.is_dir():
            return load_region(str(p))[0]
        return option_csv(arg, "--hospitals", ("hospital_id", "level"), HOSPITALS_WHAT, ids=("hospital_id",),
                          unique=("hospital_id",), optional=("name", "kind", "county"))
    h = load_region("dezhou")[0]
    if data_ids is not None and set(map(str, data_ids)) <= set(h["hospital_id"]):
        return h
    return None
