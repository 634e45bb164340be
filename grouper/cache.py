"""Store a compiled scheme on disk without pickle, and read it back safely.

A cache file is one ``.npz`` (a zip of ``.npy`` arrays) read with
``allow_pickle=False``: the kernel arrays as they are, and everything else of the
:class:`~grouper.compile.CompiledScheme` as JSON in a ``uint8`` array. JSON has no
tuples and only string keys, so tuples and other dicts are tagged (``{"t": [...]}``,
``{"p": [[key, value], ...]}``, ``{"d": {...}}``) and rebuilt exactly on load. Nothing
in the file can make the reader execute code: a file that does not parse, has an
unexpected shape or carries another digest is a cache miss.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import fields
from pathlib import Path

import numpy as np

FORMAT = "drg-compiled-scheme/1"
_META = "__meta__"


def _encode(x):
    if isinstance(x, tuple):
        return {"t": [_encode(v) for v in x]}
    if isinstance(x, list):
        return [_encode(v) for v in x]
    if isinstance(x, dict):
        if all(isinstance(k, str) for k in x):
            return {"d": {k: _encode(v) for k, v in x.items()}}
        return {"p": [[_encode(k), _encode(v)] for k, v in x.items()]}
    if isinstance(x, (bool, str, float)) or x is None:
        return x
    if isinstance(x, (int, np.integer)):
        return int(x)
    raise TypeError(f"cannot store {type(x).__name__} in the scheme cache")


def _decode(x):
    if isinstance(x, list):
        return [_decode(v) for v in x]
    if isinstance(x, dict):
        if len(x) != 1:
            raise ValueError("malformed cache entry")
        (tag, body), = x.items()
        if tag == "t":
            return tuple(_decode(v) for v in body)
        if tag == "d":
            return {k: _decode(v) for k, v in body.items()}
        if tag == "p":
            return {_decode(k): _decode(v) for k, v in body}
        raise ValueError("malformed cache entry")
    return x


def save_compiled(compiled, path: str | os.PathLike) -> None:
    """Write ``compiled`` to ``path`` (temporary file + rename: readers never see half a file)."""
    from .compile import CompiledScheme

    names = [f.name for f in fields(CompiledScheme) if f.name != "arrays"]
    meta = {"format": FORMAT, "fields": {n: _encode(getattr(compiled, n)) for n in names}}
    payload = {_META: np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)}
    for name, arr in compiled.arrays.items():
        arr = np.asarray(arr)
        if arr.dtype == object:
            raise TypeError(f"array {name} has dtype object; the cache stores numeric arrays only")
        payload["a_" + name] = arr
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **payload)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_compiled(path: str | os.PathLike, digest: str):
    """The :class:`~grouper.compile.CompiledScheme` stored at ``path``, or None when the file is
    missing, unreadable, of another format or of another digest (a miss: the caller recompiles)."""
    from .compile import CompiledScheme

    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z[_META]).decode("utf-8"))
            arrays = {k[2:]: z[k] for k in z.files if k.startswith("a_")}
        if meta.get("format") != FORMAT:
            return None
        values = {k: _decode(v) for k, v in meta["fields"].items()}
        if values.get("digest") != digest:
            return None
        return CompiledScheme(arrays=arrays, **values)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile, UnicodeDecodeError, EOFError):
        return None
