"""The words of every table: Chinese headers and coded values (evaluation, payment, tiered care, support, risk,
views, audit, check), the tiered-care targets' and audit areas' definitions, and :func:`label`, which applies them
where people read (workbooks, CSV for people, the report, the terminal). Tables are computed and written to Parquet
in canonical names and codes; :func:`unlabel` reads a table written in either language back."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .audit.areas import REGISTRY as AUDIT_AREAS
from .common import EvaluationError
from .payment.classes import REGISTRY as PAYMENT_CLASSES

LABELS = {
    "grouped": "入组病例数", "dip_cmi": "DIP病例组合指数(平均分值)", "cost_per_point": "每分值费用(元)",
    "high_cases": "费用超高病例数", "low_cases": "费用超低病例数", "readmission_rate": "二次入院率", "readmission_index": "二次入院指数",
    "low_standard_rate": "低标入院率", "low_standard_index": "低标入院指数", "long_stay_rate": "超长住院率",
    "long_stay_index": "超长住院指数", "death_risk_rate": "低风险病种死亡率", "death_risk_index": "死亡风险指数",
    # english -> chinese
    "drg": "DRG编码", "drg_name": "DRG名称", "adrg": "ADRG编码", "mdc": "MDC", "cases": "病例数", "cases_cost": "有效费用病例数",
    "cases_trimmed": "裁剪后病例数", "mean_cost": "例均费用(裁剪后)", "mean_cost_all": "例均费用(未裁剪)",
    "mean_los": "平均住院日", "rw": "相对权重", "cv": "费用变异系数", "cv_los": "住院日变异系数",
    "homogeneous": "组内同质", "weight_status": "权重状态", "risk_level": "死亡风险等级", "mortality": "死亡率",
    "hospital_id": "医院编码", "name": "医院名称", "level": "医院级别", "kind": "医院类别", "peer_group": "同级组",
    "drg_count": "DRG组数", "total_weight": "总权重", "cmi": "病例组合指数(CMI)", "cost_index": "费用消耗指数",
    "time_index": "时间消耗指数", "low_risk_mortality": "低风险组死亡率", "midlow_risk_mortality": "中低风险组死亡率",
    "low_risk_cases": "低风险组病例数", "midlow_risk_cases": "中低风险组病例数", "high_weight_share": "高权重(RW≥2)病例占比",
    "cases_weighted": "有权重病例数", "no_weight": "无权重病例数", "quadrant_cost": "象限(CMI-费用)",
    "quadrant_time": "象限(CMI-时间)", "rank_cmi": "CMI排名(1=最高)", "rank_cost_index": "费用指数排名(1=费用最低)",
    "rank_time_index": "时间指数排名(1=住院日最短)", "rank_low_risk_mortality": "低风险死亡率排名(1=最低)",
    "cost_index_z": "费用指数Z值", "cost_index_flag": "费用指数判定(同级漏斗)", "time_index_z": "时间指数Z值",
    "time_index_flag": "时间指数判定(同级漏斗)", "detectable_or": "可检出的最小死亡比(80%把握度)", "ranked": "参与排名",
    "adrg_count": "ADRG数", "adrg_coverage": "ADRG覆盖率", "drg_coverage": "DRG覆盖率", "relative_cmi": "相对CMI",
    "observed": "实际死亡数", "expected": "期望死亡数", "oe_ratio": "O/E比", "oe_low": "O/E下限(95%)", "oe_high": "O/E上限(95%)",
    "funnel_flag": "漏斗图判定", "phi": "过度离散系数φ", "limit95_low": "95%控制下限", "limit95_high": "95%控制上限",
    "limit998_low": "99.8%控制下限", "limit998_high": "99.8%控制上限", "dropped_cases": "无参照病例数",
    "metric": "指标", "value": "数值", "status": "状态", "year": "年度",
    "county": "县(区)", "residents": "居民住院人次", "in_county": "县域内就诊人次", "in_county_rate": "县域内就诊率",
    "in_region": "区域内就诊人次", "in_region_rate": "区域内就诊比例", "in_county_rate_met": "县域内就诊率达标",
    "in_county_rate_gap": "县域内就诊率差距", "in_region_rate_met": "区域内就诊比例达标", "in_region_rate_gap": "区域内就诊比例差距",
    "primary_share": "基层住院人次比例", "primary_share_met": "基层住院人次比例达标", "basic_care_tertiary_share": "基层病种三级医院占比",
    "down_rate": "下转率", "down": "下转人次", "alive": "非死亡出院人次", "service_share_narrow": "医疗服务收入占比(窄)",
    "service_share_broad": "医疗服务收入占比(宽)", "supporter_id": "支援医院", "recipient_id": "受援医院", "program": "项目",
    "surgical_share": "手术占比", "level2_surgery": "二级及以上手术例数", "did": "双重差分估计", "ci_low": "95%CI下限",
    "ci_high": "95%CI上限", "payment": "支付金额", "actual_cost": "实际费用", "balance": "结余(超支)", "points": "点数",
    "payment_class": "支付类别", "cases_cost_unusable": "无有效费用病例数", "cases_los_unusable": "无有效住院日病例数",
    "payment_fen": "支付金额(分)", "payment_costed": "有效费用病例支付金额", "payment_costed_fen": "有效费用病例支付金额(分)",
    "actual_cost_fen": "实际费用(分)", "balance_fen": "结余(超支)(分)", "shared": "分担金额", "shared_fen": "分担金额(分)",
    "self_pay": "个人自付", "self_pay_fen": "个人自付(分)", "fund_payment": "医保基金支付", "fund_payment_fen": "医保基金支付(分)",
    "advances": "月度预付合计", "advances_fen": "月度预付合计(分)", "year_end_due": "年终清算应付", "year_end_due_fen": "年终清算应付(分)",
    "coefficient": "医院系数", "quality_factor": "质量系数", "special_review_over_cap": "超出上限的特病单议病例数",
    "balance_rate": "结余率", "high_low_share": "高低倍率病例占比", "month": "月份", "provisional": "暂定金额",
    "provisional_fen": "暂定金额(分)", "advance": "预付金额", "advance_fen": "预付金额(分)", "cost": "费用", "cost_fen": "费用(分)",
    "losing_cases": "亏损病例数", "mean_balance": "例均结余", "loss_share": "亏损病例占比", "cost_usable": "费用可用",
    "budget": "预算", "paid": "实际支付", "paid_share_of_budget": "支付占预算比例", "point_value": "点值", "base_rate": "费率",
    "pooled_mean": "全部病例例均费用", "rate_basis": "费率测算口径", "method": "支付方式", "volume_basis": "病例数口径",
    "unknown_level_hospitals": "级别未知的医院", "total_cost": "总费用",
    **{f"cases_{c.name}": c.cases_zh for c in PAYMENT_CLASSES if c.settled},  # the registered classes' counts
    "tau2": "医院间方差τ²", "peer_centre": "同级中心O/E", "z_score": "Z值(随机效应)", "od_method": "过度离散调整方法", "od_test_p": "过度离散检验P值",
    "level_source": "风险等级来源", "min_cases": "最少病例数", "deaths": "死亡数", "reference": "参照(全体/除本院)",
    "in_region_status": "区域内就诊比例可否测算",
    "transfers": "医嘱转院人次", "transfer_down": "转往下级医院人次", "transfer_up": "转往上级医院人次",
    "transfer_unknown_level": "接收机构未识别的转院人次", "transfer_unmatched_share": "接收机构未识别比例",
    "transfer_match": "接收机构识别方式", "up_rate": "上转率", "service_share_definition": "医疗服务收入占比考核口径",
    "service_share_target": "医疗服务收入占比目标", "service_share_met": "医疗服务收入占比达标",
    "service_share_gap": "医疗服务收入占比差距", "weights_from": "权重来源", "indicator": "评价指标", "op": "比较方式",
    "target": "目标值", "definition": "口径", "definition_text": "口径说明", "estimator": "估计方法", "se": "标准误",
    "p_value": "P值", "inference": "推断方法", "bootstrap_draws": "自助抽样次数", "pretrend_leads": "前趋势检验期数",
    "pretrend_stat": "前趋势检验统计量", "pretrend_p": "前趋势检验P值", "treated_hospitals": "受援医院数",
    "control_hospitals": "对照医院数", "cohorts": "开始年度:医院数", "simple_did": "简单双重差分",
    "control_group": "对照组", "excluded_other_program": "同时受其他项目支援(剔除)", "event_time": "相对开始年度",
    "phase": "阶段", "estimate": "估计值", "start_year": "开始年度", "period": "时期",
    "specialty_1": "专科1", "specialty_2": "专科2", "specialty_cases": "专科病例数", "grade_source": "手术分级来源",
    "level2_share": "二级及以上手术占比",
    # drg risk
    "case_id": "病案号", "expected_death": "预期死亡概率", "expected_los": "预期住院日", "expected_cost": "预期费用",
    "los_observed": "实际住院日合计", "los_expected": "预期住院日合计", "los_oe_ratio": "住院日O/E比",
    "cost_observed": "实际费用合计", "cost_expected": "预期费用合计", "cost_oe_ratio": "费用O/E比",
    "outcome": "结局", "evaluated_cases": "验证病例数", "fitted_cases": "拟合病例数", "features": "特征数",
    "folds": "交叉拟合折数", "folds_by": "分折方式", "c_statistic": "C统计量", "brier": "Brier评分",
    "calibration_intercept": "校准截距", "calibration_slope": "校准斜率", "observed_rate": "实际死亡率",
    "expected_rate": "预期死亡率", "region_calibration": "区域校准量", "r2": "决定系数R²", "observed_mean": "实际均值",
    "expected_mean": "预期均值", "decile": "风险十分位", "observed_sum": "实际合计", "expected_sum": "预期合计", "note": "说明",
    # department, doctor and period views
    "dept": "科室", "doctor_id": "主诊医师", "q_value": "Q值(错误发现率)", "cost_index_region": "费用消耗指数(对全区)",
    "time_index_region": "时间消耗指数(对全区)",
}
for _c in ("cases", "cmi", "cost_index", "time_index", "mortality"):
    LABELS[f"{_c}_vs_previous"] = LABELS[_c] + "环比"
    LABELS[f"{_c}_vs_last_year"] = LABELS[_c] + "同比"


# What each target measures, as a reader needs it beside the number (methodology.md section 6).
DEFINITIONS = {
    "zh": {
        "in_county": "县域内就诊率 = 本县居民在本县医疗机构的住院人次 / 本县居民全部住院人次（6.1；仅含本区域医院的数据会高估）",
        "in_region": "区域内就诊比例 = 区域居民在区域内医疗机构的住院人次 / 区域居民全部住院人次（6.2）",
        "facility": "基层住院人次比例 = 区域内基层医疗机构住院人次 / 区域内全部医疗机构住院人次（6.3，按机构）",
        "narrow": "医疗服务收入占比（窄口径，国考）= (总费用 − 药品 − 耗材 − 检查化验) / 总费用（6.6，住院代理值）",
        "broad": "医疗服务收入占比（宽口径，医务性收入）= (总费用 − 药品 − 耗材) / 总费用（6.6，住院代理值）",
        "basic_care": "基层病种三级医院占比 = 三级医院基层病种病例 / 全部基层病种病例，应逐年下降（6.4，病种目录和权重固定在基期）",
    },
    "en": {
        "in_county": "in-county rate = county residents' episodes in the county's hospitals / all their episodes (6.1; "
                     "overstated by data that hold only the region's hospitals)",
        "in_region": "in-region rate = residents' episodes in the region's hospitals / all their episodes (6.2)",
        "facility": "primary share = episodes at primary facilities of the region / episodes at all its facilities (6.3, facility-based)",
        "narrow": "service revenue share, narrow (national assessment) = (total - drugs - consumables - tests) / total (6.6, inpatient proxy)",
        "broad": "service revenue share, broad (medical-service revenue) = (total - drugs - consumables) / total (6.6, inpatient proxy)",
        "basic_care": "tertiary share of basic-care cases, to be falling (6.4; list and weights frozen at the baseline year)",
    },
}

LABELS.update({
    # drg check's tables (settlement-list quality control)
    "cases_with_errors": "有错误病例数", "cases_with_warnings": "有警告病例数", "pass_rate": "质控通过率",
    "top_rules": "主要问题(规则×次数)", "issues": "问题数", "rule_id": "规则编号", "severity": "严重程度", "message": "问题说明",
    "affects_grouping_issues": "影响分组的问题数",
    "missing_residence": "缺少居住地病例数", "in_county_rate_target": "县域内就诊率目标", "in_region_rate_target": "区域内就诊比例目标",
    "episodes": "住院人次", "primary_episodes": "基层住院人次", "basic_care_cases": "基层病种病例数",
    "tertiary_basic_care_share": "三级医院基层病种占比", "primary_share_target": "基层住院人次比例目标",
    "primary_share_gap": "基层住院人次比例差距", "basic_care_tertiary_share_falling": "基层病种三级医院占比下降",
    "recipients": "受援医院数", "cmi_change": "CMI变化", "surgical_share_change": "手术占比变化", "cases_change": "病例数变化",
    "payment_base": "支付金额(基准)", "balance_base": "结余(超支)(基准)",
    # the report's own tables
    "cmi_pre": "支援前CMI", "cmi_post": "支援后CMI", "target_area": "目标领域", "area_rate": "比率", "area_expected_rate": "预期比率",
})
# tables whose columns are named after a what-if scenario: payment_<name>, balance_<name>, payment_change_<name>
SCENARIO_PREFIXES = {"payment_change_": "支付金额变化", "payment_": "支付金额", "balance_": "结余(超支)"}

# Chinese for the coded values of the tables (one language per output): column -> {English value: Chinese value}.
_LEVELS = {"tertiary": "三级", "secondary": "二级", "primary": "一级", "public_health": "公共卫生机构", "unknown": "级别未知",
           "all": "全部"}
_KINDS = {"general": "综合", "maternal_child": "妇幼", "tcm": "中医", "township": "乡镇卫生院", "specialty": "专科",
          "unknown": "类别未知"}
_STATUS = {"ok": "正常", "no_cases": "无病例", "too_few_cases": "病例数不足(不排名)", "no_reference": "无参照",
           "recipients not in the hospitals table": "受援医院不在医院表中", "no valid comparison group": "无有效对照组",
           "no recipient with data before and after the start": "无支援前后均有数据的受援医院",
           "one recipient: no inference": "仅一家受援医院(不做推断)", "not_computed": "未计算",
           "too_few_events": "事件数不足(未拟合)"}
_INDEX_FLAGS = {"alarm_high": "高于同级99.8%控制限(警示)", "alarm_low": "低于同级99.8%控制限(警示)",
                "alert_high": "高于同级95%控制限(提示)", "alert_low": "低于同级95%控制限(提示)", "within": "控制限内",
                "too_few_cases": "病例数不足"}
VALUE_LABELS = {
    "level": _LEVELS, "kind": _KINDS, "status": _STATUS, "weight_status": {"ok": "正常", "unstable_small_n": "病例数少(不稳定)",
                                                                          "no_reference": "无参照"},
    "funnel_flag": {"alarm_high": "高于99.8%控制限(警示)", "alarm_low": "低于99.8%控制限(警示)", "alert_high": "高于95%控制限(提示)",
                    "alert_low": "低于95%控制限(提示)", "within": "控制限内", "no_expected": "无期望值", "too_few_cases": "病例数不足"},
    "cost_index_flag": _INDEX_FLAGS, "time_index_flag": _INDEX_FLAGS,
    "reference": {"pooled": "全体医院", "leave_one_out": "除本院外", "patient_model": "患者层面模型", "own_hospital": "本院同事",
                  "region": "全区同专科", "region/patient_model": "全区同专科/患者层面模型",
                  "own_hospital/patient_model": "本院同事/患者层面模型"},
    "level_source": {"regional": "本区域", "too_few_cases": "病例数不足", "external": "外部等级表", "not_in_list": "不在等级表中"},
    "od_method": {"additive": "加性随机效应", "multiplicative": "乘性(φ)", "none": "无"},
    "payment_class": {c.name: c.zh for c in PAYMENT_CLASSES},  # the registered classes' words
    "method": {"points": "点数法", "rate": "费率法"}, "rate_basis": {"balance": "收支平衡", "volume": "按病例数预测"},
    "outcome": {"death": "死亡", "los": "住院日", "cost": "费用"}, "folds_by": {"case": "按病例", "hospital": "按医院"},
    "program": {"county_alliance": "县域医共体", "tertiary_pairing": "三级医院对口帮扶", "support": "对口支援"},
    "period": {"pre": "支援前", "post": "支援后", "start": "开始年度"}, "phase": {"lead": "开始前", "post": "开始后"},
    "control_group": {"never": "从未受援", "not-yet": "尚未受援"},
    "in_region_status": {"ok": "可测算", "not_measurable: the data hold only the region's own hospitals": "不可测算：数据仅含本区域医院"},
    "transfer_match": {"receiving_institution": "按拟接收机构名称", "patient_id+dates": "按患者编码与出入院日期", "none": "无"},
    "service_share_definition": {"broad": "宽口径", "narrow": "窄口径"},
    "definition": {"in_county": "县域内就诊率", "in_region": "区域内就诊比例", "facility": "基层住院人次比例(按机构)",
                   "narrow": "窄口径", "broad": "宽口径", "basic_care": "基层病种"},
    "op": {"falling": "逐年下降"}, "grade_source": {"proxy": "DRG划分代理", "grades": "手术分级表"},
    "metric": {"grouping_rate": "入组率", "riv_cost_trimmed": "费用RIV(裁剪后)", "riv_cost_all": "费用RIV(全部)",
               "riv_los_trimmed": "住院日RIV(裁剪后)", "riv_los_all": "住院日RIV(全部)", "homogeneous_drg_share": "同质DRG组占比",
               "homogeneous_case_share": "同质组病例占比", "cases_cost_unusable": "无有效费用病例占比",
               "cases_los_unusable": "无有效住院日病例占比"},
    # methodology 3.5 / evaluation.indicators.quadrant: I = CMI at or above the peer level and index <= 1
    "quadrant_cost": {"I": "I 高CMI低费用", "II": "II 高CMI高费用", "III": "III 低CMI高费用", "IV": "IV 低CMI低费用"},
    "quadrant_time": {"I": "I 高CMI短住院", "II": "II 高CMI长住院", "III": "III 低CMI长住院", "IV": "IV 低CMI短住院"},
}
VALUE_LABELS["peer_group"] = _LEVELS
VALUE_LABELS["severity"] = {"error": "错误", "warning": "警告"}  # drg check's issues
VALUE_LABELS["indicator"] = {k: LABELS.get(k, k) for k in (
    "basic_care_tertiary_share", "cases", "cmi", "drg_count", "in_county_rate", "in_region_rate", "level2_surgery",
    "primary_share", "service_share", "surgical_share", "mortality", "cost_index", "time_index")}
VALUE_LABELS["indicator"].update({"service_share": "医疗服务收入占比", "cmi": "CMI"})
BOOL_LABELS = {True: "是", False: "否"}


# drg audit's words: each target area's name and definition, the values and headers of its tables
# each registered target area's (name, definition) per language (the words live with the area: evaluation.audit.areas)
AREA_TEXT = {lang: {a.name: a.words(lang) for a in AUDIT_AREAS} for lang in ("zh", "en")}
VALUE_TEXT = {"zh": {"high": "偏高为异常", "low": "偏低为异常", "ok": "已判定", "too_few_cases": "病例数不足(不判定)",
                     "no_previous_year": "无上年数据(不判定)", "unsupported": "费用未随编码严重程度上升", "supported": "费用与编码严重程度相符",
                     "not_available": "无费用或住院日(无法核实)", "none": "不适用",
                     "not_computed": "缺少患者标识或入出院日期，未计算"},
              "en": {"high": "high", "low": "low", "ok": "ok", "too_few_cases": "too_few_cases", "no_previous_year": "no_previous_year",
                     "unsupported": "unsupported", "supported": "supported", "not_available": "not_available", "none": "none",
                     "not_computed": "not computed: no patient_id or dates"}}
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
# the audit tables' coded values in words, per language (English keeps the codes that are English words)
AUDIT_VALUES = {
    "zh": {"target_area": {k: v[0] for k, v in AREA_TEXT["zh"].items()}, "direction": VALUE_TEXT["zh"],
           "status": VALUE_TEXT["zh"], "evidence": VALUE_TEXT["zh"], "finding": FINDING_TEXT["zh"]},
    "en": {"status": VALUE_TEXT["en"], "finding": FINDING_TEXT["en"]},
}
# the words of a kind of table where they differ from the evaluation's: (Chinese headers, values per language)
TABLE_WORDS = {"audit": (AUDIT_LABELS, AUDIT_VALUES)}


INVERSE_LABELS = {zh: en for en, zh in LABELS.items()}
VALUE_INVERSE = {c: {zh: en for en, zh in table.items()} for c, table in VALUE_LABELS.items()}
BOOL_INVERSE = {zh: en for en, zh in BOOL_LABELS.items()}


def column_label(c: str) -> str:
    """The Chinese header of column ``c`` (scenario columns ``payment_<name>`` keep the scenario's name)."""
    if c in LABELS:
        return LABELS[c]
    for prefix, zh in SCENARIO_PREFIXES.items():
        if isinstance(c, str) and c.startswith(prefix):
            return f"{zh}({c[len(prefix):]})"
    return c


def _translate(s: pd.Series, table: dict, parts: tuple = ()) -> pd.Series:
    """Values of ``s`` through ``table`` (others as they are); categories are renamed, not rebuilt per row.
    ``parts``: the tables of the parts of a composite value (a level-kind peer group ``tertiary/general``)."""
    def one(v):
        if isinstance(v, str) and parts and v.count("/") == 1 and v not in table:
            a, b = v.split("/")
            return f"{parts[0].get(a, a)}/{parts[1].get(b, b)}"
        return table.get(v, v) if isinstance(v, str) else v

    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = [one(v) for v in s.cat.categories]
        if len(set(cats)) == len(cats):
            return s.cat.rename_categories(cats)
        s = s.astype(object)
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return s
    uniq = pd.unique(s.dropna())
    if len(uniq) > 1000:  # an identifier column, not a code list
        return s
    mapping = {v: one(v) for v in uniq}
    return s.map(mapping).where(s.notna(), s) if any(mapping[v] != v for v in uniq) else s


def _bools(s: pd.Series, words: dict) -> pd.Series:
    """A boolean column as a two-word category (是/否), missing values kept missing."""
    b = s.astype("boolean")
    codes = np.where(b.isna().to_numpy(), -1, b.fillna(False).to_numpy(bool).astype(np.int8))
    return pd.Series(pd.Categorical.from_codes(codes, [words[False], words[True]]), index=s.index, name=s.name)


def _is_bool_column(s: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(s.dtype):
        return True
    if s.dtype == object and len(s):
        vals = set(pd.unique(s.dropna()))
        return bool(vals) and vals <= {True, False} and all(isinstance(v, (bool, np.bool_)) for v in vals)
    return False


# values made of words and numbers ("baseline 2018-2020": the years a table's weights were frozen at): per column
# (English pattern, its Chinese, Chinese pattern, its English), each way exact
PATTERN_LABELS = {
    "weights_from": ((r"^baseline (\S+)$", r"基线 \1年", r"^基线 (\S+?)年$", r"baseline \1"),
                     (r"^given$", "给定名单", r"^给定名单$", "given"), (r"^none$", "无", r"^无$", "none")),
    "inference": ((r"^wild cluster bootstrap \(Webb 6-point\), t\((\d+)\)$", r"野聚类自助法(Webb六点权重)，t(\1)",
                   r"^野聚类自助法\(Webb六点权重\)，t\((\d+)\)$", r"wild cluster bootstrap (Webb 6-point), t(\1)"),
                  (r"^wild cluster bootstrap \(Rademacher\), t\((\d+)\)$", r"野聚类自助法(Rademacher权重)，t(\1)",
                   r"^野聚类自助法\(Rademacher权重\)，t\((\d+)\)$", r"wild cluster bootstrap (Rademacher), t(\1)")),
}


def _patterned(s: pd.Series, rules, inverse: bool = False) -> pd.Series:
    import re

    def one(v):
        if not isinstance(v, str):
            return v
        for en, zh, zh_pattern, en_template in rules:
            pattern, template = (zh_pattern, en_template) if inverse else (en, zh)
            if re.match(pattern, v):
                return re.sub(pattern, template, v)
        return v

    return s.astype(object).map(one).where(s.notna(), None)


def label(df: pd.DataFrame, lang: str, kind: str | None = None) -> pd.DataFrame:
    """A table for people in ``lang`` from its canonical form (English identifiers and codes): with 'zh', Chinese
    headers and coded values (levels, flags, statuses, classes, True/False), one to one, so a table speaks one
    language; with 'en', the codes that are not English words (an audit finding) in words. ``kind``: a kind of
    table with words of its own (``TABLE_WORDS``: the audit's)."""
    if lang not in ("zh", "en"):
        raise EvaluationError(f"--lang {lang!r}: use zh (default) or en")
    headers, values = TABLE_WORDS.get(kind, ({}, {}))
    own = values.get(lang, {})
    out = df.copy(deep=False)
    for c in out.columns:
        if c in own:
            out[c] = _translate(out[c], own[c])
        elif lang == "en":
            continue
        elif _is_bool_column(out[c]):
            out[c] = _bools(out[c], BOOL_LABELS)
        elif c in VALUE_LABELS:
            out[c] = _translate(out[c], VALUE_LABELS[c], (VALUE_LABELS["level"], VALUE_LABELS["kind"]))
        if lang == "zh" and c in PATTERN_LABELS and not pd.api.types.is_numeric_dtype(out[c].dtype):
            out[c] = _patterned(out[c], PATTERN_LABELS[c])
    if lang == "en":
        return out
    return out.rename(columns={c: headers.get(c) or column_label(c) for c in out.columns})


def unlabel(df: pd.DataFrame) -> pd.DataFrame:
    """English identifiers and values back from a table written by :func:`label` in either language."""
    out = df.rename(columns={c: INVERSE_LABELS.get(c, c) for c in df.columns})
    out = out.rename(columns={c: _scenario_column(c) for c in out.columns})
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            continue
        vals = set(pd.unique(s.dropna().astype(object))) if len(s) else set()
        if vals and len(vals) <= 2 and vals <= set(BOOL_INVERSE):
            out[c] = s.astype(object).map(BOOL_INVERSE).where(s.notna(), None)
        elif c in VALUE_INVERSE:
            out[c] = _translate(s, VALUE_INVERSE[c], (VALUE_INVERSE["level"], VALUE_INVERSE["kind"]))
        if c in PATTERN_LABELS:
            out[c] = _patterned(out[c], PATTERN_LABELS[c], inverse=True)
    return out


def _scenario_column(c):
    for prefix, zh in SCENARIO_PREFIXES.items():
        if isinstance(c, str) and c.startswith(zh + "(") and c.endswith(")"):
            return prefix + c[len(zh) + 1:-1]
    return c
