"""The rule language's shared pieces (FORMAT.md section 4): the kernel's opcodes and operand kinds, the identity of
a list reference, and :class:`Atom`, the interface every atom implements (:mod:`grouper.atoms`)."""

from __future__ import annotations

from ..language import CMP_OPS, RuleError, int64_literal

# Opcodes of program.eval_program: (op, a, b, c) per instruction
OP_TRUE, OP_FALSE = 0, 1
OP_PDX, OP_PPX, OP_ANY_DX, OP_ANY_PX, OP_ANY_SDX, OP_ANY_SPX, OP_SFIELD_IN = 2, 3, 4, 5, 6, 7, 8
OP_MCC, OP_CC, OP_KNOWN, OP_NONZERO, OP_REGIONS, OP_CMP, OP_COUNT = 9, 10, 11, 12, 13, 14, 15
OP_JF, OP_JT, OP_NOT = 20, 21, 22
CMP_CODE = {op: i for i, op in enumerate(CMP_OPS)}  # == != < <= > >=: the kernel's compare() codes
IN_OPS = {"pdx": OP_PDX, "ppx": OP_PPX, "any_dx": OP_ANY_DX, "any_px": OP_ANY_PX, "any_sdx": OP_ANY_SDX, "any_spx": OP_ANY_SPX}
# Operand kinds of OP_CMP.
V_INT_FIELD, V_STR_FIELD, V_DX_COUNT, V_PX_COUNT, V_INT, V_STR = 0, 1, 2, 3, 4, 5


COUNT_TARGETS = ("dx", "px", "sdx", "spx")  # count(...) target codes 0..3 of OP_COUNT


def list_key(ref) -> tuple:
    """The identity of a list reference: ("named", NAME) or ("inline", sorted distinct codes)."""
    return ("named", ref[1]) if ref[0] == "named" else ("inline", tuple(sorted(set(ref[1]))))


def prefix_key(ref) -> tuple:
    """The identity of a list of code prefixes (``pdx prefix in L``): ("prefix", "named", NAME) or
    ("prefix", "inline", sorted distinct prefixes)."""
    return ("prefix",) + list_key(ref)


def key_of(node) -> tuple:
    """The list identity a membership node (``in`` or ``prefix``) tests."""
    return prefix_key(node[2]) if node[0] == "prefix" else list_key(node[2])


def ref_text(ref) -> str:
    return "@" + ref[1] if ref[0] == "named" else "{" + ",".join(f'"{c}"' for c in ref[1]) + "}"


def compared_to_int(p, name: str) -> tuple:
    """The ``OP N`` after ``name(...)``: (operator, integer)."""
    _, op = p.take()
    if op not in CMP_OPS:
        raise RuleError(f"expected a comparison after {name}(...), found {op!r}")
    k, num = p.take()
    if k != "int":
        raise RuleError(f"expected an integer after {name}(...) {op}, found {num!r}")
    return op, int64_literal(num)


def hits_text(text: str, r: bool, hits) -> str:
    return f"{text} = {r}" + (f" ({', '.join(hits)})" if hits else "")


class Atom:
    """One kind of atom. ``nodes``: the AST node names it produces; ``opcodes``: the kernel opcodes
    its instructions use; ``words``: the rule-text words that introduce it."""

    nodes: tuple = ()
    opcodes: tuple = ()
    words: tuple = ()

    def parse(self, p):
        """The node for the tokens at the parser ``p`` (consumed), or None (nothing consumed)."""
        raise NotImplementedError

    def text(self, node) -> str:
        raise NotImplementedError

    def emit(self, c, node) -> None:
        """Append the node's instructions to the compiler ``c``."""
        raise NotImplementedError

    def trace(self, ctx, node, notes: list) -> bool:
        """Evaluate the node for the explain context ``ctx``, noting why."""
        raise NotImplementedError

    def refs(self, node):
        """(kind of list, name) of every named list the node uses: list, tagged list, region list."""
        return ()

    def satisfy(self, node, d, lists, rng) -> None:
        """Make the synthetic draft ``d`` meet the node (``lists``: code ids per compiled list)."""
        raise NotImplementedError


