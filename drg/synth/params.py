"""drg synth's planted parameters (the world's volumes, tilts, outliers, comorbidities, coding games, departments and
seasons), its console words and the random streams of a part."""

from __future__ import annotations

import numpy as np


LEVEL_VOLUME = {"tertiary": 30.0, "secondary": 8.0, "primary": 0.35}
KIND_VOLUME = {"general": 1.0, "tcm": 0.4, "maternal_child": 0.3, "township": 1.0}
LEVEL_TILT = {"tertiary": 0.7, "secondary": 0.0, "primary": -1.6}
LEVEL_PRICE = {"tertiary": 1.2, "secondary": 1.0, "primary": 0.8}
SUPPORT_START = 2019  # the pairing program's start where the pairs file gives none (the Dezhou plan's first year)
QUALITY_OUTLIERS = 1  # planted: secondary hospitals with death odds ratio 3
QUALITY_SD = 0.15  # planted over-dispersion: ordinary hospitals' log death odds ratio ~ N(0, sd), cut at 2 sd
SUPPORT_TILT = 0.8  # planted: supported townships' case-mix tilt towards heavier DRGs
SUPPORT_SURGICAL = 2.5  # planted: and towards surgical DRGs
# planted patient-level risk: comorbidities (secondary diagnoses from the Quan 2005 categories, codes that
# are neither CC/MCC nor in any rule list of the scheme, so the DRG stays the one aimed at) and age raise the
# true death odds, LOS and cost. (category, prevalence at age 60, death log-OR, LOS and cost log-effect)
COMORBIDITIES = (("charlson_cevd", 0.06, 0.6, 0.08), ("charlson_rend", 0.04, 0.8, 0.10), ("elixhauser_carit", 0.08, 0.6, 0.06),
                 ("elixhauser_pcd", 0.02, 0.9, 0.08), ("charlson_cpd", 0.06, 0.5, 0.06), ("elixhauser_valv", 0.03, 0.4, 0.05),
                 ("charlson_pvd", 0.03, 0.4, 0.05), ("charlson_mld", 0.03, 0.5, 0.05), ("charlson_diab", 0.10, 0.2, 0.04),
                 ("elixhauser_hypunc", 0.15, 0.1, 0.02), ("elixhauser_fed", 0.04, 0.7, 0.08), ("charlson_pud", 0.03, 0.3, 0.04),
                 ("elixhauser_obes", 0.04, 0.0, 0.03))
AGE_LOG_OR = 0.035  # per year of age (adults, 18-95), around 60
CASEMIX_PREVALENCE = 3.5  # planted: casemix_only hospitals' patients carry this many times the comorbidities
ERROR_RATE = 0.008
UNKNOWN_PDX = "R99.x99ERR"
# planted coding games (drg audit must find them; their own random stream, so every other plant stays as it was)
UPCODE_SHARE = 0.25  # of an upcoder's eligible cases from its onset year: an MCC/CC code the patient does not have
SPLIT_SHARE = 0.15  # of a splitter's eligible stays: cut into two, readmitted 0-2 days later
LOW_VALUE_EXTRA = 0.12  # a low-value admitter's extra 1-day stays in low-weight medical DRGs, per own case
READMIT_PLANT_SHARE = 0.10  # of a readmitter's routine discharges: the patient back 3-14 days later, same DRG
PRINCIPAL_SWAP_SHARE = 0.6  # of a payment-minded coder's medical cases with a costlier secondary: it becomes principal
SHORT_STAY_SHARE = 0.2  # of an early discharger's routine stays in high-weight DRGs: out after a quarter of the mean
SLOPPY_ERROR_RATE = 0.06  # a sloppy coder's cases with an invalid principal diagnosis (not grouped), ERROR_RATE elsewhere
READMIT_SHARE = 0.08  # natural repeat admissions: cases of a patient already seen in the county (any date)
# departments (科室): a specialty per MDC (the surgical DRGs of some MDCs in their surgical department; townships
# have one general department); doctors (主诊医师) per department by level, one planted high-cost doctor and one
# planted high-mortality doctor (their own random stream: every other plant stays as it was)
DEPT_BY_MDC = {"A": "重症医学科", "B": "神经内科", "C": "眼科", "D": "耳鼻咽喉科", "E": "呼吸内科", "F": "心血管内科",
               "G": "消化内科", "H": "肝胆外科", "I": "骨科", "J": "皮肤科", "K": "内分泌科", "L": "肾内科", "M": "泌尿外科",
               "N": "妇科", "O": "产科", "P": "新生儿科", "Q": "血液科", "R": "肿瘤科", "S": "感染科", "T": "精神科",
               "U": "精神科", "V": "急诊科", "W": "烧伤科", "X": "康复医学科", "Y": "感染科", "Z": "创伤外科"}
SURGICAL_DEPT = {"B": "神经外科", "E": "胸外科", "F": "心脏大血管外科", "G": "胃肠外科", "L": "泌尿外科"}
TOWNSHIP_DEPT = "全科医疗科"
DOCTORS_PER_DEPT = {"tertiary": 4, "secondary": 2, "primary": 1}
DOCTOR_COST = 1.5  # planted: the high-cost doctor's cost factor
DOCTOR_DEATH_OR = 3.0  # planted: the high-mortality doctor's death odds ratio
SEASON_AMPLITUDE = 0.15  # planted: discharges by day of year ~ 1 + a*cos(2*pi*(day - peak)/365), winter peak
SEASON_PEAK_DAY = 15


# what drg synth says on the console, in the command's language
SYNTH_WORDS = {"zh": {"templates": "  已验证的病案模板{n:,}个，覆盖{drgs}个DRG组", "made": "  已合成 {done:,} / {total:,} 份出院病案",
                      "wrote": "  已写出{n:,}份出院病案 -> {path}"},
               "en": {"templates": "  {n:,} verified templates over {drgs} DRGs", "made": "  {done:,} / {total:,} discharges",
                      "wrote": "  wrote {n:,} discharges to {path}"}}


def part_streams(seed: int, part: int, one_part: bool, rng):
    """Random streams of a part: (cases, doctors, games). One part keeps the streams of the unstreamed synth
    (so a small synth is what it always was); a part of many has its own three, from (seed, part)."""
    if one_part:
        return rng, np.random.default_rng([seed, 20]), np.random.default_rng([seed, 19])
    return tuple(np.random.default_rng(s) for s in np.random.SeedSequence([seed, 30, part]).spawn(3))
