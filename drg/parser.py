"""The ``drg`` parser's machinery: one line for every refusal (with the option meant where one is mistyped), help
that wraps Chinese by its display width, the language of help and messages, and the help texts put in place
(:mod:`drg.arguments` declares the commands and options)."""

from __future__ import annotations

import argparse

class UsageError(ValueError):
    pass


LANG = {"now": "zh"}  # the language of the parser being built (its type errors are written in it)


def in_chinese() -> bool:
    """Whether the parser being built speaks Chinese (its type errors are written in it)."""
    return LANG["now"] == "zh"


def display_width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap_text(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns (a Chinese character takes two), broken between
    Chinese characters or at spaces, never inside a word, option or number (no ``fallb ack``)."""
    import re

    lines, line, w = [], "", 0
    for tok in re.findall(r"[\x21-\x7e]+|\s+|.", " ".join(text.split())):
        tw = display_width(tok)
        if tok.isspace():
            if line:
                line, w = line + " ", w + 1
            continue
        if w + tw > width and line.strip():
            lines.append(line.rstrip())
            line, w = "", 0
        line, w = line + tok, w + tw
    if line.strip():
        lines.append(line.rstrip())
    return lines


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help wrapped by display width (:func:`wrap_text`); descriptions and examples keep their lines."""

    def _split_lines(self, text, width):
        return wrap_text(text, width)


def _all_options(parser) -> list[str]:
    out = []
    for a in parser._actions:
        out += [o for o in a.option_strings if o.startswith("--")]
        if isinstance(a, argparse._SubParsersAction):
            for sp in a.choices.values():
                out += _all_options(sp)
    return sorted(set(out))


def suggestion(message: str, parser) -> str:
    """``did you mean --budget?`` for a mistyped option or command of ``message`` (difflib's close matches)."""
    import difflib
    import re

    root = parser
    while getattr(root, "_drg_root", None) is not None and root._drg_root is not root:
        root = root._drg_root
    words = []
    pool = _all_options(root)
    typed = [a.split("=")[0] for a in LANG.get("argv", []) if a.startswith("--") and a.split("=")[0] not in pool]
    if "unrecognized" in message or "无法识别" in message or typed:
        for tok in dict.fromkeys(typed + re.findall(r"--[\w-]+", message)):
            if tok not in pool:
                words += difflib.get_close_matches(tok, pool, n=1, cutoff=0.6)
    m = re.search(r"'([^']+)'", message)
    if m and ("invalid choice" in message or "无效的选项值" in message):
        choices = re.findall(r"'([^']+)'", message.split("(", 1)[-1]) if "(" in message else []
        for a in parser._actions:
            if isinstance(a, argparse._SubParsersAction):
                choices = list(a.choices)
            elif a.choices and not choices:
                choices = list(a.choices)
        words += difflib.get_close_matches(m.group(1), [str(c) for c in choices], n=1, cutoff=0.5)
    if not words:
        return ""
    return f"，是否想输入 {' '.join(words)}？" if in_chinese() else f"; did you mean {' '.join(words)}?"


class Parser(argparse.ArgumentParser):
    """argparse's parser whose errors are one line, ``drg: error: <problem>; see drg CMD -h`` (exit 2), like
    every other refusal of ours (argparse prints its usage block first), with the option or command meant when
    one was mistyped."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        import sys

        import re

        hint = f"见 {self.prog} -h" if in_chinese() else f"see {self.prog} -h"
        message = re.sub(r"^(?:argument |参数 ?)(\S+?)(?:: |：)", r"\1 ", message)  # "--batch-size 0 is outside ..."
        if message.startswith("command "):
            message = ("命令" if in_chinese() else "command ") + message[len("command "):]
        if re.search(r"(required: |必需参数：)command$", message):  # `drg` alone
            message = ("缺少命令：drg 之后写一个命令，如 drg group、drg evaluate、drg report" if in_chinese() else
                       "no command: write one after drg, e.g. drg group, drg evaluate, drg report")
        sys.stderr.write(f"drg: error: {message}{suggestion(message, self)}; {hint}\n")  # one format for every refusal
        sys.exit(2)


def every_command(sub, lang: str, parent: str = "") -> None:
    """What every command has: ``--lang`` and ``-q`` (no progress), and its examples under the help."""
    from .help_zh import EXAMPLES

    for name, sp in sub.choices.items():
        have = {o for a in sp._actions for o in a.option_strings}
        if "--lang" not in have:
            sp.add_argument("--lang", choices=["zh", "en"], default="zh")
        if "-q" not in have and name != "scheme":
            sp.add_argument("-q", "--quiet", action="store_true")
        lines = EXAMPLES.get(f"{parent} {name}".strip())
        if lines:
            sp.epilog = ("示例：\n" if lang == "zh" else "examples:\n") + "\n".join(f"  {x}" for x in lines)
        for a in sp._actions:
            if isinstance(a, argparse._SubParsersAction):
                every_command(a, lang, f"{parent} {name}".strip())


def lang_after_command(argv: list[str]) -> list[str]:
    """``drg --lang en evaluate ...`` as ``drg evaluate ... --lang en``: the option is the command's."""
    argv = list(argv)
    LANG["argv"] = argv  # the options typed, for the suggestion of a mistyped one
    if len(argv) > 2 and argv[0] == "--lang":
        return argv[2:] + argv[:2]
    if len(argv) > 1 and argv[0].startswith("--lang="):
        return argv[1:] + argv[:1]
    return argv


def help_language(argv) -> str:
    """The language of help and messages: ``--lang en`` anywhere on the command line, else Chinese."""
    argv = list(argv or [])
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv):
            return "en" if argv[i + 1] == "en" else "zh"
        if a.startswith("--lang="):
            return "en" if a.split("=", 1)[1] == "en" else "zh"
    return "zh"


def localize(parser: argparse.ArgumentParser, lang: str) -> None:
    """Help texts in ``lang``."""
    from .help_zh import HELP_BY_DEST, HELP_ZH

    def walk(p):
        if lang == "zh" and p.description:
            p.description = HELP_ZH.get(p.description, p.description)
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for choice in a._choices_actions:
                    choice.help = HELP_ZH.get(choice.help, choice.help) if lang == "zh" else choice.help
                for sp in a.choices.values():
                    walk(sp)
                continue
            if a.help is None and a.dest in HELP_BY_DEST:
                a.help = HELP_BY_DEST[a.dest][0 if lang == "zh" else 1]
            elif lang == "zh" and a.help in HELP_ZH:
                a.help = HELP_ZH[a.help]

    walk(parser)
