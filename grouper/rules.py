"""Parse the scheme rule language (FORMAT.md section 4) into a small AST.

The AST is made of plain tuples so that it can be pickled, hashed and walked
by the compiler (``compile.py``) and by the tracer (``explain.py``):

* ``("true",)`` / ``("false",)``
* ``("and", a, b)`` / ``("or", a, b)`` / ``("not", a)``
* ``("in", target, listref)`` with target one of ``pdx ppx any_dx any_px
  any_sdx any_spx dept leaving_type`` and listref ``("named", NAME)`` or
  ``("inline", (CODE, ...))``
* ``("tag", TAG, TLIST)``: some px element has ``TLIST[c] == TAG``
* ``("mcc",)`` / ``("cc",)``
* ``("known", FIELD)`` / ``("nonzero", FIELD)``
* ``("regions", RLIST, OP, INT)``: ``dx_region_count(@RLIST) OP INT``
* ``("cmp", VALUE, OP, VALUE)`` with VALUE ``("field", NAME)``,
  ``("count", "dx"|"px")``, ``("int", N)`` or ``("str", S)``
"""

from __future__ import annotations

import re

from .atoms import atom_of, parse_atom
from .language import RuleError

# Real schemes nest rules at most ~6 levels (and/or/not/parentheses); every walker of the AST
# (compiler, explain, naive grouper) recurses once per level, so a hostile or broken rule
# thousands of levels deep is refused with a clear error instead of exhausting the stack.
MAX_DEPTH = 200

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"[^"]*")|(?P<op>==|!=|<=|>=|<|>)|(?P<punct>[(){},])'
    r"|(?P<list>@[^\s(){},\"]+)|(?P<int>-?\d+)(?![\w.])|(?P<word>[A-Za-z_][A-Za-z_0-9]*))"
)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise RuleError(f"unexpected character {text[pos:pos + 12]!r} at position {pos}")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.depth = 0

    def nest(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise RuleError(f"rule nested more than {MAX_DEPTH} levels deep (parentheses / not); "
                            "put long alternatives in a code list and test `pdx in @LIST`")

    def peek(self, k: int = 0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("end", "")

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, value: str):
        kind, val = self.take()
        if val != value:
            raise RuleError(f"expected {value!r}, found {val or 'end of rule'!r}")

    def parse(self):
        if not self.toks:
            raise RuleError("empty rule (write `true` for a rule that always holds)")
        node = self.or_()
        if self.peek()[0] != "end":
            raise RuleError(f"unexpected {self.peek()[1]!r} after a complete rule")
        return node

    def or_(self):
        node = self.and_()
        while self.peek() == ("word", "or"):
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self):
        node = self.not_()
        while self.peek() == ("word", "and"):
            self.take()
            node = ("and", node, self.not_())
        return node

    def not_(self):
        if self.peek() == ("word", "not"):
            self.take()
            self.nest()
            node = ("not", self.not_())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self):
        kind, val = self.peek()
        if (kind, val) == ("punct", "("):
            self.take()
            self.nest()
            node = self.or_()
            self.expect(")")
            self.depth -= 1
            return node
        if kind == "word" and val in ("true", "false"):
            self.take()
            return (val,)
        return self.atom()

    def listref(self):
        kind, val = self.take()
        if kind == "list":
            return ("named", val[1:])
        if (kind, val) == ("punct", "{"):
            codes = []
            while True:
                k, v = self.take()
                if k != "str":
                    raise RuleError(f"expected a quoted code in an inline set, found {v!r}")
                codes.append(v[1:-1])
                k, v = self.take()
                if v == "}":
                    return ("inline", tuple(codes))
                if v != ",":
                    raise RuleError(f"expected ',' or '}}' in an inline set, found {v!r}")
        raise RuleError(f"expected a list (@NAME or {{...}}), found {val or 'end of rule'!r}")

    def named_only(self, what: str) -> str:
        kind, val = self.take()
        if kind != "list":
            raise RuleError(f"expected @NAME of a {what}, found {val or 'end of rule'!r}")
        return val[1:]

    def expect_in(self):
        if self.take() != ("word", "in"):
            raise RuleError("expected 'in'")

    def atom(self):
        return parse_atom(self)


def depth(node) -> int:
    """Levels of and/or/not in an AST (iterative: safe on any input)."""
    best, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        best = max(best, d)
        if n[0] in ("and", "or"):
            stack += [(n[1], d + 1), (n[2], d + 1)]
        elif n[0] == "not":
            stack.append((n[1], d + 1))
    return best


def parse_rule(text: str):
    """Parse one rule; raise :class:`RuleError` with a message saying what is wrong."""
    node = _Parser(text).parse()
    if depth(node) > MAX_DEPTH:  # e.g. thousands of terms joined by `or`
        raise RuleError(f"rule nests {depth(node)} and/or/not levels, more than {MAX_DEPTH}; put long alternatives "
                        "in a code list (lists.csv) and test `pdx in @LIST`")
    return node


def walk(node):
    """Yield every node of an AST, depth first."""
    yield node
    if node[0] in ("and", "or"):
        yield from walk(node[1])
        yield from walk(node[2])
    elif node[0] == "not":
        yield from walk(node[1])


def to_text(node) -> str:
    """Render an AST back into rule text (used by explain)."""
    op = node[0]
    if op in ("true", "false"):
        return op
    if op == "and" or op == "or":
        parts = []
        for child in (node[1], node[2]):
            s = to_text(child)
            parts.append(f"({s})" if child[0] == "or" and op == "and" else s)
        return f" {op} ".join(parts)
    if op == "not":
        s = to_text(node[1])
        return f"not ({s})" if node[1][0] in ("and", "or") else f"not {s}"
    return atom_of(node).text(node)
