"""Outputs that appear whole or not at all, and never over an input.

* A file is written to ``.NAME.drgtmp-PID-XXXX.tmp`` beside its target, flushed to
  disk (fsync), renamed into place, and the folder is fsynced after the rename.
* A command's output folder is built as ``.NAME.drgtmp-PID-XXXX.tmp/`` beside the
  target and swapped into place as a unit (one ``renameat2(RENAME_EXCHANGE)`` on
  Linux; two renames elsewhere), so readers see the old folder or the new one,
  never a mix. A folder that holds files drg did not write is never replaced.
* Leftovers of a killed run (our name pattern, made by a process that no longer
  exists) are removed by the next run that writes beside them.
* An output that resolves to an input (same file, symlink, a file found by a glob
  or inside a directory input, or an input inside an output folder) is refused
  before anything is read.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

TMP_TAG = ".drgtmp-"
MANIFEST = ".drg-output.json"


class OutputError(ValueError):
    """An output path that cannot be used; the message names the problem and the fix."""


# -- temporary names and leftovers ----------------------------------------------------------------

def target_of(path: str, keep_rest: bool = False) -> str:
    """The path the user named for a temporary of ours (``DIR/.NAME.drgtmp-PID-…``, or a file inside such a
    folder): ``DIR/NAME`` (with ``keep_rest``, ``DIR/NAME/`` and what lies below: where a file will be once the folder
    is in place); any other path as it is. Error lines name what the user asked for."""
    parts = str(path).split(os.sep)
    for i, part in enumerate(parts):
        if part.startswith(".") and TMP_TAG in part:
            parts[i] = part[1:part.index(TMP_TAG)]
            return os.sep.join(parts if keep_rest else parts[: i + 1])
    return str(path)


def _prefix(target: str) -> str:
    return f".{os.path.basename(target)}{TMP_TAG}{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def clean_stale(target: str) -> list[str]:
    """Remove temporaries of ``target`` left by killed runs (their process is gone); return them."""
    parent = os.path.dirname(os.path.abspath(target)) or "."
    head = f".{os.path.basename(target)}{TMP_TAG}"
    removed = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(head):
            continue
        pid = name[len(head):].split("-", 1)[0]
        if not pid.isdigit() or _pid_alive(int(pid)):
            continue
        p = os.path.join(parent, name)
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)
            removed.append(p)
        except OSError:
            pass
    return removed


def temp_file(target: str, suffix: str = ".tmp") -> str:
    """A new empty temporary file beside ``target`` (our pattern); stale ones are cleaned first."""
    clean_stale(target)
    fd, tmp = tempfile.mkstemp(prefix=_prefix(target), suffix=suffix, dir=os.path.dirname(os.path.abspath(target)))
    os.close(fd)
    return tmp


# -- durability ------------------------------------------------------------------------------------

def fsync_path(path: str) -> None:
    """Flush a file's or a folder's data to disk (a folder: its entries, i.e. renames)."""
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if os.path.isdir(path) else 0))
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot fsync a folder
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_file_target(path: str) -> None:
    """Refuse a target that exists and is not a regular file (a folder, /dev/null, a FIFO)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(st.st_mode):
        what = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise OutputError(f"{path}: is {what}; write the output to a file path")


def publish(tmp: str, path: str) -> None:
    """Move a finished temporary file into place: fsync, ordinary permissions, rename, fsync the folder."""
    check_file_target(path)
    fsync_path(tmp)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600
    os.replace(tmp, path)
    fsync_path(os.path.dirname(os.path.abspath(path)))


def stage_json(path: str, obj) -> str:
    """Write ``obj`` as JSON to a temporary file beside ``path``; :func:`publish` it later."""
    tmp = temp_file(path)
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")
    return tmp


def write_json_atomic(path: str, obj) -> None:
    publish(stage_json(path, obj), path)


def discard(*paths) -> None:
    for p in paths:
        if p and os.path.lexists(p):
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                try:
                    os.unlink(p)
                except OSError:
                    pass


# -- never over an input -----------------------------------------------------------------------------

def _real(p: str) -> str:
    return os.path.realpath(os.path.abspath(p))


def refuse_overlap(inputs, output: str, *, folder: bool = False, option: str = "-o") -> None:
    """Refuse an output that is one of ``inputs`` (or, for a folder, holds one of them)."""
    out = _real(output)
    for f in inputs:
        if not f:
            continue
        src = _real(f)
        if src == out or (os.path.exists(f) and os.path.exists(output) and os.path.samefile(f, output)):
            raise OutputError(f"{option} {output}: is the input file {f} and would destroy it; write the output to another path")
        if folder and (src + os.sep).startswith(out + os.sep):
            raise OutputError(f"{option} {output}: the output folder holds the input {f}, which replacing the folder would destroy; "
                              "choose another output folder")


# -- folders as a unit -------------------------------------------------------------------------------

_libc = None


def _exchange(a: str, b: str) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        fn = _libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _ours_or_empty(path: str) -> bool:
    try:
        names = os.listdir(path)
    except OSError:
        return False
    return not names or MANIFEST in names


class OutputFolder:
    """Build a command's output folder beside ``path`` and swap it into place on success.

    >>> with OutputFolder("eval") as tmp:   # doctest: +SKIP
    ...     write_tables(tables, tmp)

    The finished folder gets a manifest (``.drg-output.json``: command and files);
    an existing target is replaced only when it is empty or holds that manifest.
    On an exception the temporary folder is removed and the target is untouched.
    """

    def __init__(self, path: str, *, inputs=(), command: str = ""):
        self.path = os.path.abspath(path)
        self.command = command
        if os.path.lexists(self.path) and not os.path.isdir(self.path):
            raise OutputError(f"{path}: exists and is not a folder; give a folder name for the outputs")
        if os.path.isdir(self.path) and not _ours_or_empty(self.path):
            raise OutputError(f"{path}: the folder holds files drg did not write (no {MANIFEST}); "
                              "choose a new or empty output folder")
        refuse_overlap(inputs, self.path, folder=True)
        self.tmp = None

    def __enter__(self) -> str:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        clean_stale(self.path)
        self.tmp = tempfile.mkdtemp(prefix=_prefix(self.path), suffix=".tmp", dir=os.path.dirname(self.path))
        os.chmod(self.tmp, 0o777 & ~_umask())
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            discard(self.tmp)
            if isinstance(exc, ValueError) and self.tmp in str(exc):  # name the folder the user asked for
                raise type(exc)(str(exc).replace(self.tmp, self.path)) from None
            if isinstance(exc, OSError) and exc.filename and self.tmp in str(exc.filename):
                exc.filename = str(exc.filename).replace(self.tmp, self.path)
            return False
        try:
            self.commit()
        except BaseException:
            discard(self.tmp)
            raise
        return False

    def commit(self) -> None:
        files = sorted(str(p.relative_to(self.tmp)) for p in Path(self.tmp).rglob("*") if p.is_file())
        with open(os.path.join(self.tmp, MANIFEST), "w", encoding="utf-8") as f:
            json.dump({"command": self.command, "files": files}, f, ensure_ascii=False, indent=1)
        for rel in files + [MANIFEST]:
            fsync_path(os.path.join(self.tmp, rel))
        fsync_path(self.tmp)
        if os.path.isdir(self.path):
            if not _ours_or_empty(self.path):  # re-checked: it may have changed during the run
                raise OutputError(f"{self.path}: the folder now holds files drg did not write; choose a new output folder")
            if _exchange(self.tmp, self.path):
                old = self.tmp  # the old folder now lives at the temporary name
            else:
                old = tempfile.mkdtemp(prefix=_prefix(self.path), suffix=".tmp", dir=os.path.dirname(self.path))
                os.rmdir(old)
                os.rename(self.path, old)
                os.rename(self.tmp, self.path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(self.tmp, self.path)
        fsync_path(os.path.dirname(self.path))
