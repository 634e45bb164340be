"""Every text the engine writes, Chinese and English: status reasons and warnings of the grouped output,
field names in warnings, and the steps of `drg explain`."""

from __future__ import annotations

TEXT = {
    "zh": {
        "fail": [
            "性别为空或不是1(男)/2(女)",
            "年龄(岁)为空",
            "年龄为0岁但年龄(天)为空",
            "新生儿(≤28天)出生体重为空",
            "诊断列表为空",
            "有诊断编码不能按转换表转换",
            "有手术操作编码不能按转换表转换",
        ],
        "no_mdc": "没有任何MDC的入组条件成立(主诊断不在各MDC主诊表内,主手术也不满足先期分组条件)",
        "mdc_no_adrg": "进入{mdc}后没有ADRG条件成立,其后各MDC亦未入组",
        "no_split": "进入ADRG {adrg}({step})但没有细分规则成立,按方案输出0000",
        "reject": "拒绝规则{seq}成立({rule})",
        "qy": "歧义组检查点{step}条件成立",
        "adrg_only": "进入ADRG {adrg}({step})但没有细分规则成立,按ADRG编码输出",
        "unknown_dx": "诊断编码不在方案编码库中: ",
        "unknown_px": "手术操作编码不在方案编码库中: ",
        "unmapped_dx": "不能转换的诊断编码: ",
        "unmapped_px": "不能转换的手术操作编码: ",
        "looks_like": "(疑为{code})",
        "empty_code": "(空编码)",
        "unreadable": "{col}的值无法识别为整数",
        "negative": "{col}为负数",
        "implausible": "{col}超出合理范围({lo}至{hi})",
        "split_dx": "一个诊断编码含逗号或竖线，已拆分为多个编码(分组方案格式5.1)",
        "split_px": "一个手术操作编码含逗号或竖线，已拆分为多个编码(分组方案格式5.1)",
    },
    "en": {
        "fail": [
            "sex is null or not 1 (male) / 2 (female)",
            "age in years is null",
            "age is 0 years but age in days is null",
            "newborn (<= 28 days) without birth weight",
            "diagnosis list is empty",
            "a diagnosis code cannot be converted with the map",
            "a procedure code cannot be converted with the map",
        ],
        "no_mdc": "no MDC entry rule holds (principal diagnosis in no MDC table and principal procedure not pre-MDC)",
        "mdc_no_adrg": "entered {mdc} but no ADRG rule held there, and no later MDC grouped the record",
        "no_split": "entered ADRG {adrg} ({step}) but no split rule held; the scheme reports 0000",
        "reject": "reject rule {seq} holds ({rule})",
        "qy": "ambiguous-group checkpoint {step} holds",
        "adrg_only": "entered ADRG {adrg} ({step}) but no split rule held; the ADRG code is the result",
        "unknown_dx": "diagnosis codes not in the scheme: ",
        "unknown_px": "procedure codes not in the scheme: ",
        "unmapped_dx": "diagnosis codes that cannot be converted: ",
        "unmapped_px": "procedure codes that cannot be converted: ",
        "looks_like": " (looks like {code})",
        "empty_code": "(empty code)",
        "unreadable": "{col} could not be read as an integer",
        "negative": "{col} is negative",
        "implausible": "{col} is implausible (outside {lo} to {hi})",
        "split_dx": "a diagnosis code held a comma or bar and was split into several codes (scheme format 5.1)",
        "split_px": "a procedure code held a comma or bar and was split into several codes (scheme format 5.1)",
    },
}

FIELD_LABEL = {
    "zh": {"sex": "性别", "age_years": "年龄", "age_days": "年龄(天)", "weight_g": "出生体重", "los_days": "住院天数", "icu_hours": "重症监护时长",
           "admission_weight_g": "入院体重", "new_technique": "新技术", "intensive_care": "重症监护", "day_surgery": "日间手术",
           "crrt_hours": "CRRT时长"},
    "en": {},
}

EXPLAIN = {
    "zh": {
        "input": "输入", "prepared": "预处理后", "check_fail": "信息校验不通过: {why}",
        "map_fail": "编码转换失败: {why}", "mdc": "MDC {name}", "step": "  步骤 {name} ({kind})",
        "split": "    细分 {drg}", "true": "成立", "false": "不成立", "result": "结果",
        "retry": "主手术未入组, 依次单独使用次要手术 {code} 重新分组", "none": "无",
        "skipped": "  (其余步骤未尝试)",
        "nulled": "主手术 {code} 在无效手术表内: MDC/ADRG/歧义组规则视为无主手术(位置保留), 细分规则仍见原手术",
        "not_medical": "无有效主手术, 只尝试内科ADRG(第二位字母R-Z), 跳过",
        "reject": "拒绝规则 {seq} ({status})",
        "day_surgery": "日间手术按无并发症处理",
    },
    "en": {
        "input": "input", "prepared": "prepared", "check_fail": "input check failed: {why}",
        "map_fail": "code conversion failed: {why}", "mdc": "MDC {name}", "step": "  step {name} ({kind})",
        "split": "    split {drg}", "true": "true", "false": "false", "result": "result",
        "retry": "no group with the principal procedure; regrouping with secondary procedure {code} alone", "none": "none",
        "skipped": "  (remaining steps not tried)",
        "nulled": "principal procedure {code} is on the invalid list: MDC/ADRG/QY rules see no principal procedure "
                  "(its position kept); splits see it",
        "not_medical": "no effective principal procedure: only medical ADRGs (second letter R-Z) are tried; skipped",
        "reject": "reject rule {seq} ({status})",
        "day_surgery": "day surgery counts as no CC",
    },
}
