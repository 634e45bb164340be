"""Every text the application writes that the engine and the evaluation do not: the report's titles and
words, and the Chinese sheet names of the workbooks."""

from __future__ import annotations

REPORT = {
    "zh": {
        "title": "DRG 评价报告", "overview": "区域概况", "cases": "病例数", "hospitals": "医院数", "drgs": "覆盖DRG组数",
        "grouping_rate": "入组率", "status": "分组状态", "count": "数量", "reasons": "主要未入组原因", "reason": "原因",
        "peer": "同级医院指标", "quadrant": "CMI-费用象限图", "funnel": "死亡风险调整漏斗图", "outliers": "超出99.8%控制限的医院",
        "heatmap": "学科热力图(医院×MDC, CMI)", "weights": "DRG权重与同质性", "payment": "医保结算(结余/超支)",
        "tiered": "分级诊疗目标", "support": "对口支援前后对比", "trends": "年度趋势", "data": "数据表", "search": "搜索…",
        "none": "无", "target": "目标", "met": "达标", "not_met": "未达标", "pre": "支援前", "post": "支援后",
        "generated": "数据来源", "cv_flag": "CV≥1(不同质)", "year": "年度", "value": "数值", "metric": "指标",
        "risk": "患者层面风险模型校准(死亡, 按预测风险十分位)", "decile": "十分位", "expected": "预测死亡率", "observed": "实际死亡率",
    },
    "en": {
        "title": "DRG evaluation report", "overview": "Region overview", "cases": "Cases", "hospitals": "Hospitals",
        "drgs": "DRGs covered", "grouping_rate": "Grouping rate", "status": "Grouping status", "count": "Count",
        "reasons": "Top reasons for not grouping", "reason": "Reason", "peer": "Hospital indicators by peer group",
        "quadrant": "CMI vs cost quadrant", "funnel": "Risk-adjusted mortality funnel plot", "outliers": "Hospitals outside the 99.8% limits",
        "heatmap": "Discipline heat map (hospital × MDC, CMI)", "weights": "DRG weights and homogeneity", "payment": "Settlement (surplus/deficit)",
        "tiered": "Tiered-care targets", "support": "Counterpart support before/after", "trends": "Trends by year", "data": "Data table",
        "search": "Search…", "none": "none", "target": "target", "met": "met", "not_met": "not met", "pre": "before", "post": "after",
        "generated": "Source", "cv_flag": "CV ≥ 1 (not homogeneous)", "year": "Year", "value": "Value", "metric": "Metric",
        "risk": "Patient-level risk model calibration (death, by decile of predicted risk)", "decile": "decile",
        "expected": "predicted death rate", "observed": "observed death rate",
    },
}


SHEET_NAMES_ZH = {"weights": "DRG权重", "quality": "分组质量", "hospital": "医院指标", "outcomes": "死亡风险调整",
                  "risk_levels": "死亡风险等级", "discipline_mdc": "学科(MDC)", "discipline_adrg": "学科(ADRG)",
                  "cases": "病例结算", "settlement": "医院结算", "scenarios": "情景比较", "tiered_care": "分级诊疗",
                  "support": "对口支援", "support_summary": "支援方汇总",
                  "support_did": "双重差分", "county": "县域就诊", "region": "区域指标", "parameters": "参数",
                  "monthly": "月度预付", "drg_profit_loss": "DRG盈亏", "model": "风险模型", "calibration": "风险模型校准",
                  "hospital_year": "医院年度", "risk_model": "风险模型", "risk_calibration": "风险模型校准",
                  "hospital_flags": "目标领域预警", "review_cases": "病案抽查清单", "split_admissions": "疑似分解住院",
                  "target_areas": "目标领域口径", "dept": "科室", "doctor": "主诊医师", "hospital_dept": "医院科室",
                  "hospital_month": "医院月度", "hospital_quarter": "医院季度"}
