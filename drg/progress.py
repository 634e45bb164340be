"""Progress of every command on stderr: the phase, the rows read so far of the rows in the input, rows/s and the
time left, redrawn in place twice a second by one ticker thread (also while a model is fitted and no row moves).

Nothing is drawn in the first second of a command (a short run prints nothing), nor with ``-q``, nor when stderr
is not a terminal (a log file gets the lines, not the redraws; ``DRG_PROGRESS=1`` draws anyway), nor when the
functions are called as a library (:func:`start` is called by the command line only). A line any other code prints
first clears the bar (:class:`drg.terminal.CleanStream` calls :func:`clear`), so a bar never runs into a message.
"""

from __future__ import annotations

import sys
import threading
import time

DELAY_S = 1.0  # a command that ends within this shows no bar at all
TICK_S = 0.5

WORDS = {"zh": {"rows": "行", "per_s": "行/秒", "left": "剩余", "s": "秒", "pass": "第{n}遍读取", "elapsed": "已用",
                "fit": "拟合模型", "tables": "计算结果表", "read": "读取病例", "write": "写出结果"},
         "en": {"rows": "rows", "per_s": "rows/s", "left": "ETA", "s": "s", "pass": "pass {n}", "elapsed": "elapsed",
                "fit": "fitting models", "tables": "computing tables", "read": "reading cases", "write": "writing"}}


def word(key: str) -> str:
    """A phase's name in the command's language."""
    return WORDS[S.lang][key]


class _State:
    def __init__(self):
        self.lock = threading.RLock()
        self.active = False
        self.command, self.lang, self.stream = "", "zh", sys.stderr
        self.phase, self.rows, self.total, self.passes = "", 0, None, 0
        self.started = self.phase_started = 0.0
        self.drawn = 0  # width of the bar on screen (0: none)
        self.delay, self.tick = DELAY_S, TICK_S
        self.thread: threading.Thread | None = None
        self.stop = threading.Event()


S = _State()


def start(command: str, lang: str = "zh", quiet: bool = False, stream=None) -> None:
    """Show progress for the command now starting (the command line calls this; ``quiet`` shows none)."""
    import os

    finish()
    # the stream under drg.terminal.CleanStream: the bar is our own text, and the cleaner calls clear()
    raw = stream or getattr(sys.stderr, "_stream", sys.stderr)
    try:
        tty = raw.isatty()
    except (AttributeError, ValueError):
        tty = False
    # on a terminal only (a log file or a pipe gets the lines, not the redraws), or when DRG_PROGRESS=1 asks for it
    if quiet or not (tty or os.environ.get("DRG_PROGRESS") == "1"):
        return
    S.delay = float(os.environ.get("DRG_PROGRESS_DELAY", DELAY_S))  # tests draw from the start, often
    S.tick = float(os.environ.get("DRG_PROGRESS_TICK", TICK_S))
    with S.lock:
        S.active, S.command, S.lang, S.stream = True, command, lang if lang in WORDS else "zh", raw
        S.phase, S.rows, S.total, S.passes, S.drawn = "", 0, None, 0, 0
        S.started = S.phase_started = time.perf_counter()
        S.stop = threading.Event()
        S.thread = threading.Thread(target=_tick, name="drg-progress", daemon=True)
        S.thread.start()


def phase(text: str, total: int | None = None) -> None:
    """A new phase (``text`` in the command's language; ``total`` rows when known)."""
    with S.lock:
        S.phase, S.rows, S.total, S.phase_started = text, 0, total, time.perf_counter()


def reading(total: int | None) -> None:
    """A new pass over the input (of ``total`` rows when known): the phase says which pass."""
    with S.lock:
        S.passes += 1
        n = S.passes
    phase(WORDS[S.lang]["pass"].format(n=n), total)


def advance(rows: int) -> None:
    with S.lock:
        S.rows += rows


def clear() -> None:
    """Wipe the bar off its line (before another line is printed); the ticker draws it again."""
    with S.lock:
        _clear_locked()


def _clear_locked() -> None:
    if S.drawn:
        try:
            S.stream.write("\r" + " " * S.drawn + "\r")
            S.stream.flush()
        except (OSError, ValueError):
            pass
        S.drawn = 0


def finish() -> None:
    """The command is done: stop the ticker and leave the terminal as it was."""
    thread = S.thread
    if thread is not None:
        S.stop.set()
        thread.join()
    with S.lock:
        _clear_locked()
        S.active, S.thread = False, None


def _line() -> str:
    w = WORDS[S.lang]
    now = time.perf_counter()
    dt = max(now - S.phase_started, 1e-9)
    head = f"drg {S.command}" + (f"：{S.phase}" if S.lang == "zh" and S.phase else f": {S.phase}" if S.phase else "")
    if S.total:
        done = min(S.rows, S.total)
        rate = S.rows / dt
        left = (S.total - done) / rate if rate > 0 else 0.0
        bar = "#" * int(20 * done / S.total) + "-" * (20 - int(20 * done / S.total))
        return (f"{head} [{bar}] {done:,}/{S.total:,}{w['rows']} ({100 * done / S.total:.0f}%) {rate:,.0f}{w['per_s']} "
                f"{w['left']} {left:,.0f}{w['s']}")
    if S.rows:
        return f"{head} {S.rows:,}{w['rows']} {S.rows / dt:,.0f}{w['per_s']} {w['elapsed']} {now - S.started:,.0f}{w['s']}"
    return f"{head} … {w['elapsed']} {now - S.started:,.0f}{w['s']}"


def _tick() -> None:
    from .arguments import display_width

    while not S.stop.wait(S.tick):
        with S.lock:
            if time.perf_counter() - S.started < S.delay:
                continue
            text = _line()
            width = display_width(text)
            try:
                S.stream.write("\r" + text + " " * max(0, S.drawn - width))
                S.stream.flush()
            except (OSError, ValueError):
                return
            S.drawn = max(width, 1)
