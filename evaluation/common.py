"""Shared rules of the formula sheet (methodology.md section 0): included cases, valid cost/LOS,
hospital levels and peer groups (the words of the tables: :mod:`evaluation.words`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .coded import included_codes

LEVEL_ALIASES = {
    "tertiary": "tertiary", "三级": "tertiary", "3": "tertiary", "三甲": "tertiary", "三乙": "tertiary",
    "secondary": "secondary", "二级": "secondary", "2": "secondary", "二甲": "secondary", "二乙": "secondary",
    "primary": "primary", "一级": "primary", "1": "primary", "基层": "primary",
}
PERIODS = {"month": 12, "quarter": 4, "year": 1}  # periods a year of the --period tables


class EvaluationError(ValueError):
    """Input that cannot be evaluated; the message names the problem and the fix."""


# A case's cost above COST_MAX_YUAN or stay above LOS_MAX_DAYS is not a usable value (as NaN, infinity or a
# negative number are not): no real stay costs a trillion yuan or lasts a century, and these bounds keep every
# amount in integer fen, and every sum of them, far inside int64 (evaluation.payment's money bounds).
COST_MAX_YUAN = 1e12
LOS_MAX_DAYS = 36_500


def within(v: np.ndarray, lo: float, hi: float, *, above: bool = False, fill: float = np.nan) -> np.ndarray:
    """``v`` where it is finite and from ``lo`` (or above it, with ``above``) to ``hi``; ``fill`` elsewhere."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(v) & ((v > lo) if above else (v >= lo)) & (v <= hi), v, fill)


def usable_cost(cost: np.ndarray) -> np.ndarray:
    """Costs with the unusable ones (missing, NaN, infinite, <= 0 or above :data:`COST_MAX_YUAN`) as NaN."""
    return within(cost, 0.0, COST_MAX_YUAN, above=True)


def usable_los(los: np.ndarray) -> np.ndarray:
    """Lengths of stay with the unusable ones (missing, NaN, infinite, negative or above :data:`LOS_MAX_DAYS`) as NaN."""
    return within(los, 0.0, LOS_MAX_DAYS)


def usable_year(year: np.ndarray) -> np.ndarray:
    """Years as whole numbers (a fractional year is its whole part, as the per-case tables list it); anything that is
    not a year from 1 to 9999 (NaN, infinite, 0, negative, 1e308) is NaN: a case without a readable year."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(year) & (year >= 1) & (year < 10000), np.floor(year), np.nan)


def usable_age(age: np.ndarray, most: float = 150.0) -> np.ndarray:
    """Ages with the impossible ones (NaN, infinite, negative or above ``most``: 150 years, 365 for days) as NaN."""
    return within(age, 0.0, most)


TOML_MAX_BYTES = 1 << 20  # an option file is a few lines; a larger one is refused before it is parsed


def option_file_bytes(path: str, where: str, fix: str, max_bytes: int) -> bytes:
    """The bytes of a file an option names; :class:`EvaluationError` ``<where>: <problem>; <fix>`` when it is
    missing, not a regular file (a folder, a FIFO) or larger than ``max_bytes``."""
    import os

    if not os.path.exists(path):
        raise EvaluationError(f"{where}: no such file; {fix}")
    if not os.path.isfile(path):
        raise EvaluationError(f"{where}: not a regular file; {fix}")
    if os.path.getsize(path) > max_bytes:
        raise EvaluationError(f"{where}: larger than {max_bytes >> 20} MB, not an option file; {fix}")
    with open(path, "rb") as f:
        return f.read()


def read_toml(path: str, option: str, example: str) -> dict:
    """The TOML file an option names, as a dict; :class:`EvaluationError` naming ``option`` and showing
    ``example`` when it is missing, not a file, too large, not UTF-8, not TOML or nested past the parser's
    depth (the one reader of every TOML option: ``--config``, ``--columns``, ``--targets``)."""
    import tomllib

    where = f"{option} {path}"
    raw = option_file_bytes(path, where, f"pass a TOML file such as: {example}", TOML_MAX_BYTES)
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise EvaluationError(f"{where}: not UTF-8 text; save it as UTF-8, e.g. {example}") from None
    except tomllib.TOMLDecodeError as e:
        raise EvaluationError(f"{where}: not valid TOML ({e}); write e.g. {example}") from None
    except RecursionError:
        raise EvaluationError(f"{where}: nested too deeply to be an option file; write e.g. {example}") from None


def _categorical(s: pd.Series) -> pd.Series:
    """Text column as a pandas Categorical of str (cheap: work happens on the categories)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        if not all(isinstance(c, str) for c in cats):
            s = s.cat.rename_categories([str(c) for c in cats])
        return s
    cat = s.astype("category")  # hashing in C; then only the distinct values are made str
    cats = cat.cat.categories
    if not all(isinstance(c, str) for c in cats):
        strs = [str(c) for c in cats]
        if len(set(strs)) == len(strs):
            cat = cat.cat.rename_categories(strs)
        else:  # e.g. 1 and "1": merge them
            cat = pd.Series(np.array(strs, dtype=object)[cat.cat.codes.to_numpy()], index=s.index).where(cat.notna(), None).astype("category")
    return cat


def fits_slots(size: int, rows: int) -> bool:
    """Whether counting ``rows`` rows into one slot per possible key (``size`` keys) is cheap: at most 4 slots a
    row plus 65,536 (a dense count beats hashing the keys)."""
    return size <= 4 * rows + (1 << 16)


def key_codes(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, the distinct keys) of integer keys in ``[0, size)``: one slot per key where that
    :func:`fits_slots` (distinct keys ascending), else ``pandas.factorize`` (in order of first appearance)."""
    if not fits_slots(size, len(key)):
        return pd.factorize(key)
    uniq = np.flatnonzero(np.bincount(key, minlength=size))
    slot = np.zeros(size, np.int64)
    slot[uniq] = np.arange(len(uniq))
    return slot[key], uniq


def align(values: pd.Series, index: pd.Index, fill=np.nan) -> pd.Series:
    """``values`` (a group-by result) on ``index``, missing groups as ``fill``. An empty result is
    built directly: pandas cannot reindex an empty categorical group index onto a larger one
    ("Buffer dtype mismatch"), which is what a column with no usable value produces."""
    if len(values) == 0:
        return pd.Series(fill, index=index, dtype=float)
    out = values.reindex(index)
    return out if fill is np.nan else out.fillna(fill)


def on_categories(s: pd.Series, fn) -> pd.Series:
    """Apply ``fn`` (str -> value) to the categories of a categorical and broadcast by code."""
    cats = s.cat.categories
    vals = np.array([fn(c) for c in cats] + [fn(None)], dtype=object)
    codes = s.cat.codes.to_numpy()
    return pd.Series(vals[codes], index=s.index)


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Canonical evaluation frame: one row per case with ``included``, ``cost``, ``los``, ``died``.

    Needs ``hospital_id`` and ``drg``; uses ``status`` (if present), ``total_cost``,
    ``los_days``, ``leaving_type``, ``mdc``, ``adrg``, ``year``. Text columns become categoricals,
    so 10 million cases cost seconds, not minutes.
    """
    missing = [c for c in ("hospital_id", "drg") if c not in df.columns]
    if missing:
        raise EvaluationError(f"missing column(s) {', '.join(missing)}; evaluate a grouped file (drg group output) "
                              "that carries hospital_id")
    out = pd.DataFrame(index=df.index)
    out["hospital_id"] = _categorical(df["hospital_id"])
    drg = _categorical(df["drg"])
    out["drg"] = drg
    def coded(cat: pd.Series) -> tuple:
        return cat.cat.codes.to_numpy().astype(np.int64), [str(c) for c in cat.cat.categories]

    status = coded(_categorical(df["status"])) if "status" in df.columns else None
    out["included"] = included_codes(coded(drg), coded(out["hospital_id"]), status)  # the one rule: evaluation.coded
    out["mdc"] = _categorical(df["mdc"]) if "mdc" in df.columns else on_categories(drg, lambda g: "MDC" + g[:1] if g else "").astype("category")
    out["adrg"] = _categorical(df["adrg"]) if "adrg" in df.columns else on_categories(drg, lambda g: g[:3] if g else "").astype("category")
    cost = pd.to_numeric(df["total_cost"], errors="coerce") if "total_cost" in df.columns else pd.Series(np.nan, index=df.index)
    # NaN, ±inf and non-positive costs (negative LOS) are missing values of their rows: they never reach a sum
    out["cost"] = usable_cost(cost.to_numpy(float))
    los = pd.to_numeric(df["los_days"], errors="coerce") if "los_days" in df.columns else pd.Series(np.nan, index=df.index)
    out["los"] = usable_los(los.to_numpy(float))
    if "leaving_type" in df.columns:
        lt = _categorical(df["leaving_type"])
        out["leaving_type"] = lt
        out["died"] = on_categories(lt, lambda v: v == "5").astype(np.int64)
    else:
        out["leaving_type"] = pd.Categorical([""] * len(df))
        out["died"] = 0
    for col in ("dept", "doctor_id"):  # the department and doctor views' units ("" is unknown)
        if col in df.columns:
            c = _categorical(df[col])
            out[col] = c.cat.remove_categories([""]) if "" in c.cat.categories else c
    if "year" in df.columns:
        out["year"] = pd.Series(usable_year(pd.to_numeric(df["year"], errors="coerce").to_numpy(float)), index=df.index)
    if "level" in df.columns:
        out["level"] = on_categories(_categorical(df["level"]), lambda v: LEVEL_ALIASES.get(v.strip(), v.strip()) if v else "unknown")
    return out


def normalize_level(s: pd.Series) -> pd.Series:
    vals = [LEVEL_ALIASES.get(str(v).strip(), str(v).strip()) if isinstance(v, str) and str(v).strip() else "unknown"
            for v in s.tolist()]
    return pd.Series(vals, index=s.index, dtype=object)


def attach_levels(cases: pd.DataFrame, hospitals: pd.DataFrame | None) -> pd.DataFrame:
    """Add ``level`` and ``kind`` per case from a hospitals table (hospital_id, level[, kind])."""
    if "level" in cases.columns and hospitals is None:
        cases["kind"] = "unknown"
        return cases
    if hospitals is None:
        cases["level"] = "unknown"
        cases["kind"] = "unknown"
        return cases
    h = hospitals.copy()
    h["hospital_id"] = h["hospital_id"].astype(str)
    lv = dict(zip(h["hospital_id"], normalize_level(h["level"])))
    kd = dict(zip(h["hospital_id"], h["kind"].astype(str))) if "kind" in h.columns else {}
    hid = cases["hospital_id"] if isinstance(cases["hospital_id"].dtype, pd.CategoricalDtype) else _categorical(cases["hospital_id"])
    cases["level"] = on_categories(hid, lambda i: lv.get(i, "unknown") if i is not None else "unknown")
    cases["kind"] = on_categories(hid, lambda i: kd.get(i, "unknown") if i is not None else "unknown")
    return cases


def peer_key(cases: pd.DataFrame, peer: str) -> pd.Series:
    if peer == "level":
        return cases["level"]
    if peer == "level-kind":
        return cases["level"] + "/" + cases["kind"]
    if peer == "none":
        return pd.Series("all", index=cases.index)
    raise EvaluationError(f"--peer {peer!r}: use level (default), level-kind or none")
