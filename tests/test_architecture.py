"""The house's shape, checked from the source: data flows one way (grouper -> evaluation -> drg, the
engine and the evaluation never reaching up), no import cycles, short functions, a thin CLI."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("grouper", "evaluation", "drg")
# what each layer may import of the others (the engine stands alone; evaluation works on grouped tables)
ALLOWED = {"grouper": set(), "evaluation": set(), "drg": {"grouper", "evaluation"}}


def _modules() -> dict:
    out = {}
    for pkg in PACKAGES:
        for f in sorted((ROOT / pkg).glob("*.py")):
            name = pkg if f.stem == "__init__" else f"{pkg}.{f.stem}"
            out[name] = ast.parse(f.read_text(encoding="utf-8"))
    return out


def _imports(name: str, tree: ast.AST) -> set:
    """Every module of ours that ``name`` imports, at the top or inside a function."""
    pkg = name.split(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = pkg + ("." + base if base else "")
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    mods = _modules_cache()
    return {m for m in found if m in mods and m != name}


_CACHE: dict = {}


def _modules_cache() -> dict:
    if not _CACHE:
        _CACHE.update(_modules())
    return _CACHE


def import_graph() -> dict:
    return {name: _imports(name, tree) for name, tree in _modules_cache().items()}


def test_no_layer_imports_a_higher_one():
    bad = [(m, d) for m, deps in import_graph().items() for d in deps
           if d.split(".")[0] != m.split(".")[0] and d.split(".")[0] not in ALLOWED[m.split(".")[0]]]
    assert not bad, bad


def test_no_import_cycles():
    graph = {m: {d for d in deps if d.split(".")[0] == m.split(".")[0] and d != m.split(".")[0]}
             for m, deps in import_graph().items()}
    state: dict = {}
    cycles = []

    def visit(m, path):
        state[m] = "open"
        for d in sorted(graph.get(m, ())):
            if state.get(d) == "open":
                cycles.append(path[path.index(d):] + [d] if d in path else [m, d])
            elif d not in state:
                visit(d, path + [d])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, cycles


def test_the_cli_only_parses_calls_and_prints():
    cli = (ROOT / "drg" / "cli.py").read_text(encoding="utf-8")
    assert len(cli.splitlines()) < 300
    demo = import_graph()["drg.demo"]
    assert "drg.cli" not in demo  # the demo calls the analysis functions, not the command line
