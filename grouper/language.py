"""The vocabulary of the rule language and of the encoded record (FORMAT.md sections 2 and 4):
fields, comparison operators, the integer range, the field slots of the kernel's ``fields``
matrix, and the error a malformed rule raises."""

from __future__ import annotations

import numpy as np

V1_INT_FIELDS = ("sex", "age_years", "age_days", "weight_g", "los", "icu_hours")
# CHS-DRG 2.0 / 3.0 fields (FORMAT.md 2): flags are 1 / 0
V2_INT_FIELDS = ("admission_weight_g", "new_technique", "intensive_care", "day_surgery", "crrt_hours")
INT_FIELDS = V1_INT_FIELDS + V2_INT_FIELDS
FLAG_FIELDS = ("new_technique", "intensive_care", "day_surgery")
STR_FIELDS = ("dept", "leaving_type")
FIELDS = INT_FIELDS + STR_FIELDS
CMP_OPS = ("==", "!=", "<", "<=", ">", ">=")
INT64 = (-(2**63), 2**63 - 1)

# Field slots of the per-row ``fields`` matrix (int64, NULL sentinel for null): the 1.x fields first, so that a
# scheme that reads none of the 2.0 fields encodes (and the kernel reads) only the first V1_WIDTH columns.
FIELD_SLOTS = {name: i for i, name in enumerate(V1_INT_FIELDS + STR_FIELDS + V2_INT_FIELDS)}
N_FIELDS = len(FIELD_SLOTS)
V1_WIDTH = len(V1_INT_FIELDS) + len(STR_FIELDS)
STR_SLOT0 = len(V1_INT_FIELDS)  # dept, leaving_type hold ranks (see records.encode)
STR_SLOT_END = STR_SLOT0 + len(STR_FIELDS)
NULL = np.iinfo(np.int64).min


class RuleError(ValueError):
    """A rule that does not follow the grammar of FORMAT.md section 4."""


def int64_literal(text: str) -> int:
    n = int(text)
    if not INT64[0] <= n <= INT64[1]:
        raise RuleError(f"integer {text[:30]}{'...' if len(text) > 30 else ''} is outside the 64-bit range "
                        f"({INT64[0]} to {INT64[1]})")
    return n


def compare(a, op: str, b) -> bool:
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
