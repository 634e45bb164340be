"""DIP (按病种分值付费, Big Data Diagnosis-Intervention Packet): the catalogue of disease-intervention groups
built from a region's own cases, the matching of cases to it, and each case's points.

Follows the national technical specification (国家医疗保障按病种分值付费(DIP)技术规范 and 病种目录库 1.0,
医保办发〔2020〕50号):

* a case's combination is its principal diagnosis at the 亚目 level (the code up to the first character after
  the dot: I74.801 -> I74.8) and the set of its procedure codes (order and repeats ignored);
* core groups (核心病种) are the combinations with at least ``min_cases`` cases (15 in the specification); the
  other cases form comprehensive groups (综合病种) by diagnosis category (类目, 3 characters) and kind of
  treatment: conservative (保守治疗, no procedure), diagnostic (诊断性操作), therapeutic (治疗性操作), surgical
  (相关手术), a case taking the highest kind among its procedures;
* a group's score (病种分值) is its mean cost over the mean cost of all cases (or of a named reference group)
  times 1,000;
* the auxiliary catalogue (辅助目录) tiers each core group's cases by a Charlson comorbidity index of the
  secondary diagnoses (CCI 0 / 1-2 / 3+, :mod:`evaluation.risk.comorbidity`) and by age (under 18 / 18-64 / 65+); a
  tier's score adjustment is its mean cost over the group's where the two differ significantly (Welch's t-test,
  p < 0.05, at least ``min_cases`` cases in the tier), else 1;
* matching (病例入组): the core group of the same diagnosis and procedure set; else the core group of that
  diagnosis whose procedures the case has, most procedures first, ties to the group whose mean cost is closest to
  the case's cost, then the higher score, then the smaller group id; else the comprehensive group of its
  category and kind of treatment;
* points (病例分值): the score times the severity adjustment and the hospital's level coefficient; a case above
  ``high`` (2) times its group's mean cost scores ``score x (cost / mean - high + 1)``, one below ``low`` (0.5)
  times scores ``score x cost / mean`` (费用超高 / 费用超低病例).
"""

from __future__ import annotations

from ..common import EvaluationError
from .catalogue import CatalogueBuilder, build_catalogue, load_catalogue, write_catalogue
from .keys import (
    AGE_TIERS,
    CCI_TIERS,
    GROUP_COLUMNS,
    KIND_ZH,
    SEVERITY_COLUMNS,
    SPEC,
    TREATMENT_ZH,
    TREATMENTS,
    age_tier,
    case_keys,
    cci_tier,
    procedure_kind,
    procedure_kinds_table,
    subcategory,
)
from .matching import MATCH_NAMES, Matcher, match_kernel
from .points import DEVIATION, DEVIATION_ZH, case_points, severity_adjustment

# the package's names (keys.py: a case's keys; catalogue.py: building, writing, reading; matching.py; points.py)
__all__ = [
    "AGE_TIERS", "CCI_TIERS", "DEVIATION", "DEVIATION_ZH", "GROUP_COLUMNS", "KIND_ZH", "MATCH_NAMES", "SEVERITY_COLUMNS",
    "SPEC", "TREATMENTS", "TREATMENT_ZH", "CatalogueBuilder", "EvaluationError", "Matcher", "age_tier", "build_catalogue",
    "case_keys", "case_points", "cci_tier", "load_catalogue", "match_kernel", "procedure_kind", "procedure_kinds_table",
    "severity_adjustment", "subcategory", "write_catalogue",
]
