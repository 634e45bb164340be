"""Kernel result ids -> output columns (FORMAT.md section 7) with reasons and warnings.

Output columns: ``status`` (the exact status strings of FORMAT.md 7),
``status_code`` (short English id), ``mdc``, ``adrg``, ``drg``, ``drg_name``,
``reason`` (why the record ended where it did) and ``warnings`` (richer
diagnosis of the record that never changes the group: unknown codes, codes
that look mistyped, unreadable or implausible values).
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pyarrow as pa

from .codes import STAT_REJECT, STATUS_DX_MAP, STATUS_INPUT, STATUS_PX_MAP
from .language import FIELD_SLOTS, NULL
from .text import FIELD_LABEL, TEXT
from .textkernel import SEP, build_warnings, string_array, string_buffers, utf8

RESULT_COLUMNS = ("status", "status_code", "mdc", "adrg", "drg", "drg_name", "reason", "warnings")
# their headers in a Chinese file for people (CSV, xlsx); the analysis commands read these as the canonical names
RESULT_HEADERS_ZH = {"status": "分组状态", "status_code": "状态代码", "mdc": "MDC编码", "adrg": "ADRG编码", "drg": "DRG编码",
                     "drg_name": "DRG名称", "reason": "原因", "warnings": "警告"}

FAIL_KINDS = [  # stat 1..7
    (STATUS_INPUT, "input_invalid"),
    (STATUS_INPUT, "input_invalid"),
    (STATUS_INPUT, "input_invalid"),
    (STATUS_INPUT, "input_invalid"),
    (STATUS_INPUT, "input_invalid"),
    (STATUS_DX_MAP, "dx_unmappable"),
    (STATUS_PX_MAP, "px_unmappable"),
]

# Values outside these ranges are kept (grouping uses them as given) but warned about: an age of
# 200 years or a birth weight of 50 kg is a data-entry error; 0 is left alone (exports write 0
# for "not applicable").
PLAUSIBLE = {"age_years": (0, 150), "age_days": (0, 365), "weight_g": (100, 10000)}


def _check_lang(lang: str) -> dict:
    if lang not in TEXT:
        raise ValueError(f"lang={lang!r} is not supported; use 'zh' (default) or 'en'")
    return TEXT[lang]


def reason_table(scheme, lang: str = "zh") -> list[str]:
    """All reason texts of a scheme, in the order :func:`reason_ids` indexes them."""
    t = _check_lang(lang)
    out = list(t["fail"]) + [t["no_mdc"]]
    out += [t["mdc_no_adrg"].format(mdc=m) for m in scheme.mdc_names]
    out += [t["qy"].format(step=s) if k == "qy" else "" for s, k in zip(scheme.step_names, scheme.step_kinds)]
    no_split = t["no_split"] if scheme.meta.get("output_no_split") == "0000" else t["adrg_only"]
    out += [no_split.format(adrg=a, step=s) for s, a in zip(scheme.step_names, scheme.step_adrg)]
    out.append("")
    out += [t["reject"].format(seq=seq, rule=text) for seq, _, text, _ in scheme.reject_asts]
    return out


def outcome_stat(stat: np.ndarray, n_mdc: int, n_steps: int) -> np.ndarray:
    """Reason index of a failed record: its input check or map failure (stat 1-7), or its reject rule (after the
    step reasons)."""
    s = stat.astype(np.int32)
    return np.where(s >= STAT_REJECT, 9 + n_mdc + 2 * n_steps + s - STAT_REJECT, s - 1)


def reason_ids(scheme, res, stat, info) -> np.ndarray:
    n_mdc = len(scheme.mdc_names)
    n_steps = len(scheme.step_names)
    base_step = 8 + n_mdc
    out = np.full(len(res), base_step + 2 * n_steps, dtype=np.int32)  # success: no reason
    failed = stat > 0
    out[failed] = outcome_stat(stat[failed], n_mdc, n_steps)
    ok = ~failed
    no_group = ok & (res == 0)
    out[no_group & (info == -1)] = 7
    in_mdc = no_group & (info <= -2)
    out[in_mdc] = 8 + (-info[in_mdc] - 2)
    grouped = ok & (res != 0)
    step = np.where(grouped, info, 0)
    step_result = np.append(scheme.arrays["step_nosplit"], -1)  # a scheme may have no steps
    kinds = np.array([k == "qy" for k in scheme.step_kinds] + [False])
    qy = grouped & kinds[step]
    out[qy] = base_step + step[qy]
    adrg_only = grouped & ~qy & (res == step_result[step])
    out[adrg_only] = base_step + n_steps + step[adrg_only]
    return out


_COLUMN_CACHE: dict = {}  # (id(scheme), column, lang) -> (scheme, codes, dictionary): a scheme's outputs never change


def _dict_column(outcome: np.ndarray, strings, key=None) -> pa.DictionaryArray:
    """A dictionary-encoded string column: outcome id -> strings()[outcome], dictionary unique. ``key`` = (scheme,
    column, lang) keeps the unique strings of a scheme's column between batches."""
    hit = _COLUMN_CACHE.get((id(key[0]),) + key[1:]) if key else None
    if hit is None or hit[0] is not key[0]:
        uniq, inv = np.unique(np.array(strings(), dtype=object), return_inverse=True)
        hit = (key[0] if key else None, inv.astype(np.int32), pa.array(uniq.tolist(), pa.string()))
        if key:
            if len(_COLUMN_CACHE) > 256:
                _COLUMN_CACHE.clear()
            _COLUMN_CACHE[(id(key[0]),) + key[1:]] = hit
    return pa.DictionaryArray.from_arrays(pa.array(hit[1][outcome]), hit[2])


def shown_code(code: str | None, index: dict, t: dict) -> str:
    """A problem code as a warning shows it: the code, with a hint when a normalised form is a code of the scheme
    (stray spaces, full-width characters, lower case); an empty or null code in words."""
    if code is None or code == "":
        return t["empty_code"]
    norm = unicodedata.normalize("NFKC", code).strip()
    hint = next((c for c in (norm, norm.upper()) if c != code and c in index), None)
    return code + (t["looks_like"].format(code=hint) if hint else "")


def _annotated(dictionary: pa.Array, wanted: np.ndarray, scheme, t: dict) -> list:
    """:func:`shown_code` of the distinct codes at positions ``wanted`` (others None); position ``len(dictionary)``
    stands for a null code."""
    shown = [None] * (len(dictionary) + 1)
    for k in wanted.tolist():
        shown[k] = shown_code(dictionary[k].as_py() if k < len(dictionary) else None, scheme.code_index, t)
    return shown


def problem_codes(enc, scheme, which: str, map_mode: bool) -> np.ndarray:
    """Mask over the flat input codes of ``which``: unknown to the scheme (or, in map
    mode, not convertible). Computed once per batch and kept on ``enc``."""
    key = (which, map_mode)
    if key not in enc.problem:
        ids = enc.dx_ids_in if which == "dx" else enc.px_ids_in
        safe = np.where(ids >= 0, ids, 0)
        if map_mode:
            enc.problem[key] = (ids < 0) | (scheme.arrays[which + "_map"][safe] < 0)
        else:
            enc.problem[key] = (ids < 0) | ~scheme.arrays[which + "_known"][safe]
    return enc.problem[key]


def unknown_code_counts(enc, scheme, which: str, map_mode: bool, top: int = 200) -> dict:
    """{code: count} of the most frequent problem codes of a batch."""
    mask = problem_codes(enc, scheme, which, map_mode)
    if not mask.any():
        return {}
    dictionary = enc.dx_dict if which == "dx" else enc.px_dict
    idx = enc.dx_idx if which == "dx" else enc.px_idx
    counts = np.bincount(idx[mask], minlength=len(dictionary) + 1)
    best = np.argsort(-counts, kind="stable")[:top]
    names = dictionary.to_pylist() + [""]
    return {names[k] if names[k] is not None else "": int(counts[k]) for k in best if counts[k] > 0}


def warnings_column(enc, scheme, map_mode: bool, lang: str) -> pa.Array:
    """Per-row warnings: problem codes (dx, then px), then unreadable, negative and implausible values,
    joined by ``"; "``; null for a row without any (built by :mod:`grouper.textkernel`)."""
    t = _check_lang(lang)
    n = enc.n
    code_parts = []
    for which, off in (("dx", enc.dx_in_off), ("px", enc.px_in_off)):
        key = ("unmapped_" if map_mode else "unknown_") + which
        mask = problem_codes(enc, scheme, which, map_mode)
        idx = np.asarray(enc.dx_idx if which == "dx" else enc.px_idx, dtype=np.int64)
        if mask.any():
            shown = _annotated(enc.dx_dict if which == "dx" else enc.px_dict, np.unique(idx[mask]), scheme, t)
        else:
            shown = []
        shown_bytes, shown_off = string_buffers(shown)
        code_parts += [utf8(t[key]), mask, idx, np.asarray(off, dtype=np.int64), shown_bytes, shown_off]
    labels = FIELD_LABEL[lang]
    flags, messages = [], []
    for which, rows in enc.split_rows.items():  # FORMAT.md 5.1 splits such a code: never silently
        if rows.any():
            flags.append(rows)
            messages.append(t["split_" + which])
    for col, bad in enc.bad_fields.items():
        flags.append(bad)
        messages.append(t["unreadable"].format(col=labels.get(col, col)))
    for field_name, col in (("age_years", "age_years"), ("age_days", "age_days"), ("los", "los_days"), ("weight_g", "weight_g")):
        v = enc.fields[:, FIELD_SLOTS[field_name]]
        neg = (v != NULL) & (v < 0)
        if neg.any():
            flags.append(neg)
            messages.append(t["negative"].format(col=labels.get(col, col)))
    for field_name, col in (("age_years", "age_years"), ("age_days", "age_days"), ("weight_g", "weight_g")):
        lo, hi = PLAUSIBLE[field_name]
        v = enc.fields[:, FIELD_SLOTS[field_name]]
        odd = (v != NULL) & (v >= 0) & ((v > hi) | ((v > 0) & (v < lo)))
        if odd.any():
            flags.append(odd)
            messages.append(t["implausible"].format(col=labels.get(col, col), lo=lo, hi=hi))
    flag_matrix = np.ascontiguousarray(np.column_stack(flags)) if flags else np.zeros((n, 0), dtype=np.bool_)
    msg_bytes, msg_off = string_buffers(messages)
    offsets, data, valid = build_warnings(np.int64(n), *code_parts, flag_matrix, msg_bytes, msg_off, SEP)
    return string_array(offsets, data, valid)


def outcome_ids(scheme, res, stat) -> np.ndarray:
    """Each record's outcome: a row of :func:`outcome_rows` (a result, or a kind of failure)."""
    return np.where(stat > 0, len(scheme.results) + stat.astype(np.int32) - 1, res).astype(np.int64)


def outcome_rows(scheme) -> list:
    """(status, status_code, mdc, adrg, drg, drg_name) of every outcome id: the results, the failures of stat 1-7,
    then one row per reject rule (its own status)."""
    rej = scheme.meta["output_codes_rejected"]
    return (list(scheme.result_rows) + [(s, c, rej[0], rej[1], rej[2], "") for s, c in FAIL_KINDS]
            + [(status, "rejected", rej[0], rej[1], rej[2], "") for _, status, _, _ in scheme.reject_asts])


def decode(scheme, res, stat, info, lang: str = "zh") -> dict:
    """Dictionary-encoded output columns (status ... reason) for kernel outputs."""
    _check_lang(lang)
    outcome = outcome_ids(scheme, res, stat)
    rows = outcome_rows(scheme)
    cols = {}
    for j, name in enumerate(("status", "status_code", "mdc", "adrg", "drg", "drg_name")):
        cols[name] = _dict_column(outcome, lambda j=j: [r[j] for r in rows], (scheme, name, ""))
    cols["reason"] = _dict_column(reason_ids(scheme, res, stat, info), lambda: reason_table(scheme, lang), (scheme, "reason", lang))
    return cols
