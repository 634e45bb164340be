"""The ``drg`` command: parses the options and runs the command's function (:mod:`drg.commands`, one module each).

Every user error (bad file, missing column, bad option, bad scheme) ends with
one line ``drg: error: <problem>; <fix>`` and exit status 2.
"""

from __future__ import annotations

import importlib
import os
import sys

from .arguments import UsageError, build_parser, help_language, lang_after_command
from .messages_zh import error_line
from .terminal import clean


def _later(module: str, name: str):
    """A command whose module is imported when it runs (`drg serve`'s server libraries load only for it)."""
    return lambda a: getattr(importlib.import_module(module, "drg"), name)(a)


# each command's module and function, imported when the command runs
COMMANDS = {name: _later(module, function) for name, (module, function) in {
    "group": (".commands.group", "cmd_group"), "explain": (".commands.explain", "cmd_explain"),
    "scheme_check": (".commands.explain", "cmd_scheme_check"), "demo": (".commands.synth", "cmd_demo"),
    "synth": (".commands.synth", "cmd_synth"), "evaluate": (".commands.evaluate", "cmd_evaluate"),
    "risk": (".commands.risk", "cmd_risk"), "audit": (".commands.audit", "cmd_audit"), "pay": (".commands.pay", "cmd_pay"),
    "tiered_care": (".commands.tiered_care", "cmd_tiered_care"), "support": (".commands.support", "cmd_support"),
    "report": (".report", "report_command"), "serve": (".serve.command", "serve"), "check": (".check.command", "check"),
    **{f"dip_{c}": (".dip", f"dip_{c}") for c in ("build", "group", "pay")}}.items()}


def main(argv=None) -> int:
    """``drg ARGV``: every line it prints to the terminal passes :class:`drg.terminal.CleanStream`."""
    from .terminal import clean_console

    with clean_console():
        return _run(argv)


def _run(argv) -> int:
    from grouper.columns import ColumnError
    from grouper.scheme import SchemeError

    from .atomic import OutputError
    from .io import InputError

    try:
        argv = lang_after_command(sys.argv[1:] if argv is None else argv)
        args = build_parser(help_language(argv)).parse_args(argv)
    except SystemExit as e:  # -h (0) or a refused option (2, one line printed): a status, also when called in-process
        return e.code if isinstance(e.code, int) else 2
    from . import progress

    if args.command not in ("group", "explain", "scheme_check", "serve", "check", "dip_build", "dip_group", "dip_pay"):  # group draws its own bar; the others are instant
        progress.start(args.command.replace("_", "-"), getattr(args, "lang", "zh"), getattr(args, "quiet", False))
    from .contract import NOTES

    NOTES.clear()
    try:
        status = COMMANDS[args.command](args)
        print(*NOTES, sep="\n", file=sys.stderr) if NOTES else None
        return status
    except (SchemeError, ColumnError, InputError, UsageError, OutputError) as e:
        return _fail(error_line(e, getattr(args, "lang", "zh")), 2)
    except KeyboardInterrupt:
        return _fail("drg: interrupted; no output was written", 130)
    except BrokenPipeError:  # whoever read our console lines stopped (`| head`): the outputs are already written
        try:  # and Python must not complain again when it flushes stdout at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    except OSError as e:
        from .terminal import os_error_line

        return _fail(clean(os_error_line(e, getattr(args, "output", None), getattr(args, "lang", "zh"))), 2)
    finally:
        progress.finish()


def _fail(line: str, status: int) -> int:
    """Print the one line, and keep the destructors of what failed (e.g. a half-written zip of a
    workbook on a full disk) from printing "Exception ignored in ..." under it."""
    print(line, file=sys.stderr)
    sys.unraisablehook = lambda unraisable: None
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
