"""The README's two commands are the ones the project runs: CI runs exactly the test command."""

from __future__ import annotations

import re

from conftest import ROOT


def _two_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_readme_commands_exist_and_ci_runs_the_test_command():
    demo, test = _two_commands()
    for cmd in (demo, test):
        script = cmd.split()[1]
        assert cmd.startswith("bash ") and (ROOT / script).is_file(), cmd
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci
    # both make or use a venv: a PEP 668 system Python refuses pip install
    for cmd in (demo, test):
        assert "scripts/venv.sh" in (ROOT / cmd.split()[1]).read_text(encoding="utf-8")
