"""The public grouping function: read -> validate -> encode -> kernel -> decode."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .decode import RESULT_COLUMNS, decode, warnings_column
from .kernel import group_kernel, scheme_arrays
from .records import encode


def group_table(table: pa.Table, scheme, *, map_codes: bool = False, lang: str = "zh", only_results: bool = False,
                keep_dictionary: bool = True, return_encoded: bool = False):
    """Group a pyarrow Table; the output keeps every input row in input order.

    The input may use canonical or alias column names (``grouper.columns``). Unless
    ``only_results``, every input column is kept (under its input name) and the
    result columns are appended (replacing input columns of the same names).
    """
    from .columns import canonicalize

    canon = canonicalize(table)
    enc = encode(canon, scheme, map_mode=map_codes)
    res, stat, info = group_kernel(
        scheme_arrays(scheme), enc.dx, enc.dx_off, enc.px, enc.px_off, enc.fields, enc.sids, enc.pre_stat,
        enc.lit_rank, np.int64(enc.empty_rank), bool(scheme.meta.get("retry_secondary_px_alone")),
    )
    cols = decode(scheme, res, stat, info, lang=lang)
    cols["warnings"] = warnings_column(enc, scheme, map_codes, lang)
    if not keep_dictionary:
        cols = {k: (v.dictionary_decode() if isinstance(v, pa.DictionaryArray) else v) for k, v in cols.items()}
    if only_results:
        base = canon.select(["case_id"] if "case_id" in canon.column_names else [])
    else:
        base = table.drop_columns([c for c in RESULT_COLUMNS if c in table.column_names])
    for name in RESULT_COLUMNS:
        base = base.append_column(name, cols[name])
    return (base, enc) if return_encoded else base


def _edited_lists(ids_in, off_in, rows, drop=None, replace=None, demote: bool = False):
    """The input code lists of ``rows`` (scheme ids), each with its flat position ``drop[i]`` removed, or replaced
    by the id ``replace[i]`` where that is >= 0, or (``demote``) moved to the end of its list (``drop[i]`` -1: the
    list as it is)."""
    lengths = off_in[rows + 1] - off_in[rows]
    owner = np.repeat(np.arange(len(rows)), lengths)
    first = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=first[1:])
    pos = off_in[rows][owner] + (np.arange(first[-1]) - first[owner])
    ids = ids_in[pos]
    keep = np.ones(len(pos), dtype=bool)
    if drop is not None and demote:
        order = np.lexsort((pos, pos == drop[owner], owner))  # within each list, the moved code last
        return np.ascontiguousarray(ids[order]), np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    if drop is not None:
        hit = pos == drop[owner]
        swap = hit & (replace[owner] >= 0)
        ids = np.where(swap, replace[owner], ids).astype(ids_in.dtype)
        keep = ~hit | swap
    off = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner[keep], minlength=len(rows)), out=off[1:])
    return np.ascontiguousarray(ids[keep]), off


def group_edited(enc, scheme, rows, *, which: str | None = None, drop=None, replace=None, demote: bool = False,
                 blank: str | None = None) -> np.ndarray:
    """Outcome ids (rows of ``grouper.decode.outcome_rows``: status, status_code, mdc, adrg, drg, drg_name; no text
    decoded) of the records ``rows`` of a batch encoded by ``records.encode``
    (not map mode), each edited without encoding any text again: with ``which`` (dx or px), the code at flat input
    position ``drop[i]`` of record ``rows[i]`` removed, or replaced by the scheme id ``replace[i]`` where that is
    >= 0, or (``demote``) moved to the end of its list (a principal code made secondary); with ``blank``, that input column (sex, age_years, age_days, weight_g, los_days, icu_hours, dept,
    leaving_type) read as blank. Equal to grouping the edited records as a table."""
    from .decode import outcome_ids
    from .kernel import fill_empty
    from .language import FIELD_SLOTS, NULL, STR_SLOT0
    from .records import INT_COLUMNS, STR_COLUMNS

    rows = np.asarray(rows, dtype=np.int64)
    lists = {}
    for w, ids_in, off_in in (("dx", enc.dx_ids_in, enc.dx_in_off), ("px", enc.px_ids_in, enc.px_in_off)):
        edit = w == which
        lists[w] = _edited_lists(ids_in, off_in, rows, np.asarray(drop, np.int64) if edit else None,
                                 np.asarray(replace, np.int32) if edit and replace is not None else
                                 (np.full(len(rows), -1, np.int32) if edit else None), demote and edit)
    dx, dx_off = lists["dx"]
    if (np.diff(dx_off) == 0).any():
        dx, dx_off = fill_empty(dx, dx_off, np.int32(scheme.code_index[""]))  # [quirk] dx [] -> [""], as encode
    px, px_off = lists["px"]
    fields, sids = enc.fields[rows], enc.sids[rows]
    if blank is not None:
        ints = {col: slot for slot, col in INT_COLUMNS.items()}
        strs = list(STR_COLUMNS.values())
        if blank in ints:
            zero = scheme.meta.get("missing_age_days_weight_as_zero") and ints[blank] in ("age_days", "weight_g")
            if FIELD_SLOTS[ints[blank]] < fields.shape[1]:  # else a 2.0 field this scheme does not read
                fields[:, FIELD_SLOTS[ints[blank]]] = 0 if zero else NULL
        elif blank in strs:
            fields[:, STR_SLOT0 + strs.index(blank)] = NULL
            sids[:, strs.index(blank)] = -1
        else:
            raise ValueError(f"blank={blank!r}: not a field the grouper reads")
    res, stat, _ = group_kernel(
        scheme_arrays(scheme), dx, dx_off, px, px_off, np.ascontiguousarray(fields), np.ascontiguousarray(sids),
        enc.pre_stat[rows], enc.lit_rank, np.int64(enc.empty_rank), bool(scheme.meta.get("retry_secondary_px_alone")),
    )
    return outcome_ids(scheme, res, stat)


def warm_up(scheme, map_codes: bool = False) -> None:
    """Load every kernel a run will call (from Numba's cache: ~0.5 s) by grouping two tiny records;
    ``drg group`` does this in a thread while the first batch is being read."""
    tiny = pa.table({"sex": pa.array([1, 2], pa.int64()), "age_years": pa.array([40, -1], pa.int64()),
                     "dx": pa.array([["?"], []], pa.list_(pa.string())), "px": pa.array([[], ["?"]], pa.list_(pa.string()))})
    try:
        group_table(tiny, scheme, map_codes=map_codes)
    except Exception:  # only a head start: the first real batch reports any real problem
        pass


def _table_from_pandas(df) -> pa.Table:
    """pandas -> Arrow, tolerating mixed-type object columns (they become text; lists stay lists)."""
    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        pass
    arrays = []
    for name in df.columns:
        col = df[name]
        try:
            arrays.append(pa.array(col, from_pandas=True))
            continue
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            pass

        def text(v):
            if v is None or (isinstance(v, float) and v != v):
                return None
            if isinstance(v, float) and v.is_integer():
                return str(int(v))
            return str(v)

        values = col.tolist()
        if any(isinstance(v, (list, tuple)) or hasattr(v, "tolist") and not isinstance(v, str) for v in values):
            arrays.append(pa.array([None if v is None or isinstance(v, float) else [text(x) for x in list(v)] for v in values],
                                   pa.list_(pa.string())))
        else:
            arrays.append(pa.array([text(v) for v in values], pa.string()))
    return pa.table(arrays, names=[str(c) for c in df.columns])


def group(data, scheme, *, map_codes: bool = False, lang: str = "zh", only_results: bool = False):
    """Assign DRGs to discharge records.

    Parameters
    ----------
    data : pandas.DataFrame or pyarrow.Table
        Records with the canonical columns (``case_id, sex, age_years, age_days,
        weight_g, dept, los_days, leaving_type, icu_hours, dx, px``) or their
        Chinese aliases; ``dx``/``px`` as lists, delimited strings or wide columns.
    scheme : CompiledScheme or str
        A scheme from :func:`grouper.load_scheme`, or a scheme directory.
    map_codes : bool, default False
        Convert codes with the scheme's ``dx_map``/``px_map`` first (FORMAT.md 5.2).
    lang : {"zh", "en"}
        Language of ``reason`` and ``warnings``.
    only_results : bool, default False
        Return ``case_id`` and the result columns only.

    Returns
    -------
    Same kind as ``data``, one output row per input row in input order, with
    ``status, status_code, mdc, adrg, drg, drg_name, reason, warnings`` added.

    Examples
    --------
    >>> import pandas as pd, grouper  # doctest: +SKIP
    >>> df = pd.DataFrame({"sex": [1], "age_years": [60], "dx": [["I21.000"]], "px": [[]]})  # doctest: +SKIP
    >>> grouper.group(df, grouper.load_scheme("schemes/chs-drg-1.1"))[["status", "drg"]]  # doctest: +SKIP
    """
    from .scheme import load_scheme

    if isinstance(scheme, (str, bytes)) or hasattr(scheme, "__fspath__"):
        scheme = load_scheme(scheme)
    if isinstance(data, pa.Table):
        return group_table(data, scheme, map_codes=map_codes, lang=lang, only_results=only_results)
    if isinstance(data, pa.RecordBatch):
        return group_table(pa.Table.from_batches([data]), scheme, map_codes=map_codes, lang=lang, only_results=only_results)
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        table = _table_from_pandas(data)
        out = group_table(table, scheme, map_codes=map_codes, lang=lang, only_results=only_results, keep_dictionary=False)
        df = out.to_pandas()
        df.index = data.index  # one output row per input row, in order
        return df
    raise TypeError(f"group() takes a pandas DataFrame or a pyarrow Table, not {type(data).__name__}")
