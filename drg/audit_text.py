"""The words of `drg audit`: each target area's name and definition (from the registered areas), the values and the
headers of its tables, in Chinese and English (read by the audit, the report and the number formats)."""

from evaluation.audit_areas import REGISTRY

# each registered target area's (name, definition) per language (the words live with the area: evaluation.audit_areas)
AREA_TEXT = {lang: {a.name: a.words(lang) for a in REGISTRY} for lang in ("zh", "en")}
VALUE_TEXT = {"zh": {"high": "偏高为异常", "low": "偏低为异常", "ok": "已判定", "too_few_cases": "病例数不足(不判定)",
                     "no_previous_year": "无上年数据(不判定)", "unsupported": "费用未随编码严重程度上升", "supported": "费用与编码严重程度相符",
                     "not_available": "无费用或住院日(无法核实)", "none": "不适用"},
              "en": {"high": "high", "low": "low", "ok": "ok", "too_few_cases": "too_few_cases", "no_previous_year": "no_previous_year",
                     "unsupported": "unsupported", "supported": "supported", "not_available": "not_available", "none": "none"}}
# what each hospital-year-area row says (``finding``): a flag's words follow its evidence
FINDING_TEXT = {
    "zh": {"upcoding": "编码严重程度高于预期且未伴随相应费用：疑似高套，建议抽查", "high": "高于预期，建议抽查",
           "low": "低于预期，建议抽查", "sicker": "编码高于预期，但费用相应升高(患者病情较重)：不标记",
           "too_few_cases": "病例数不足，不判定", "no_previous_year": "无上年数据，不判定", "none": "未见异常"},
    "en": {"upcoding": "coded severity above expectation without the cost it brings: possible upcoding, sample for review",
           "high": "higher than expected: sample for review", "low": "lower than expected: sample for review",
           "sicker": "coding above expectation with the cost to match (sicker patients): not flagged",
           "too_few_cases": "too few cases: not judged", "no_previous_year": "no previous year: not judged",
           "none": "nothing unusual"},
}
LEVEL_ZH = {"tertiary": "三级", "secondary": "二级", "primary": "一级", "unknown": "未知"}
# Chinese headers of the audit tables (their own words: the evaluation's "observed"/"expected" are deaths)
AUDIT_LABELS = {
    "hospital_id": "医院编码", "name": "医院名称", "level": "医院级别", "year": "年度", "target_area": "目标领域",
    "direction": "异常方向", "numerator": "分子", "denominator": "分母", "rate": "比率", "expected_rate": "预期比率",
    "observed": "实际数", "expected": "预期数", "oe_ratio": "O/E比", "z_score": "Z值", "p_value": "P值(单侧)",
    "tau2": "医院间方差τ²", "peer_p10": "同级第10百分位", "peer_median": "同级中位数", "peer_p90": "同级第90百分位",
    "percentile": "同级百分位", "previous_rate": "上年比率", "change": "较上年变化", "status": "状态", "flag": "是否标记",
    "case_id": "病案号", "score": "预期可追回权重", "reason": "原因", "drg": "DRG编码", "first_case_id": "前次住院病案号",
    "gap_days": "间隔天数", "definition": "口径", "area_name": "名称", "probability": "可能性",
    "weight_at_stake": "涉及权重", "q_value": "Q值(错误发现率)", "resource_ratio": "费用梯度比(本院/同级)",
    "resource_z": "费用证据Z值", "evidence": "费用证据", "finding": "结论", "same_principal": "主要诊断相同",
}
