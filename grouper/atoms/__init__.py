"""The atoms of the rule language (FORMAT.md section 4), one class each: how an atom is parsed,
written back as text, compiled into kernel instructions, evaluated with an explanation, which lists
it names, and how a synthetic record satisfies it.

A new atom is a new class (in :mod:`.codes` for atoms over code lists, :mod:`.fields` for fields and counts) added
to ``ATOMS`` here, its opcode in ``program.eval_program``, and its
independent reading in ``tests/naive.py`` (and a generator for it in ``tests/schemegen.py``);
``tests/test_architecture.py`` fails when one of those does not know an atom. The connectives
(``and``, ``or``, ``not``, ``true``, ``false``) live with the parser, compiler and tracer.
"""

from __future__ import annotations

from .base import (
    Atom,
    CMP_CODE,
    COUNT_TARGETS,
    IN_OPS,
    OP_ANY_DX,
    OP_ANY_PX,
    OP_ANY_SDX,
    OP_ANY_SPX,
    OP_CC,
    OP_CMP,
    OP_COUNT,
    OP_FALSE,
    OP_JF,
    OP_JT,
    OP_KNOWN,
    OP_MCC,
    OP_NONZERO,
    OP_NOT,
    OP_PDX,
    OP_PPX,
    OP_REGIONS,
    OP_SFIELD_IN,
    OP_TRUE,
    V_DX_COUNT,
    V_INT,
    V_INT_FIELD,
    V_PX_COUNT,
    V_STR,
    V_STR_FIELD,
    compared_to_int,
    hits_text,
    key_of,
    list_key,
    prefix_key,
    ref_text,
)
from ..language import RuleError
from .codes import Complication, InList, Prefix, PxTag
from .fields import Comparison, Count, FieldState, RegionCount

# In parsing order: each atom but the comparison starts with its own word; the comparison comes last.
ATOMS = (InList(), Prefix(), PxTag(), Complication(), FieldState(), RegionCount(), Count(), Comparison())
BY_NODE = {name: a for a in ATOMS for name in a.nodes}


def atom_of(node) -> Atom:
    try:
        return BY_NODE[node[0]]
    except KeyError:
        raise ValueError(f"unknown rule atom {node[0]!r}") from None


def parse_atom(p):
    for a in ATOMS:
        node = a.parse(p)
        if node is not None:
            return node
    raise RuleError("no atom")  # pragma: no cover - the comparison parses or raises


__all__ = [  # the compiler, kernel, explainer and scheme loader read these here
    "Atom",
    "CMP_CODE",
    "COUNT_TARGETS",
    "IN_OPS",
    "OP_ANY_DX",
    "OP_ANY_PX",
    "OP_ANY_SDX",
    "OP_ANY_SPX",
    "OP_CC",
    "OP_CMP",
    "OP_COUNT",
    "OP_FALSE",
    "OP_JF",
    "OP_JT",
    "OP_KNOWN",
    "OP_MCC",
    "OP_NONZERO",
    "OP_NOT",
    "OP_PDX",
    "OP_PPX",
    "OP_REGIONS",
    "OP_SFIELD_IN",
    "OP_TRUE",
    "V_DX_COUNT",
    "V_INT",
    "V_INT_FIELD",
    "V_PX_COUNT",
    "V_STR",
    "V_STR_FIELD",
    "compared_to_int",
    "hits_text",
    "key_of",
    "list_key",
    "prefix_key",
    "ref_text",
    "Complication",
    "InList",
    "Prefix",
    "PxTag",
    "Comparison",
    "Count",
    "FieldState",
    "RegionCount",
    "ATOMS",
    "BY_NODE",
    "atom_of",
    "parse_atom",
]
