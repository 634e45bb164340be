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
    """Every module of the three packages, sub-packages included (``drg.report.sections.money``), by dotted name."""
    out = {}
    for pkg in PACKAGES:
        for f in sorted((ROOT / pkg).rglob("*.py")):
            parts = f.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = (ast.parse(f.read_text(encoding="utf-8")), parts[-1] == "__init__")
    return out


def _imports(name: str, tree: ast.AST) -> set:
    """Every module of ours that ``name`` imports, at the top or inside a function (relative imports resolved
    from the module's own package: ``from ..io import x`` in ``drg.report.page`` is ``drg.io``)."""
    mods = _modules_cache()
    here = name.split(".") if mods[name][1] else name.split(".")[:-1]  # the package a relative import starts from
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = here[:len(here) - (node.level - 1)]
                base = ".".join(up + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m in mods and m != name}


_CACHE: dict = {}


def _modules_cache() -> dict:
    if not _CACHE:
        _CACHE.update(_modules())
    return _CACHE


def import_graph() -> dict:
    return {name: _imports(name, tree) for name, (tree, _) in _modules_cache().items()}


def test_no_layer_imports_a_higher_one():
    bad = [(m, d) for m, deps in import_graph().items() for d in deps
           if d.split(".")[0] != m.split(".")[0] and d.split(".")[0] not in ALLOWED[m.split(".")[0]]]
    assert not bad, bad


def test_no_private_name_is_imported_across_modules():
    """A name with a leading underscore is its module's own: another module that needs it needs a public name
    (issue 35). ``from x import public as _alias`` is fine; ``import x`` followed by ``x._private`` is caught too."""
    mods = _modules_cache()
    bad = []
    for name, (tree, _) in mods.items():
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                bad += [(name, node.module, a.name) for a in node.names
                        if a.name.startswith("_") and not a.name.startswith("__")]
            elif isinstance(node, ast.Import):
                aliases.update({(a.asname or a.name): a.name for a in node.names})
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and aliases.get(node.value.id, "") in mods):
                bad.append((name, aliases[node.value.id], node.attr))
    assert not bad, bad


def test_no_function_is_longer_than_80_lines():
    """Issue 35: a function that does several things says so by being several functions (docstring included)."""
    long = [(name, node.name, node.end_lineno - node.lineno + 1) for name, (tree, _) in _modules_cache().items()
            for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > 80]
    assert not long, long


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


def test_every_atom_is_known_wherever_atoms_must_be_known():
    """Each atom of grouper/atoms/ has its parse, text, compile, trace and synthesis there; the kernel's rule
    interpreter (grouper/program.py) executes its opcodes; the independent naive grouper parses its words and the scheme generator
    writes them. A new atom that misses one of these fails here."""
    import inspect
    import re

    from grouper import atoms, program

    opcode_names = {v: k for k, v in vars(atoms).items() if k.startswith("OP_")}
    kernel_src = inspect.getsource(program.eval_program.py_func)
    naive_src = (ROOT / "tests" / "naive.py").read_text(encoding="utf-8")
    gen_src = (ROOT / "tests" / "schemegen.py").read_text(encoding="utf-8")
    assert {n for a in atoms.ATOMS for n in a.nodes} == set(atoms.BY_NODE)
    for a in atoms.ATOMS:
        kind = type(a)
        for method in ("parse", "text", "emit", "trace", "satisfy"):
            assert getattr(kind, method) is not getattr(atoms.Atom, method), (kind.__name__, method)
        for op in a.opcodes:
            assert opcode_names[op] in kernel_src, (kind.__name__, opcode_names[op])
        for word in a.words:
            pattern = re.compile(r"\b" + re.escape(word) + r"\b")
            assert pattern.search(naive_src), (kind.__name__, word, "tests/naive.py")
            assert pattern.search(gen_src), (kind.__name__, word, "tests/schemegen.py")


def test_an_unknown_atom_is_refused_everywhere():
    """No walker skips an atom it does not know (synth used to ignore unknown atoms silently)."""
    import pytest

    from grouper.atoms import atom_of
    from grouper.rules import to_text

    node = ("new_atom", 1)
    with pytest.raises(ValueError, match="unknown rule atom"):
        atom_of(node)
    with pytest.raises(ValueError, match="unknown rule atom"):
        to_text(("and", ("true",), node))
