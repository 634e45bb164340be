"""What `drg report` reads: every table set of drg under a folder, found by the manifest each command writes
(``.drg-output.json``), and a ``drg group`` summary beside them; the hospitals with their names and levels."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from evaluation.words import unlabel

from ..io import InputError


def _read(folder: Path | None, name: str) -> pd.DataFrame | None:
    if folder is None:
        return None
    p = folder / f"{name}.parquet"
    if not p.exists():
        return None
    try:
        df = pd.read_parquet(p)
    except Exception as e:  # pyarrow raises several kinds for a damaged file
        raise InputError(f"{p}: not a readable Parquet table ({type(e).__name__}); re-run the command that wrote it") from None
    return unlabel(df)


# the table sets a report reads, by the command that wrote them (the ``command`` of their folder's manifest)
SETS = {"evaluate": ("hospital", "outcomes", "weights", "quality", "discipline_mdc", "risk_model", "risk_calibration",
                     "dept", "doctor", "hospital_dept", "hospital_month", "hospital_quarter", "hospital_year"),
        "pay": ("settlement", "drg_profit_loss"), "tiered-care": ("county", "region", "hospital"),
        "support": ("support", "support_did", "support_summary"), "risk": ("model", "calibration"),
        "audit": ("hospital_flags",), "check": ("hospitals", "rules"), "dip pay": ("hospitals", "parameters")}
PREFIX = {"pay": "payment", "tiered-care": "tiered_care", "support": "support", "risk": "risk", "audit": "audit", "check": "check",
          "dip pay": "dip"}


def find_outputs(root: str) -> dict:
    """{command: [folders]} of every folder of drg output under ``root`` (itself included, at any depth and under any
    name), found by its manifest (``.drg-output.json``: the command that wrote it), shallowest first, then by name.
    Hidden folders (a run's temporaries) are not looked into."""
    from ..atomic import MANIFEST

    found: dict = {}
    base = Path(root)
    for here, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if MANIFEST not in files:
            continue
        try:
            manifest = json.loads((Path(here) / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            continue  # not one of ours after all (or damaged): its tables are not read
        command = manifest.get("command") if isinstance(manifest, dict) else None
        if isinstance(command, str):
            found.setdefault(command, []).append(Path(here))
    for folders in found.values():
        folders.sort(key=lambda p: (len(p.relative_to(base).parts), str(p)))
    if not found:  # evaluation tables copied without their manifest (the folder itself, or a demo's evaluation/)
        bare = [f for f in (base, base / "evaluation") if (f / "hospital.parquet").exists()]
        if bare:
            found["evaluate"] = bare[:1]
    return found


def load_outputs(root: str) -> dict:
    """Every table a report can show, from the folders of drg output under ``root`` (:func:`find_outputs`): the
    evaluation's (the first evaluate folder with a hospital table; the department, doctor and period views from
    any evaluate folder), payment, tiered care, support, risk model and audit tables, and a group summary
    (``*.summary.json`` of ``drg group``) beside them. A table set that is absent leaves its sections out."""
    r = Path(root)
    if not r.is_dir():
        raise InputError(f"{root}: not a folder; pass the folder that holds the outputs of drg evaluate, pay, ... "
                         "(or of drg demo)")
    sets = find_outputs(root)
    if not sets or set(sets) <= {"synth", "demo"}:
        raise InputError(f"{root}: no drg output under it (no folder with {'.drg-output.json'}); run e.g. "
                         f"drg evaluate grouped.parquet -o {os.path.join(root, 'eval')} first, or drg demo")
    out: dict = {"folders": {k: [str(p) for p in v] for k, v in sets.items()}}
    evaluations = sets.get("evaluate", [])
    main = _main_evaluation(evaluations)
    for name in ("hospital", "outcomes", "weights", "quality", "discipline_mdc"):
        out[name] = _read(main, name) if main is not None else None
    for name in ("model", "calibration"):  # drg evaluate --risk-model copies the model tables
        out[f"risk.{name}"] = _read(main, f"risk_{name}") if main is not None else None
    for name in ("dept", "doctor", "hospital_dept", "hospital_month"):  # drg evaluate --by / --period, in any folder
        out[f"views.{name}"] = next((t for t in (_read(f, name) for f in evaluations) if t is not None), None)
    for command, names in SETS.items():
        if command == "evaluate":
            continue
        folder = (sets.get(command) or [None])[0]
        for name in names:
            key = f"{PREFIX[command]}.{name}"
            if folder is None:
                out.setdefault(key, None)
            elif command == "audit":
                out[key] = _audit_flags(folder)
            elif out.get(key) is None:
                out[key] = _read(folder, name)
    if out["hospital"] is None:
        out["hospital"] = _hospitals_of(out)
    out["summary"] = _group_summary(r)
    return out


def _main_evaluation(folders: list) -> Path | None:
    """The evaluate folder the hospital sections come from: one with a hospital table, by preference one of the
    hospital view (not a department or doctor view, whose hospital tables are the same but whose run may have been
    cut to a department's hospitals) with the most of the main tables; then the shallowest, then by name."""
    def score(f: Path):
        views = sum((f / f"{n}.parquet").exists() for n in ("dept", "doctor", "hospital_dept"))
        main = sum((f / f"{n}.parquet").exists() for n in ("outcomes", "weights", "quality", "discipline_mdc"))
        return (views > 0, -main)

    have = [f for f in folders if (f / "hospital.parquet").exists()]
    return min(have, key=score) if have else None  # min is stable: the first of equals in the folders' order


def _hospitals_of(o: dict) -> pd.DataFrame:
    """Without an evaluation: the hospitals the other tables name (id only), so their sections can still name them."""
    ids = set()
    for key in ("payment.settlement", "tiered_care.hospital", "audit.hospital_flags", "check.hospitals"):
        t = o.get(key)
        if t is not None and "hospital_id" in t.columns:
            ids |= set(t["hospital_id"].dropna().astype(str))
    return pd.DataFrame({"hospital_id": sorted(ids)})


def _group_summary(root: Path) -> dict | None:
    """The first ``drg group`` summary (``NAME.summary.json``) in ``root`` or a folder below it (shallowest first)."""
    candidates = sorted((p for p in root.rglob("*.summary.json") if not any(part.startswith(".") for part in
                                                                             p.relative_to(root).parts)),
                        key=lambda p: (len(p.relative_to(root).parts), str(p)))
    for summary in candidates:
        try:
            data = json.loads(summary.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(f"{summary}: not a readable summary ({type(e).__name__}); re-run drg group to rewrite it, "
                             "or delete it to report without grouping statuses") from None
        except OSError:
            continue
        if not isinstance(data, dict):
            raise InputError(f"{summary}: not a drg group summary (a JSON object); re-run drg group to rewrite it, "
                             "or delete it")
        if "status_counts" in data:
            return _summary_fields(data)
    return None


def _summary_fields(s: dict) -> dict:
    """The parts of a group summary the report shows, each of the type drg group writes; anything else (a file
    edited by hand or by another tool) is left out."""
    out = {}
    if isinstance(s.get("scheme"), dict):
        out["scheme"] = {k: str(v) for k, v in s["scheme"].items() if isinstance(v, (str, int, float))}
    for key in ("input", "output"):
        if isinstance(s.get(key), str):
            out[key] = s[key]
    for key in ("rows_in", "rows_out"):
        if isinstance(s.get(key), int) and not isinstance(s.get(key), bool):
            out[key] = s[key]
    counts = s.get("status_counts")
    if isinstance(counts, dict):
        out["status_counts"] = {str(k): v for k, v in counts.items() if isinstance(v, int) and not isinstance(v, bool)}
    for key in ("top_unknown_dx", "top_unknown_px", "top_reasons"):
        v = s.get(key)
        if isinstance(v, list):
            out[key] = [e for e in v if isinstance(e, list) and len(e) == 2 and isinstance(e[1], int)]
    return out


def _audit_flags(folder: Path) -> pd.DataFrame | None:
    """``drg audit``'s hospital flags with English names and the target area's id in ``area``."""
    from evaluation.words import AREA_TEXT, AUDIT_LABELS

    df = _read(folder, "hospital_flags")
    if df is None:
        return None
    df = df.rename(columns={zh: en for en, zh in AUDIT_LABELS.items()})
    df = df.rename(columns={"area_rate": "rate", "area_expected_rate": "expected_rate"})  # the report's own names of 比率
    ids = {names[0]: k for k, names in AREA_TEXT["zh"].items()} | {k: k for k in AREA_TEXT["zh"]}
    df["area"] = df["target_area"].map(ids).fillna(df["target_area"])
    df["flag"] = df["flag"].fillna(False).astype(bool)  # unlabel turned 是/否 back into True/False
    return df


def report_inputs(root: str) -> list[str]:
    """The files a report reads under ``root`` (an output may not replace one of them)."""
    return [str(p) for p in Path(root).rglob("*") if p.suffix in (".parquet", ".json") and p.is_file()]


def with_names_and_levels(h: pd.DataFrame) -> pd.DataFrame:
    """The hospital table with a name for every hospital (its id where the hospitals file gave none) and a level
    and peer group for every hospital ("unknown", shown as 级别未知, where none is known)."""
    h = h.copy()
    if "hospital_id" not in h.columns:
        return h
    ids = h["hospital_id"].astype(str)
    if "name" not in h.columns:
        h["name"] = ids
    else:
        blank = h["name"].isna() | (h["name"].astype(str).str.strip() == "")
        h["name"] = h["name"].astype(object).where(~blank, ids)
    for col in ("level", "peer_group"):
        if col not in h.columns:
            h[col] = "unknown"
        else:
            h[col] = h[col].astype(object).where(h[col].notna(), "unknown")
    return h
