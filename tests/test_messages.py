"""Every refusal of ours has its Chinese (issue 33, item 8): drg/data/messages_zh.csv holds a Chinese template for each
English message template raised in drg/, evaluation/ and grouper/, and the command line prints it by default."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from drg.messages_zh import MESSAGES, translate

ROOT = Path(__file__).resolve().parents[1]
ERRORS = {"InputError", "UsageError", "ColumnError", "SchemeError", "OutputError", "EvaluationError", "TooFewCases",
          "RuleError", "ArgumentTypeError", "RequestError"}
TWO_PARTS = {"RequestError"}  # (problem, fix): both are shown
CJK = re.compile(r"[\u4e00-\u9fff]")


def _template(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = _template(node.left), _template(node.right)
        return None if a is None or b is None else a + b
    return None


def raised_templates() -> list:
    """(file, line, template) of every error we raise with a message written in place."""
    out = []
    for folder in ("drg", "evaluation", "grouper"):
        for f in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and node.args:
                    fn = node.func
                    name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
                    for arg in node.args[:2 if name in TWO_PARTS else 1] if name in ERRORS else ():
                        t = _template(arg)
                        if t is not None:
                            out.append((str(f.relative_to(ROOT)), node.lineno, t))
    return out


def test_every_message_we_raise_has_its_chinese():
    missing = [f"{f}:{line}: {t!r}" for f, line, t in raised_templates()
               if t not in MESSAGES and not CJK.search(t) and "{}" != t.strip()]
    assert not missing, "add these to drg/data/messages_zh.csv (columns en, zh):\n" + "\n".join(missing)


@pytest.mark.parametrize("en", sorted(MESSAGES))
def test_each_translation_is_chinese_and_keeps_its_parts(en):
    zh = MESSAGES[en]
    words = re.sub(r"\{\d?\}|--[\w-]+|[\w.]+\.(csv|toml|parquet|md)|`[^`]*`", "", en)
    assert CJK.search(zh) or not re.search(r"[A-Za-z]{3,}", words), zh  # (a joint such as "--config {}: {}" has no words)
    n = en.count("{}")
    numbered = sorted(set(re.findall(r"\{(\d)\}", zh)))
    assert (zh.count("{}") == n) if not numbered else (len(numbered) <= n and int(numbered[-1]) < n), (en, zh)
    sample = en.replace("{}", "X")  # a message made from the template (every part X) comes out as the Chinese
    parts = ["X"] * n
    expected = re.sub(r"\{(\d)\}", lambda m: parts[int(m.group(1))], zh) if numbered else zh.replace("{}", "X")
    assert translate(sample) == expected or CJK.search(translate(sample)), (sample, translate(sample))
    if "; " in en:  # drg: error: <problem>; <fix>
        assert "; " in zh, zh


def test_the_command_line_refuses_in_chinese_by_default_and_in_english_on_request(tmp_path, capsys):
    from drg.cli import main

    assert main(["evaluate", str(tmp_path / "nope.parquet"), "-o", str(tmp_path / "e")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("drg: error: ") and "文件不存在; 请检查路径" in err and err.count("\n") == 0
    assert main(["evaluate", str(tmp_path / "nope.parquet"), "-o", str(tmp_path / "e"), "--lang", "en"]) == 2
    assert "no such file; check the path" in capsys.readouterr().err
    assert main(["pay", str(tmp_path / "nope.parquet"), "--budget", "abc", "-o", str(tmp_path / "p")]) == 2
    assert "--budget 'abc'：不是金额" in capsys.readouterr().err


def test_a_message_inside_a_message_is_translated_in_turn():
    line = translate("--config pay.toml: k_lo=2: out of range; write a number above 0 and at most 1")
    assert line == "--config pay.toml：k_lo=2：超出范围; 请写大于0且不超过1的数"
    rule = translate("/s/drg.csv: row 2, column rule: unexpected character '#' at position 5 in 'age > #'; fix the rule "
                     "(grammar in FORMAT.md section 4)")
    assert rule == "/s/drg.csv：第2行 rule 列：第5个位置出现意外字符 '#'，位于 'age > #'; 请改正规则(语法见 FORMAT.md 第4节)"
    assert translate("something a library said") == "something a library said"  # not ours: as it is


@pytest.mark.slow
def test_the_command_line_helps_a_user_who_types(capsys):
    """drg --version; examples under every command's help; help wrapped without splitting a word; --lang before or
    after the command; a mistyped option or command gets the one meant; drg alone says to write a command."""
    import os
    import subprocess
    import sys

    from drg.arguments import EXAMPLES_COMMANDS, wrap_text
    from drg.cli import main

    run = lambda *a: subprocess.run([sys.executable, "-m", "drg.cli", *a], capture_output=True, text=True,  # noqa: E731
                                    env={**os.environ, "COLUMNS": "80"})
    p = run("--version")
    assert p.returncode == 0 and re.fullmatch(r"drg \d+\.\d+\.\d+\S*\s*", p.stdout)
    for command in EXAMPLES_COMMANDS:
        p = run(*command.split(), "-h")
        assert p.returncode == 0 and "示例：" in p.stdout and f"drg {command}" in p.stdout.split("示例：")[1], command
        assert "examples:" in run("--lang", "en", *command.split(), "-h").stdout, command
    help_pay = run("pay", "-h").stdout
    assert "fallback" in help_pay and "fallb\n" not in help_pay  # the word that was split: whole
    assert all(len(line) <= 12 or " " not in line for line in wrap_text("k_lo、k_hi、los_max、fallback、s_keep等", 12))
    assert main(["evaluate", "x.parquet", "-o", "y", "--hospitlas", "h.csv"]) == 2
    assert "是否想输入 --hospitals？" in capsys.readouterr().err
    assert main(["evalute", "x.parquet"]) == 2
    assert "是否想输入 evaluate？" in capsys.readouterr().err
    assert main(["--lang", "en", "evaluate", "x.parquet", "-o", "y", "--perid", "month"]) == 2
    assert "did you mean --period?" in capsys.readouterr().err
    assert main([]) == 2 and "缺少命令" in capsys.readouterr().err
    assert main(["--lang", "en"]) == 2 and "no command" in capsys.readouterr().err
