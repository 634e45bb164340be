"""The audit's target areas, registered by name like the grouper's rule atoms (the methods: :mod:`evaluation.audit`).

Each :class:`Area` holds what makes it: its per-case definition and expectation (``cases``: from the shared per-case
quantities of :class:`AuditContext`, the area's (denominator, numerator, expected, variance) and any per-case values it
explains itself with), the gaming direction, whether it needs patient ids and dates, the coded-severity column whose
resource use is checked (``resource``), the material excess, the weight a chart review recovers (``stake``; None: not
on the review list) and the review reason in words, its name and definition in Chinese and English, the kind of number
its rate is, and how a synthetic world plants it (``plant``: a gaming behaviour of ``drg synth`` or of the second
simulator, ``tests/second_world.py``; None where no world plants it yet). :func:`evaluation.audit.case_areas`,
:func:`evaluation.audit.hospital_flags`, the review list and every table's words read this registry: a new area is
one entry here plus its plant.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable

import numpy as np

HIGH_WEIGHT = 2.0
LOW_WEIGHT = 0.5
DEATH, TRANSFER, COMMUNITY = 5, 2, 3  # leaving types (离院方式) that end a stay without a routine discharge
MIN_EXCESS_RATE = 0.02  # a flag's material excess over the expected rate (2 percentage points) unless the area says
MIN_STAKE = 1e-9  # weight a review recovers below which it recovers none


class AuditContext:
    """The per-case quantities several areas share, each computed once when first asked for (``a``: the arrays of
    :class:`evaluation.audit.cases.AuditCases`)."""

    def __init__(self, a: dict, adrg_words: list, hospital_words: list, folds: int, seed: int, supplied_rw, dx_words):
        from .measures import drg_weights

        self.a, self.adrg_words, self.hospital_words, self.folds, self.seed = a, adrg_words, hospital_words, folds, seed
        self.dx_words = dx_words
        self.n = len(a["ok"])
        self.ok, self.year, self.drg, self.adrg = a["ok"], a["year"], a["drg"], a["adrg"]
        self.drg0, self.adrg0 = np.maximum(self.drg, 0), np.maximum(self.adrg, 0)
        self.n_drg = max(int(self.drg.max(initial=-1)) + 1, 1)
        self.n_adrg = max(int(self.adrg.max(initial=-1)) + 1, len(adrg_words), 1)
        rw = drg_weights(self.drg0, self.ok, a["cost"], supplied_rw)
        self.w = np.where(self.ok, rw[self.drg0] if len(rw) else np.nan, np.nan)
        self.los = a["los"]
        self.ended = np.isin(a["leaving"], (DEATH, TRANSFER, COMMUNITY))

    @functools.cached_property
    def mean_los(self) -> np.ndarray:
        from .measures import group_mean

        m = group_mean(self.drg0, self.los, self.ok, self.n_drg)
        return np.where(self.ok, m[self.drg0] if self.n_drg else np.nan, np.nan)

    @functools.cached_property
    def stays(self) -> dict:
        """The pairs of stays of the same patient (:func:`evaluation.audit.patient_stay_areas`)."""
        from .measures import patient_stay_areas

        out: dict = {}
        patient_stay_areas(out, self.a, self.ended, self.dx_words)
        return out

    @functools.cached_property
    def n_codes(self) -> int:
        return int(max(self.a["pdx"].max(initial=-1), self.a["sdx"].max(initial=-1))) + 2


def _binary(den, num, expected) -> tuple:
    """A rate area's per-case (denominator, numerator, expected, variance: p(1-p))."""
    from .measures import binary

    return binary(den, num, expected)


def _rate(ctx: AuditContext, num, den, key) -> tuple:
    from .measures import stratum_rate

    return _binary(den, num, stratum_rate(num, den, key, ctx.year))


def _ungroupable(ctx: AuditContext) -> dict:
    bad = ~ctx.ok
    every = np.ones(ctx.n, bool)
    return {"ungroupable": _rate(ctx, bad, every, np.zeros(ctx.n, np.int64))}


def _capture(ctx: AuditContext) -> dict:
    from .measures import capture_area

    return capture_area(ctx.a, ctx.hospital_words, ctx.n_drg, ctx.n_adrg, ctx.folds, ctx.seed)


def _secondary(ctx: AuditContext) -> dict:
    from .measures import stratum_rate

    sdx = ctx.a["n_sdx"].astype(float)
    mean_sdx = stratum_rate(sdx, ctx.ok, ctx.adrg0, ctx.year)
    var = np.maximum(stratum_rate(sdx * sdx, ctx.ok, ctx.adrg0, ctx.year) - mean_sdx ** 2, 0)
    return {"secondary_diagnoses": (ctx.ok, ctx.a["n_sdx"], mean_sdx.astype(np.float32), var.astype(np.float32))}


def _principal(ctx: AuditContext) -> dict:
    from .measures import principal_choice_area

    return {"principal_choice": principal_choice_area(ctx.a, ctx.w, ctx.n_codes)}


def _short_stay(ctx: AuditContext) -> dict:
    """Short stays in high-weight DRGs, and the same short stays in the other DRGs (``short_stay_control``: the
    hospital's own length-of-stay pattern the high-weight rate is read against)."""
    out = {"mean_los": ctx.mean_los}
    for name, weight in (("short_stay_high_weight", ctx.w >= HIGH_WEIGHT), ("short_stay_control", ctx.w < HIGH_WEIGHT)):
        den = ctx.ok & weight & ~ctx.ended & np.isfinite(ctx.los)
        short = den & (ctx.los < ctx.mean_los / 3)
        out[name] = _rate(ctx, short, den, ctx.drg0)
    return out


def _stays(name: str) -> Callable:
    def area(ctx: AuditContext) -> dict:
        s = ctx.stays
        return {name: s[name], "split_first": s["split_first"], "pair_cell": s["pair_cell"]}

    return area


def _one_day(ctx: AuditContext) -> dict:
    words = ctx.adrg_words
    medical = np.array([len(x) > 1 and "R" <= x[1] <= "Z" for x in words] + [False] * (ctx.n_adrg - len(words)), bool)
    oneday = ctx.ok & (ctx.adrg >= 0) & medical[ctx.adrg0] & (ctx.w < LOW_WEIGHT) & (ctx.los <= 1) & ~ctx.ended
    return {"one_day_low_weight_medical": _rate(ctx, oneday, ctx.ok, ctx.drg0)}


# the weight a chart review recovers per case: a coding area's weight gain over the ADRG's cases without MCC/CC; a
# low-value admission's whole weight (the stay should not have been paid for)
def _gain(areas: dict) -> np.ndarray:
    # a gain within rounding of zero (an ADRG whose cases without MCC/CC are all in one DRG: its weight less their mean
    # weight) is none: nothing to recover, off the list, however the mean was summed
    g = np.nan_to_num(areas["weight_gain"])
    return np.where(g > MIN_STAKE, g, 0.0)


def _whole(areas: dict) -> np.ndarray:
    return np.nan_to_num(areas["weight"])


def _capture_reasons(lang: str, score, extra: dict) -> list:
    return [(f"MCC/CC编码可疑(概率{s:.0%})：同类病例(主要诊断、手术、年龄、性别)编码MCC/CC的概率仅{p:.0%}，本院当年MCC/CC编码率O/E {oe:.2f}"
             if lang == "zh" else f"MCC/CC coded (suspicion {s:.0%}): similar cases (principal diagnosis, procedure, age, sex) "
             f"have one with probability {p:.0%}; the hospital's MCC/CC rate that year is {oe:.2f} x expected")
            for s, p, oe in zip(score, extra["p"], extra["oe"])]


def _one_day_reasons(lang: str, score, extra: dict) -> list:
    return [(f"疑似低标准入院(概率{s:.0%})：低权重内科组住院{los:g}天" if lang == "zh" else
             f"possible low-value admission (suspicion {s:.0%}): {los:g}-day stay in a low-weight medical DRG")
            for s, los in zip(score, extra["los"])]


def _short_stay_reasons(lang: str, score, extra: dict) -> list:
    return [(f"高权重组短住院(概率{s:.0%})：住院{los:g}天，本组平均{m:.1f}天" if lang == "zh" else
             f"short stay in a high-weight DRG (suspicion {s:.0%}): {los:g} days against a DRG mean of {m:.1f}")
            for s, los, m in zip(score, extra["los"], extra["mean_los"])]


@dataclasses.dataclass(frozen=True)
class Area:
    """One target area (see the module docstring). ``cases`` is None for an area computed from per-hospital sums
    (``cmi_jump``: :func:`evaluation.audit.cmi_rows`)."""

    name: str
    cases: Callable | None
    zh: tuple
    en: tuple
    direction: str = "high"
    patient: bool = False
    resource: str | None = None
    min_excess: float = MIN_EXCESS_RATE
    stake: Callable | None = None
    reasons: Callable | None = None
    kind: str = "rate"
    plant: str | None = None
    control: str | None = None  # a per-case rate whose O/E at the hospital scales the expectation (its own pattern)

    def words(self, lang: str) -> tuple:
        """(name, definition) in ``lang``."""
        return self.zh if lang == "zh" else self.en


REGISTRY = (
    Area("mcc_cc_capture", _capture,
         ("MCC/CC编码率", "可拆分ADRG病例中编码了有效MCC/CC(按主要诊断排除表)的比例；预期值来自按医院交叉拟合的患者层面模型(主要诊断、"
          "主要手术、ADRG、年龄、性别)；偏高且编码的严重程度未伴随相应费用时才标记(疑似高套)，费用相符者多为患者病情较重"),
         ("MCC/CC capture", "share of cases in ADRGs with severity splits whose secondary diagnoses carry an MCC or CC valid "
          "for the principal diagnosis; expected from a patient-level model cross-fitted by hospital (principal diagnosis, "
          "principal procedure, ADRG, age, sex); flagged when high and the coded severity comes without the cost such "
          "severity brings (upcoding); high with costs to match: sicker patients"),
         resource="mcc_cc", stake=_gain, reasons=_capture_reasons, plant="synth:upcoding_from"),
    Area("secondary_diagnoses", _secondary,
         ("例均其他诊断数", "每例其他诊断个数；预期值为同年同ADRG地区均值；偏高且多编的诊断未伴随相应费用时才标记(疑似多编诊断)"),
         ("secondary diagnoses per case", "mean number of secondary diagnoses; expected: the ADRG's regional mean in the "
          "year; high: over-coding"),
         resource="n_sdx", min_excess=0.1, kind="mean", plant="synth:upcoding_from"),
    Area("principal_choice", _principal,
         ("主要诊断存在更高权重备选的比例", "其他诊断中有某诊断(作为主要诊断时例均权重更高)的病例比例；偏低提示按支付高低选择主要诊断(高套)"),
         ("principal with a higher-weight alternative", "share of cases with a secondary diagnosis whose cases (as "
          "principal) weigh more than the chosen principal's; low: the principal chosen by payment"),
         direction="low", plant="synth:principal_by_payment"),
    Area("short_stay_high_weight", _short_stay,
         ("高权重组短住院比例", "RW≥2、非死亡非转院病例中住院日不足本组均值三分之一的比例；预期值为同年同DRG地区比例"),
         ("short stays in high-weight DRGs", "RW >= 2 cases, alive and not transferred, with a stay under a third of their "
          "DRG's mean; expected: the DRG's regional rate in the year"),
         stake=_gain, reasons=_short_stay_reasons, control="short_stay_control", plant="synth:short_stays"),
    Area("readmission_15", _stays("readmission_15"),
         ("15天再入院率", "非死亡非转院出院后15天内同一患者同一MDC再入院(任一医院)的比例；预期值为同年同MDC地区比例"),
         ("15-day readmission", "stays discharged alive, not transferred, followed within 15 days by an admission of the "
          "same patient in the same MDC (any hospital); expected: the MDC's regional rate"),
         patient=True, plant="synth:readmits"),
    Area("readmission_30", _stays("readmission_30"),
         ("30天再入院率", "非死亡非转院出院后30天内同一患者同一MDC再入院(任一医院)的比例；预期值为同年同MDC地区比例"),
         ("30-day readmission", "as the 15-day rate, within 30 days"), patient=True, plant="synth:readmits"),
    Area("split_admissions", _stays("split_admissions"),
         ("疑似分解住院比例", "同一患者在同一医院、同一MDC，前次非死亡非转院出院后0-2天内再次入院的病例比例"),
         ("possible split admissions", "stays of a patient at the same hospital and MDC admitted 0-2 days after the "
          "previous stay's routine discharge"),
         patient=True, plant="synth:splits_admissions"),
    Area("one_day_low_weight_medical", _one_day,
         ("低权重内科组0-1天住院比例", "权重<0.5的内科组(ADRG第二位R-Z)住院0-1天且非死亡非转院的病例比例；偏高提示低标准入院；"
          "预期值为同年同DRG地区比例"),
         ("0-1-day stays in low-weight medical DRGs", "0-1-day stays, alive and not transferred, in medical DRGs (ADRG R-Z in "
          "second place) of weight under 0.5; high: low-value admissions"),
         stake=_whole, reasons=_one_day_reasons, plant="synth:low_value_admissions"),
    Area("cmi_jump", None,
         ("CMI异常跃升(病例组合未变)", "ADRG内严重程度指数(总权重/各ADRG地区平均权重之和)较上年的升幅；病例组合不能解释的升高提示高套"),
         ("CMI jump without a case-mix change", "rise of the within-ADRG severity index (total weight / the ADRGs' regional "
          "mean weights) over the hospital's previous year, which the ADRG mix does not explain"),
         min_excess=0.02, kind="ratio", plant="synth:upcoding_from"),
    Area("ungroupable", _ungroupable,
         ("未入组/编码无效率", "未能入组(编码无效、缺失或歧义组QY)的病例比例；预期值为同年地区比例"),
         ("ungroupable or invalid", "share of cases not grouped (invalid or missing codes, QY); expected: the year's "
          "regional rate"), plant="synth:sloppy_coding"),
)
BY_NAME = {a.name: a for a in REGISTRY}
AREAS = tuple(a.name for a in REGISTRY)
