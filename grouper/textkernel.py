"""Build the per-row ``warnings`` text as Arrow string buffers in one pass.

A row's warning is its parts joined by ``"; "``: a code part (``prefix`` + the
row's problem codes joined by ``","``) for diagnoses, then for procedures, then
one fixed message per raised flag (unreadable or negative values); a row
without any part is null. Pure arrays in, ``(offsets, bytes, valid)`` out: the
same text that joining Arrow string columns would give, without materialising
one intermediate string column per part.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit, prange

from . import numba_cache  # noqa: F401  (kernels cached in the user cache dir, never in the package)

SEP = np.frombuffer(b"; ", dtype=np.uint8)


@njit(cache=True, inline="always")
def _code_part_len(mask, idx, a, b, shown_off):
    """(bytes, codes) of one row's code part body: the masked codes joined by ','."""
    size = 0
    count = 0
    for k in range(a, b):
        if mask[k]:
            j = idx[k]
            size += shown_off[j + 1] - shown_off[j]
            count += 1
    if count > 1:
        size += count - 1
    return size, count


@njit(cache=True, inline="always")
def _put(out, o, src, s0, s1):
    for k in range(s0, s1):
        out[o] = src[k]
        o += 1
    return o


@njit(cache=True, inline="always")
def _put_code_part(out, o, prefix, mask, idx, a, b, shown, shown_off):
    o = _put(out, o, prefix, 0, prefix.shape[0])
    first = True
    for k in range(a, b):
        if mask[k]:
            if not first:
                out[o] = 44  # ','
                o += 1
            first = False
            j = idx[k]
            o = _put(out, o, shown, shown_off[j], shown_off[j + 1])
    return o


@njit(parallel=True, cache=True, nogil=True)
def build_warnings(n, dx_prefix, dx_mask, dx_idx, dx_off, dx_shown, dx_shown_off,
                   px_prefix, px_mask, px_idx, px_off, px_shown, px_shown_off,
                   flags, msg, msg_off, sep):
    """Per-row text of two code parts and ``flags.shape[1]`` flag messages.

    ``*_mask``/``*_idx`` run over the flat codes (rows by ``*_off``); ``*_idx``
    points into ``*_shown``/``*_shown_off`` (the display bytes of each distinct
    code). ``flags[i, f]`` adds ``msg[msg_off[f]:msg_off[f + 1]]``.
    Returns int64 offsets (n + 1), the UTF-8 bytes and a validity mask."""
    n_flags = flags.shape[1]
    lengths = np.zeros(n, dtype=np.int64)
    valid = np.zeros(n, dtype=np.bool_)
    for i in prange(n):
        size = 0
        parts = 0
        s, c = _code_part_len(dx_mask, dx_idx, dx_off[i], dx_off[i + 1], dx_shown_off)
        if c > 0:
            size += dx_prefix.shape[0] + s
            parts += 1
        s, c = _code_part_len(px_mask, px_idx, px_off[i], px_off[i + 1], px_shown_off)
        if c > 0:
            size += px_prefix.shape[0] + s
            parts += 1
        for f in range(n_flags):
            if flags[i, f]:
                size += msg_off[f + 1] - msg_off[f]
                parts += 1
        if parts > 1:
            size += sep.shape[0] * (parts - 1)
        lengths[i] = size
        valid[i] = parts > 0
    offsets = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        offsets[i + 1] = offsets[i] + lengths[i]
    out = np.empty(offsets[n], dtype=np.uint8)
    for i in prange(n):
        if not valid[i]:
            continue
        o = offsets[i]
        parts = 0
        a = dx_off[i]
        b = dx_off[i + 1]
        s, c = _code_part_len(dx_mask, dx_idx, a, b, dx_shown_off)
        if c > 0:
            o = _put_code_part(out, o, dx_prefix, dx_mask, dx_idx, a, b, dx_shown, dx_shown_off)
            parts += 1
        a = px_off[i]
        b = px_off[i + 1]
        s, c = _code_part_len(px_mask, px_idx, a, b, px_shown_off)
        if c > 0:
            if parts > 0:
                o = _put(out, o, sep, 0, sep.shape[0])
            o = _put_code_part(out, o, px_prefix, px_mask, px_idx, a, b, px_shown, px_shown_off)
            parts += 1
        for f in range(n_flags):
            if flags[i, f]:
                if parts > 0:
                    o = _put(out, o, sep, 0, sep.shape[0])
                o = _put(out, o, msg, msg_off[f], msg_off[f + 1])
                parts += 1
    return offsets, out, valid


def utf8(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def string_buffers(strings: list) -> tuple[np.ndarray, np.ndarray]:
    """(bytes, int64 offsets) of a list of strings (None reads as "")."""
    encoded = [(s or "").encode("utf-8") for s in strings]
    off = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=off[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), off


def string_array(offsets: np.ndarray, data: np.ndarray, valid: np.ndarray) -> pa.Array:
    """An Arrow ``string`` array (``large_string`` past 2 GiB) from built buffers."""
    n = len(offsets) - 1
    null_count = int(n - np.count_nonzero(valid))
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little")) if null_count else None
    if offsets[-1] < 2**31:
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data), bitmap, null_count)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data), bitmap, null_count)
