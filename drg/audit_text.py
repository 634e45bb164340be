"""The words of `drg audit`: each target area's name and definition, the values and the headers of its
tables, in Chinese and English (data only, read by the audit, the report and the number formats)."""

AREA_TEXT = {
    "zh": {
        "mcc_cc_capture": ("MCC/CC编码率", "可拆分ADRG病例中编码了有效MCC/CC(按主要诊断排除表)的比例；预期值来自按医院交叉拟合的"
                           "患者层面模型(主要诊断、主要手术、ADRG、年龄、性别)；偏高且编码的严重程度未伴随相应费用时才标记(疑似高套)，"
                           "费用相符者多为患者病情较重"),
        "secondary_diagnoses": ("例均其他诊断数", "每例其他诊断个数；预期值为同年同ADRG地区均值；偏高且多编的诊断未伴随相应费用时才标记"
                                "(疑似多编诊断)"),
        "principal_choice": ("主要诊断存在更高权重备选的比例", "其他诊断中有某诊断(作为主要诊断时例均权重更高)的病例比例；"
                             "偏低提示按支付高低选择主要诊断(高套)"),
        "short_stay_high_weight": ("高权重组短住院比例", "RW≥2、非死亡非转院病例中住院日不足本组均值三分之一的比例；预期值为同年同DRG地区比例"),
        "readmission_15": ("15天再入院率", "非死亡非转院出院后15天内同一患者同一MDC再入院(任一医院)的比例；预期值为同年同MDC地区比例"),
        "readmission_30": ("30天再入院率", "非死亡非转院出院后30天内同一患者同一MDC再入院(任一医院)的比例；预期值为同年同MDC地区比例"),
        "split_admissions": ("疑似分解住院比例", "同一患者在同一医院、同一MDC，前次非死亡非转院出院后0-2天内再次入院的病例比例"),
        "one_day_low_weight_medical": ("低权重内科组0-1天住院比例", "权重<0.5的内科组(ADRG第二位R-Z)住院0-1天且非死亡非转院的病例比例；"
                                       "偏高提示低标准入院；预期值为同年同DRG地区比例"),
        "cmi_jump": ("CMI异常跃升(病例组合未变)", "ADRG内严重程度指数(总权重/各ADRG地区平均权重之和)较上年的升幅；病例组合不能解释的升高提示高套"),
        "ungroupable": ("未入组/编码无效率", "未能入组(编码无效、缺失或歧义组QY)的病例比例；预期值为同年地区比例"),
    },
    "en": {
        "mcc_cc_capture": ("MCC/CC capture", "share of cases in ADRGs with severity splits whose secondary diagnoses carry an MCC "
                           "or CC valid for the principal diagnosis; expected from a patient-level model cross-fitted by "
                           "hospital (principal diagnosis, principal procedure, ADRG, age, sex); flagged when high and the coded severity "
                           "comes without the cost such severity brings (upcoding); high with costs to match: sicker patients"),
        "secondary_diagnoses": ("secondary diagnoses per case", "mean number of secondary diagnoses; expected: the ADRG's regional "
                                "mean in the year; high: over-coding"),
        "principal_choice": ("principal with a higher-weight alternative", "share of cases with a secondary diagnosis whose cases "
                             "(as principal) weigh more than the chosen principal's; low: the principal chosen by payment"),
        "short_stay_high_weight": ("short stays in high-weight DRGs", "RW >= 2 cases, alive and not transferred, with a stay under "
                                   "a third of their DRG's mean; expected: the DRG's regional rate in the year"),
        "readmission_15": ("15-day readmission", "stays discharged alive, not transferred, followed within 15 days by an admission "
                           "of the same patient in the same MDC (any hospital); expected: the MDC's regional rate"),
        "readmission_30": ("30-day readmission", "as the 15-day rate, within 30 days"),
        "split_admissions": ("possible split admissions", "stays of a patient at the same hospital and MDC admitted 0-2 days after "
                             "the previous stay's routine discharge"),
        "one_day_low_weight_medical": ("0-1-day stays in low-weight medical DRGs", "0-1-day stays, alive and not transferred, in "
                                       "medical DRGs (ADRG R-Z in second place) of weight under 0.5; high: low-value admissions"),
        "cmi_jump": ("CMI jump without a case-mix change", "rise of the within-ADRG severity index (total weight / the ADRGs' "
                     "regional mean weights) over the hospital's previous year, which the ADRG mix does not explain"),
        "ungroupable": ("ungroupable or invalid", "share of cases not grouped (invalid or missing codes, QY); expected: the "
                        "year's regional rate"),
    },
}
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
