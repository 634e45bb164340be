"""Store a compiled scheme on disk without pickle, and read it back safely.

A cache file is one ``.npz`` (a zip of ``.npy`` arrays) read with
``allow_pickle=False``: the kernel arrays as they are, and everything else of the
:class:`~grouper.compile.CompiledScheme` as JSON in a ``uint8`` array. JSON has no
tuples and only string keys, so tuples and other dicts are tagged (``{"t": [...]}``,
``{"p": [[key, value], ...]}``, ``{"d": {...}}``) and rebuilt exactly on load. Nothing
in the file can make the reader execute code: a file that does not parse, has an
unexpected shape, carries another digest or whose content does not match the SHA-256
stored with it is a cache miss.

Compiled code is loaded only from a folder this user owns and nobody else can write
(:func:`trusted_cache_dir`), where ssh and pip draw the same line: Numba's own ``.nbi``
index files are pickles by Numba's design, so a folder others can write is never used.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import fields
from pathlib import Path

import numpy as np

FORMAT = "drg-compiled-scheme/2"
_META = "__meta__"
_SUM = "__sha256__"
_warned: set = set()
_private_tmp: list = []


def cache_dir() -> Path:
    """Where compiled schemes and kernels are kept: ``DRG_CACHE_DIR``, else ``$XDG_CACHE_HOME/drg-toolkit``, else
    ``~/.cache/drg-toolkit`` (whether it may be used: :func:`trusted_cache_dir`)."""
    base = os.environ.get("DRG_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "drg-toolkit" if xdg else Path.home() / ".cache" / "drg-toolkit"


def _unsafe_reason(path: Path) -> str | None:
    """Why ``path`` (an existing folder) must not hold compiled code, or None when only this user can write it."""
    st = path.stat()  # the folder itself (a symlink to a private folder is fine)
    import stat as _stat

    if not _stat.S_ISDIR(st.st_mode):
        return "is not a folder"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return f"is owned by another user (uid {st.st_uid})"
    if st.st_mode & 0o022:
        return f"can be written by group or others (mode {_stat.S_IMODE(st.st_mode):o})"
    return None


def trusted_cache_dir() -> Path | None:
    """The cache folder (:func:`cache_dir`), made private (mode 0700) when it does not exist yet;
    None, with one warning a process, when it exists but is owned by another user or writable by group or
    others: compiled schemes and Numba kernels are then made anew and not stored."""
    path = cache_dir()
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:
                pass
        reason = _unsafe_reason(path)
    except OSError as e:  # read-only home, no permission: run without a cache
        reason = f"cannot be used ({e.strerror or e})"
    if reason is None:
        return path
    if str(path) not in _warned:
        _warned.add(str(path))
        import sys

        print(f"drg: warning: cache folder {path} {reason}; compiling without a cache (nothing is loaded from it). "
              f"Fix: chmod 700 it as its owner, or set DRG_CACHE_DIR to a private folder", file=sys.stderr)
    return None


def private_temporary_dir() -> str:
    """A folder of this process only (0700, removed at exit): where Numba compiles when the cache is not trusted."""
    if not _private_tmp:
        import atexit
        import shutil

        d = tempfile.mkdtemp(prefix="drg-kernels-")
        _private_tmp.append(d)
        atexit.register(shutil.rmtree, d, True)
    return _private_tmp[0]


def _content_sha256(meta_bytes: bytes, arrays: dict) -> str:
    import hashlib

    h = hashlib.sha256(meta_bytes)
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()


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
    meta_bytes = json.dumps(meta, ensure_ascii=False).encode("utf-8")
    payload = {_META: np.frombuffer(meta_bytes, dtype=np.uint8)}
    for name, arr in compiled.arrays.items():
        arr = np.asarray(arr)
        if arr.dtype == object:
            raise TypeError(f"array {name} has dtype object; the cache stores numeric arrays only")
        payload["a_" + name] = arr
    digest = _content_sha256(meta_bytes, {k[2:]: v for k, v in payload.items() if k.startswith("a_")})
    payload[_SUM] = np.frombuffer(digest.encode("ascii"), dtype=np.uint8)
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
            meta_bytes = bytes(z[_META])
            stored = bytes(z[_SUM]).decode("ascii")
            arrays = {k[2:]: z[k] for k in z.files if k.startswith("a_")}
        if stored != _content_sha256(meta_bytes, arrays):  # tampered or damaged content under the right name
            return None
        meta = json.loads(meta_bytes.decode("utf-8"))
        if meta.get("format") != FORMAT:
            return None
        values = {k: _decode(v) for k, v in meta["fields"].items()}
        if values.get("digest") != digest:
            return None
        return CompiledScheme(arrays=arrays, **values)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile, UnicodeDecodeError, EOFError):
        return None
