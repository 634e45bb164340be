"""Text for the terminal: data values never reach it raw.

A code or file name from the input may hold control characters (ANSI escapes that
rewrite the screen, carriage returns that hide text, bidi overrides) or run for
kilobytes. :func:`clean` removes control and format characters and cuts long runs.
"""

from __future__ import annotations

import contextlib
import errno
import re
import sys
import unicodedata

# a run of 121+ characters with no space and no Chinese punctuation: a data value (a code list, a garbled cell),
# not a sentence (Chinese sentences have no spaces, but they have ，。；：、)
_LONG = re.compile(r"[^\s，。；：、（）“”]{121,}")


def clean(value, limit: int = 1000) -> str:
    """``value`` as one printable line: control/format characters become spaces (tab and
    newline too), a run of more than 120 non-blank characters is cut with an ellipsis, and
    the whole line is cut at ``limit`` characters."""
    text = str(value)
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() and unicodedata.category(ch) not in ("Cc", "Cf") else " " for ch in text)
    else:
        text = "".join(ch if unicodedata.category(ch) != "Cf" else " " for ch in text)
    text = _LONG.sub(lambda m: m.group(0)[:117] + "…", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_KEEP = {"\n"}


def _clean_chunk(text: str) -> str:
    # str.isprintable is False for every control (Cc) and format (Cf: bidi overrides) character
    if text.isprintable() or ("\r" not in text[1:] and all(ch.isprintable() or ch in "\n\r" for ch in text)):
        return text
    head = "\r" if text.startswith("\r") else ""  # a progress line redrawn in place
    body = text[len(head):]
    return head + "".join(ch if ch in _KEEP or (ch.isprintable() and unicodedata.category(ch) != "Cf") else " "
                          for ch in body)


@contextlib.contextmanager
def clean_console():
    """stdout and stderr through :class:`CleanStream` for the time of a command."""
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = CleanStream(sys.stdout), CleanStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = streams


class CleanStream:
    """A console stream that lets no control or format character through (ANSI and OSC escapes, bidi
    overrides, carriage returns inside a line; a write may start with one carriage return, as a progress
    bar redraws its line): installed on stdout and stderr by :func:`drg.cli.main`, so every terminal
    line passes this one cleaner whatever printed it."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        from . import progress

        if progress.S.drawn:  # a line printed while a progress bar shows: the bar steps aside first
            progress.clear()
        return self._stream.write(_clean_chunk(text) if isinstance(text, str) else text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def os_error_line(e: OSError, output: str | None, lang: str = "en") -> str:
    """One line for an operating-system error in ``lang``: the path the user named (never our temporary's name; the
    output when the library raising it named none, as pyarrow's "Error writing bytes" does; the temporary folder
    when a spill file failed: :class:`evaluation.spill.SpillFile`) and what to do."""
    import os
    import tempfile

    from .atomic import target_of

    path = target_of(e.filename) if e.filename else (output or "")
    code = e.errno
    if code is None:  # pyarrow: "... Detail: [errno 28] No space left on device"
        m = re.search(r"\[errno (\d+)\]", str(e))
        code = int(m.group(1)) if m else None
    zh = lang == "zh"
    why = os.strerror(code) if code else str(e).splitlines()[0] if str(e) else type(e).__name__
    if zh:
        why = OS_WHY_ZH.get(code, why)
    room, access = ("请释放磁盘空间或写到其他位置", "请检查文件夹权限或写到其他位置") if zh else \
        ("free disk space or write elsewhere", "check the folder's permissions or write elsewhere")
    fix = {errno.ENOSPC: room, errno.EDQUOT: room, errno.EACCES: access, errno.EPERM: access,
           errno.EROFS: "请写到可写的磁盘" if zh else "write to a writable disk"}.get(
        code, "请检查路径并释放磁盘空间" if zh else "check the path and free disk space")
    if e.filename and os.path.abspath(str(e.filename)) == os.path.abspath(tempfile.gettempdir()):
        fix = ("请释放该处磁盘空间，或将环境变量 TMPDIR 设为空间充足、可写的文件夹" if zh else
               "free disk space there, or set TMPDIR to a writable folder with room")
    return f"drg: error: {path}{'：' if zh else ': '}{why}; {fix}"


# the usual operating-system errors in Chinese (os.strerror gives English)
OS_WHY_ZH = {errno.ENOSPC: "磁盘空间不足", errno.EDQUOT: "超出磁盘配额", errno.EACCES: "没有权限", errno.EPERM: "不允许的操作",
             errno.EROFS: "只读文件系统", errno.ENOENT: "文件或文件夹不存在", errno.EIO: "读写出错",
             errno.ENOTDIR: "不是文件夹", errno.EISDIR: "是文件夹", errno.ENAMETOOLONG: "文件名太长"}
