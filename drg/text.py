"""Every text the application writes that the engine and the evaluation do not: the report's titles and
words, and the Chinese sheet names of the workbooks."""

from __future__ import annotations

REPORT = {
    "zh": {
        "title": "DRG 评价报告", "overview": "区域概况", "cases": "病例数", "hospitals": "医院数", "drgs": "覆盖DRG组数",
        "grouping_rate": "入组率", "status": "分组状态", "count": "数量", "reasons": "主要未入组原因", "reason": "原因",
        "peer": "同级医院指标", "quadrant": "CMI-费用象限图", "funnel": "死亡风险调整漏斗图", "outliers": "超出99.8%控制限的医院",
        "heatmap": "学科热力图(医院×MDC，相对CMI)", "weights": "DRG权重与同质性", "payment": "医保结算(结余/超支)",
        "tiered": "分级诊疗目标", "support": "对口支援前后对比", "trends": "趋势(年度与月度)", "data": "数据表", "search": "搜索…",
        "none": "无", "target": "目标", "met": "达标", "not_met": "未达标", "pre": "支援前", "post": "支援后",
        "generated": "数据来源", "section_skipped": "此部分未显示：所需的表不完整或无法读取",
"cv_flag": "CV≥1(不同质)", "year": "年度", "value": "数值", "metric": "指标",
        "risk": "患者层面风险模型校准(死亡, 按预测风险十分位)", "decile": "十分位", "expected": "预测死亡率", "observed": "实际死亡率",
    },
    "en": {
        "title": "DRG evaluation report", "overview": "Region overview", "cases": "Cases", "hospitals": "Hospitals",
        "drgs": "DRGs covered", "grouping_rate": "Grouping rate", "status": "Grouping status", "count": "Count",
        "reasons": "Top reasons for not grouping", "reason": "Reason", "peer": "Hospital indicators by peer group",
        "quadrant": "CMI vs cost quadrant", "funnel": "Risk-adjusted mortality funnel plot", "outliers": "Hospitals outside the 99.8% limits",
        "heatmap": "Discipline heat map (hospital × MDC, relative CMI)", "weights": "DRG weights and homogeneity", "payment": "Settlement (surplus/deficit)",
        "tiered": "Tiered-care targets", "support": "Counterpart support before/after", "trends": "Trends by year and month", "data": "Data table",
        "search": "Search…", "none": "none", "target": "target", "met": "met", "not_met": "not met", "pre": "before", "post": "after",
        "generated": "Source", "section_skipped": "This section is left out: the tables it needs are incomplete or unreadable",
"cv_flag": "CV ≥ 1 (not homogeneous)", "year": "Year", "value": "Value", "metric": "Metric",
        "risk": "Patient-level risk model calibration (death, by decile of predicted risk)", "decile": "decile",
        "expected": "predicted death rate", "observed": "observed death rate",
    },
}


SHEET_NAMES_ZH = {"dip_hospitals": "DIP医院结算", "dip_parameters": "DIP点值", "weights": "DRG权重", "quality": "分组质量", "hospital": "医院指标", "outcomes": "死亡风险调整",
                  "risk_levels": "死亡风险等级", "discipline_mdc": "学科(MDC)", "discipline_adrg": "学科(ADRG)",
                  "cases": "病例结算", "settlement": "医院结算", "scenarios": "情景比较", "tiered_care": "分级诊疗",
                  "support": "对口支援", "support_summary": "支援方汇总",
                  "support_did": "双重差分", "county": "县域就诊", "region": "区域指标", "parameters": "参数",
                  "monthly": "月度预付", "drg_profit_loss": "DRG盈亏", "model": "风险模型", "calibration": "风险模型校准",
                  "hospital_year": "医院年度", "risk_model": "风险模型", "risk_calibration": "风险模型校准",
                  "hospital_flags": "目标领域预警", "review_cases": "病案抽查清单", "split_admissions": "疑似分解住院",
                  "target_areas": "目标领域口径", "dept": "科室", "doctor": "主诊医师", "hospital_dept": "医院科室",
                  "hospital_month": "医院月度", "hospital_quarter": "医院季度",
                  "targets": "目标", "support_event": "事件研究", "hospital_year_view": "医院年度"}

REPORT["zh"].update({
    "did_hover": "双重差分 {d:+.3f}(95%置信区间 {a:+.3f} 至 {b:+.3f})",
    "audit_none": "没有被标记的医院年度(共判定 {n} 个医院-年度-目标领域)。",
    "absent": "本报告未包含的部分", "absent_note": "以下部分所需的表不在所给文件夹中；运行对应命令(输出到该文件夹内的任意子文件夹)后重新生成报告即可包含：",
    "risk_section": "患者层面风险模型", "dept_section": "科室评价", "doctor_section": "主诊医师评价", "month_section": "月度趋势",
    "no_county": "县域内就诊率无法计算：需要患者现住址县区和各医院所属县区(医院表的“县区”列)。下表为区域指标。",
    "cases_log": "病例数(对数坐标)", "top_n": "病例数前{n}家", "all_hospitals": "全部{n}家", "mdc_axis": "主要诊断大类(MDC)",
    "relative_cmi": "相对CMI(1=全区该MDC)", "cmi": "CMI", "heatmap_note": "颜色为各院在该MDC的相对CMI(1=全区平均，红色高、蓝色低)；"
    "右上角按钮切换医院范围；悬停查看病例数。", "cmi_axis": "病例组合指数CMI", "cost_index_axis": "费用消耗指数(1=全区同DRG平均)",
    "cost_index": "费用消耗指数", "quadrant_note": "竖虚线为本级医院CMI(按病例加权)，横虚线为费用消耗指数1；I象限(高CMI低费用)最优。",
    "limit95": "95%控制限", "limit998": "99.8%控制限", "observed_deaths": "实际死亡", "expected_deaths": "期望死亡",
    "expected_deaths_axis": "期望死亡数(例)", "oe_axis": "标准化死亡比(O/E，1=与期望相同)",
    "funnel_note": "每点为一家医院；超出99.8%控制限(红线)的医院在图上标注名称，超出95%(橙线)为提示。",
    "weights_chart": "DRG相对权重与组内费用变异系数", "rw_axis": "相对权重RW(对数坐标)", "cv_axis": "费用变异系数CV",
    "perfect": "完全校准(对角线)", "expected_axis": "预测死亡率", "observed_axis": "实际死亡率",
    "payment_chart": "{year}年结余(超支)：超支最多与结余最多各15家", "balance_axis": "结余(超支)(万元)", "balance": "结余(超支)",
    "yuan": "元", "payment_word": "支付", "cost_word": "费用", "pl": "DRG盈亏(全区合计)", "pl_chart": "{year}年亏损最多15组与盈余最多5组DRG",
    "loss_share": "亏损病例占比", "tiered_chart": "{year}年各县(区)县域内就诊率", "rate_axis": "县域内就诊率",
    "in_county_rate": "县域内就诊率", "residents": "居民住院人次", "support_chart": "三级医院对口帮扶：受援医院支援前后CMI",
    "recipient_axis": "受援医院", "did": "双重差分估计(95%置信区间)", "did_chart": "双重差分(红色P<0.05)",
    "did_axis": "双重差分估计值", "check": "结算清单质控", "check_chart": "质控通过率最低的医院",
    "check_axis": "质控通过率(无错误病例占比)",
    "dip": "按病种分值付费(DIP)结算", "dip_chart": "各医院DIP病例组合指数(平均分值)", "dip_axis": "平均分值",
    "dip_note": "分值 = 病种平均费用 / 全部病例平均费用 × 1000；点值 = 年度预算 / 年度总分值；违规指数为医院比率与全地区比率之比，仅供参考，不影响支付。",
    "check_note": "共检查{cases:,}例，{errors:,}例有错误，全地区质控通过率{rate:.1%}；各规则及其依据见质控结果中的 rules.parquet。",
    "audit": "编码质量与违规行为监测", "audit_chart": "各目标领域被标记的医院年度数",
    "flag_axis": "被标记的医院年度数", "audit_note": "标记需同时满足：超出99.8%界限、病例数≥11、超额有实际意义、同领域错误发现率Q≤5%。",
    "views": "科室与医师", "dept": "科室(同专科全区比较)", "dept_chart": "各科室CMI与费用消耗指数(点大小=病例数)",
    "doctor": "主诊医师死亡率漏斗图(与本院同事比较)", "doctor_chart": "主诊医师标准化死亡比", "doctor_note":
    "期望死亡数已按医师所在医院调整；标注者为超出99.8%控制限且错误发现率Q≤5%的医师。下表列出警示与提示的医师。",
    "episodes": "住院人次", "primary_share": "基层住院人次比例", "share_axis": "比例", "year_chart": "区域年度住院人次与基层占比",
    "episodes_axis": "住院人次", "month_chart": "区域月度病例数与CMI", "month": "月份", "cases_axis": "病例数",
    "target_area": "目标领域", "yes": "是", "no": "否", "truncated": "显示前{shown:,}行，共{total:,}行；完整表格见工作簿(.xlsx)与Parquet文件",
})
REPORT["en"].update({
    "did_hover": "DiD {d:+.3f} (95% CI {a:+.3f} – {b:+.3f})",
    "audit_none": "No hospital-year is flagged ({n} hospital-year-area cells judged).",
    "absent": "Sections not in this report", "absent_note": "The tables these sections need are not in the folder given; run "
    "the command (into any folder inside it) and make the report again to include them:",
    "risk_section": "Patient-level risk model", "dept_section": "Departments", "doctor_section": "Doctors",
    "month_section": "Monthly trends",
    "no_county": "In-county rates cannot be computed: they need the patients' residence county and each hospital's county "
    "(the county column of --hospitals). The table shows the region's indicators.",
    "cases_log": "cases (log scale)", "top_n": "top {n} by cases", "all_hospitals": "all {n} hospitals", "mdc_axis": "major diagnostic category (MDC)",
    "relative_cmi": "relative CMI (1 = region in the MDC)", "cmi": "CMI", "heatmap_note": "Colour: the hospital's CMI in the MDC relative "
    "to the region's (1 = regional; red higher, blue lower). The buttons at the top right change the hospitals shown; hover for cases.",
    "cmi_axis": "case-mix index (CMI)", "cost_index_axis": "cost index (1 = region, same DRGs)", "cost_index": "cost index",
    "quadrant_note": "Dashed vertical line: the peer level's case-weighted CMI; horizontal: cost index 1. Quadrant I (high CMI, low cost) is best.",
    "limit95": "95% limit", "limit998": "99.8% limit", "observed_deaths": "observed deaths", "expected_deaths": "expected deaths",
    "expected_deaths_axis": "expected deaths", "oe_axis": "standardised mortality ratio (O/E; 1 = as expected)",
    "funnel_note": "One point per hospital; hospitals beyond the 99.8% limits (red) are named on the chart; beyond 95% (orange) is an alert.",
    "weights_chart": "DRG relative weight and within-DRG cost variation", "rw_axis": "relative weight RW (log scale)",
    "cv_axis": "coefficient of variation of cost (CV)", "perfect": "perfect calibration", "expected_axis": "predicted death rate",
    "observed_axis": "observed death rate", "payment_chart": "Surplus (deficit) in {year}: the 15 largest deficits and surpluses",
    "balance_axis": "surplus (deficit), 10,000 yuan", "balance": "surplus (deficit)", "yuan": "yuan", "payment_word": "payment",
    "cost_word": "cost", "pl": "DRG profit and loss (region total)", "pl_chart": "{year}: the 15 DRGs losing most and the 5 gaining most",
    "loss_share": "share of losing cases", "tiered_chart": "In-county rate by county, {year}", "rate_axis": "in-county rate",
    "in_county_rate": "in-county rate", "residents": "residents' episodes", "support_chart": "Tertiary pairing: recipients' CMI before and after support",
    "recipient_axis": "recipient hospital", "did": "Difference-in-differences (95% CI)", "did_chart": "DiD (red: P < 0.05)",
    "did_axis": "DiD estimate", "check": "Settlement-list quality control", "check_chart": "Hospitals with the lowest pass rates",
    "check_axis": "pass rate (share of cases without an error)",
    "dip": "DIP settlement (按病种分值付费)", "dip_chart": "DIP case-mix index by hospital (mean score)", "dip_axis": "mean score",
    "dip_note": "score = the group's mean cost / all cases' mean cost x 1000; point value = the year's budget / the year's points; "
                "a violation index is the hospital's rate over the region's, reported only: it does not change the payment.",
    "check_note": "{cases:,} cases checked, {errors:,} with an error: a pass rate of {rate:.1%} over the region; the rules and their sources are in drg check's rules table.",
    "audit": "Coding quality and gaming surveillance", "audit_chart": "Flagged hospital-years per target area",
    "flag_axis": "flagged hospital-years", "audit_note": "A flag needs all of: beyond the 99.8% limit, at least 11 cases, a material excess, "
    "and a false discovery rate q <= 5% within the area.", "views": "Departments and doctors",
    "dept": "Departments (compared with the same specialty region-wide)", "dept_chart": "CMI and cost index by department (size = cases)",
    "doctor": "Doctors' mortality funnel (against their own hospital's colleagues)", "doctor_chart": "Doctors' standardised mortality ratio",
    "doctor_note": "Expected deaths are adjusted for the doctor's hospital; named: beyond the 99.8% limit with q <= 5%. The table lists alarms and alerts.",
    "episodes": "episodes", "primary_share": "primary share", "share_axis": "share", "year_chart": "Episodes and primary share by year",
    "episodes_axis": "episodes", "month_chart": "Cases and CMI by month (region)", "month": "month", "cases_axis": "cases",
    "target_area": "target area", "yes": "yes", "no": "no",
    "truncated": "first {shown:,} of {total:,} rows; the workbook (.xlsx) and the Parquet files hold them all",
})

# CHS-DRG major diagnostic categories (the national grouping scheme's 26 MDCs)
MDC_NAMES = {
    "zh": {"MDCA": "先期分组", "MDCB": "神经系统", "MDCC": "眼", "MDCD": "头颈耳鼻口咽", "MDCE": "呼吸系统", "MDCF": "循环系统",
           "MDCG": "消化系统", "MDCH": "肝胆胰", "MDCI": "肌肉骨骼", "MDCJ": "皮肤乳腺", "MDCK": "内分泌营养代谢", "MDCL": "肾及泌尿",
           "MDCM": "男性生殖", "MDCN": "女性生殖", "MDCO": "妊娠分娩", "MDCP": "新生儿", "MDCQ": "血液免疫", "MDCR": "骨髓增生/肿瘤",
           "MDCS": "感染寄生虫", "MDCT": "精神", "MDCU": "酒精药物使用", "MDCV": "创伤中毒", "MDCW": "烧伤", "MDCX": "影响健康因素",
           "MDCY": "HIV感染", "MDCZ": "多发严重创伤"},
    "en": {"MDCA": "pre-MDC", "MDCB": "nervous", "MDCC": "eye", "MDCD": "ENT, mouth", "MDCE": "respiratory", "MDCF": "circulatory",
           "MDCG": "digestive", "MDCH": "hepatobiliary", "MDCI": "musculoskeletal", "MDCJ": "skin, breast", "MDCK": "endocrine",
           "MDCL": "kidney, urinary", "MDCM": "male reproductive", "MDCN": "female reproductive", "MDCO": "pregnancy", "MDCP": "newborn",
           "MDCQ": "blood, immune", "MDCR": "myeloproliferative", "MDCS": "infectious", "MDCT": "mental", "MDCU": "alcohol, drugs",
           "MDCV": "injury, poisoning", "MDCW": "burns", "MDCX": "health factors", "MDCY": "HIV", "MDCZ": "multiple trauma"},
}
QUADRANTS_EN = {"I": "I high CMI, low cost", "II": "II high CMI, high cost", "III": "III low CMI, high cost", "IV": "IV low CMI, low cost"}
# the grouper's status strings (FORMAT.md 7, always Chinese in the data) in English
STATUS_EN = {"分组成功": "grouped", "歧义病案": "ambiguous (QY)", "无法入组": "not grouped", "信息校验不通过": "input invalid",
             "诊断不能转换为分组器支持的编码": "diagnosis code not convertible", "手术操作不能转换为分组器支持的编码": "procedure code not convertible"}

# What the commands print on the terminal, in the language of --lang (default Chinese).
CONSOLE = {
    "zh": {
        "demo_1": "[1/4] 合成德州地区{cases:,}份出院病案(分组方案 {scheme}) ...", "demo_2": "[2/4] 分组 ...",
        "demo_2c": "      结算清单质控(默认规则：编码、性别年龄、必填项、日期与费用、重复病例) ...",
        "demo_check": "  结算清单质控：{path}/ (check.xlsx)；{errors:,}例有错误，质控通过率{rate:.1%}(合成数据的次要诊断未按性别年龄筛选，见 README)",
        "demo_3": "[3/4] 医院评价(权重、同级指标、学科、死亡风险调整) ...", "demo_3r": "      患者层面风险模型(预期死亡、住院日、费用；交叉拟合) ...",
        "demo_3a": "      编码质量监测(目标领域、病案抽查清单、疑似分解住院) ...", "demo_3v": "      科室与主诊医师视图、月度趋势 ...",
        "demo_4": "[4/4] 支付模拟(点数法，预算=各年实际费用)、分级诊疗、对口支援、报告 ...",
        "demo_4d": "      按病种分值付费(DIP)：以前两年病例建立病种目录，全部病例入组并按年度结算 ...",
        "demo_dip": "  DIP病种目录、入组与结算：{path}/",
        "demo_done": "演示完成：{rows:,}份出院病案，入组率{ok:.1%}({status})",
        "demo_synth": "  合成数据与植入效应：{path}/ (discharges.parquet, truth.json, truth.parquet)",
        "demo_grouped": "  分组结果：{path} (+ .summary.json)", "demo_eval": "  评价表与工作簿：{path}/ (evaluation.xlsx)",
        "demo_funnel": "  死亡率漏斗图超出99.8%控制限(按DRG死亡率期望)：{ids}",
        "demo_risk": "  患者层面风险模型：{path}/；经患者层面调整后超出99.8%控制限(随机效应漏斗图)：{ids}",
        "demo_risk_skipped": "  患者层面风险模型：已跳过，病例太少无法拟合(约需2.5万例以上；用 --cases 加大演示数据)",
        "demo_audit": "  编码质量监测：{path}/；被标记：{flagged}；植入(truth.json)：{planted}",
        "demo_planted": "高套编码 {up}；分解住院 {split}；低标准入院 {low}；两周内再入院 {readmit}；编码无效 {sloppy}；高权重组提前出院 {short}；按支付选主要诊断 {swap}", "demo_from": "{id}({year}年起)",
        "demo_views": "  科室与主诊医师：{dept}/、{doctor}/；月度趋势：{path}/hospital_month.parquet",
        "demo_pay": "  支付模拟：{pay}/ (payment.xlsx)；分级诊疗：{tiered}/；对口支援：{support}/",
        "demo_did": "  对口支援CMI双重差分：{text}", "did_ok": "{program}：CMI {did:+.3f}(95%CI {lo:+.3f}至{hi:+.3f})",
        "did_none": "{program}：无估计({status})", "demo_report": "  报告(浏览器打开，可离线)：{path} (+ report.xlsx)",
        "none": "无", "no_program": "无项目",
        "group_done": "{rows:,}行 -> {output}，用时{seconds:.1f}秒({rps:,}行/秒)：{counts}", "group_unknown": "最常见的未知诊断编码：{top}",
        "evaluated": "已评价{hospitals}家医院的{cases:,}例纳入病例 -> {output}/ ({tables})",
        "evaluated_empty": "另有{n}家医院(医院表中)没有纳入病例，在表中列出、指标为空",
        "funnel_out": "死亡率漏斗图超出99.8%控制限：{items}",
        "settled": "已结算{hospitals}家医院的{cases:,}例病例({method}) -> {output}/ (settlement, parameters, monthly, drg_profit_loss; payment.xlsx)",
        "settled_year": "  {year}年：支付{paid:,.2f}元，预算{budget:,.2f}元", "report_done": "{files}",
        "tiered_done": "分级诊疗：{counties}个县(区)，{year}年{met}个达到县域内就诊率目标 -> {output}/",
        "tiered_no_county": "分级诊疗：县域内就诊率无法计算(需要患者现住址县区、年度和各医院所属县区) -> {output}/",
        "tiered_transfers": "  医嘱转院(离院方式2)：{transfers:,}人次，接收机构{how}：{found:,}人次；未识别比例{share:.1%}",
        "transfer_none": "数据中没有", "transfer_by": "{how}识别",
        "support_did": "{program}：CMI双重差分 {did:+.4f}(95%CI {lo:+.4f}至{hi:+.4f}；{n}家受援医院，{m}家对照医院)",
        "support_none": "{program}：无CMI估计({status}；{n}家受援医院，{m}家对照医院)",
        "dip_built": "DIP目录: {core:,}个核心病种覆盖{share:.1%}的病例, {comp:,}个综合病种 -> {output}",
        "dip_grouped": "已入组{cases:,}例: 核心病种精确匹配{exact:,}, 核心病种部分匹配{partial:,}, 综合病种{comprehensive:,}, "
                       "无法入组{ungroupable:,} -> {output}",
        "dip_paid": "DIP结算: {cases:,}例, 支付{paid:,.2f}元(预算{budget:,.2f}元) -> {output}",
        "support_done": "-> {output}/ (support, support_did, support_event, support_summary; support.xlsx)",
        "scheme_ok": "{id} {name}：通过",
        "support_pre": " [开始年份组 {cohorts}；事前趋势检验 P = {p}]",
        "pay_no_year": "警告：{n:,}例病例没有可读的年度，不属于任何年度的预算：未结算，在 cases.parquet 中记为“无年度未结算”，"
                       "支付为0；请补全其年度(或出院日期)",
        "pay_no_cost": "{n:,}例病例没有有效的总费用(缺失、非数字、无穷或不大于0)：按所在DRG的标准支付，不计入结余两边"
                       "(结算表：无有效费用病例数)",
        "pay_unknown_level": "警告：{n}家医院级别未知，系数按1.0计：{ids}；请用 --hospitals 提供医院表(医院编码、级别)",
        "and_more": " 等另{n}家", "all_years": "全部年度",
        "year_from_date": "提示：文件没有年度列，各病例的年度取自日期列“{column}”",
    },
    "en": {
        "demo_1": "[1/4] synthesizing {cases:,} discharges of the Dezhou region under {scheme} ...", "demo_2": "[2/4] grouping ...",
        "demo_2c": "      settlement-list checks (default rules: codes, sex and age, required fields, dates and costs, duplicates) ...",
        "demo_check": "  settlement-list checks: {path}/ (check.xlsx); {errors:,} cases with errors, pass rate {rate:.1%} (the synthetic secondaries ignore sex and age: see README)",
        "demo_3": "[3/4] evaluating hospitals (weights, indicators by peer group, discipline, risk-adjusted mortality) ...",
        "demo_3r": "      patient-level risk models (expected death, LOS, cost per case; cross-fitted) ...",
        "demo_3a": "      coding audit (target areas per hospital-year, review list, split admissions) ...",
        "demo_3v": "      department and doctor views, monthly trends ...",
        "demo_4": "[4/4] payment simulation (point method, budget = each year's spending), tiered care, counterpart support, report ...",
        "demo_4d": "      DIP: a catalogue from the first two years, every case grouped to it and every year settled ...",
        "demo_dip": "  DIP catalogue, grouping and settlement: {path}",
        "demo_done": "demo done: {rows:,} discharges, {ok:.1%} grouped ({status})",
        "demo_synth": "  synthetic data and planted effects: {path}/ (discharges.parquet, truth.json, truth.parquet)",
        "demo_grouped": "  grouped records: {path} (+ .summary.json)", "demo_eval": "  evaluation tables and workbook: {path}/ (evaluation.xlsx)",
        "demo_funnel": "  hospitals above the 99.8% mortality funnel limit (expected deaths from DRG rates): {ids}",
        "demo_risk": "  patient-level risk models: {path}/; above the 99.8% limit after patient-level adjustment (random-effects funnel): {ids}",
        "demo_risk_skipped": "  patient-level risk models: skipped, too few cases to fit them (about 25,000 or more; raise --cases)",
        "demo_audit": "  coding audit: {path}/; flagged: {flagged}; planted (truth.json): {planted}",
        "demo_planted": "upcoding {up}; split admissions {split}; low-value admissions {low}; readmissions within two weeks {readmit}; invalid coding {sloppy}; early discharges in high-weight DRGs {short}; principal diagnosis chosen by payment {swap}", "demo_from": "{id} (from {year})",
        "demo_views": "  departments and doctors: {dept}/, {doctor}/; monthly trends: {path}/hospital_month.parquet",
        "demo_pay": "  payment simulation: {pay}/ (payment.xlsx); tiered care: {tiered}/; counterpart support: {support}/",
        "demo_did": "  counterpart support, CMI difference-in-differences: {text}",
        "did_ok": "{program}: CMI {did:+.3f} (95% CI {lo:+.3f} to {hi:+.3f})", "did_none": "{program}: no estimate ({status})",
        "demo_report": "  report (open in a browser, works offline): {path} (+ report.xlsx)", "none": "none", "no_program": "no program",
        "group_done": "{rows:,} rows -> {output} in {seconds:.1f}s ({rps:,} rows/s): {counts}",
        "group_unknown": "most frequent unknown diagnosis codes: {top}",
        "evaluated": "evaluated {cases:,} included cases of {hospitals} hospitals -> {output}/ ({tables})",
        "evaluated_empty": "{n} more hospitals (of the hospitals table) have no included case: listed with empty indicators",
        "funnel_out": "outside the 99.8% mortality funnel: {items}",
        "settled": "settled {cases:,} cases of {hospitals} hospitals ({method} method) -> {output}/ (settlement, parameters, monthly, "
                   "drg_profit_loss; payment.xlsx)",
        "settled_year": "  {year}: paid {paid:,.2f} of a budget of {budget:,.2f}", "report_done": "{files}",
        "tiered_done": "tiered care: {counties} counties, {met} meet the in-county target in {year} -> {output}/",
        "tiered_no_county": "tiered care: in-county rates cannot be computed (they need the patients' residence county, the year and each hospital's county) -> {output}/",
        "tiered_transfers": "  type-2 transfers: {transfers:,}, receiver {how} for {found:,}; unmatched share {share:.1%}",
        "transfer_none": "not in the data", "transfer_by": "found by {how}",
        "support_did": "{program}: CMI DiD {did:+.4f} (95% CI {lo:+.4f} to {hi:+.4f}; {n} recipients, {m} controls)",
        "support_none": "{program}: no CMI estimate ({status}; {n} recipients, {m} controls)",
        "dip_built": "DIP catalogue: {core:,} core groups cover {share:.1%} of cases, {comp:,} comprehensive groups -> {output}",
        "dip_grouped": "grouped {cases:,} cases: exact {exact:,}, partial {partial:,}, comprehensive {comprehensive:,}, "
                       "ungroupable {ungroupable:,} -> {output}",
        "dip_paid": "DIP settlement: {cases:,} cases, paid {paid:,.2f} yuan (budget {budget:,.2f}) -> {output}",
        "support_done": "-> {output}/ (support, support_did, support_event, support_summary; support.xlsx)",
        "scheme_ok": "{id} {name}: OK",
        "support_pre": " [start cohorts {cohorts}; pre-trend test p = {p}]",
        "pay_no_year": "warning: {n:,} cases have no readable year and are in no year's budget: not settled, listed in "
                       "cases.parquet as no_year and paid 0; fill their year column",
        "pay_no_cost": "{n:,} cases without a usable total_cost (missing, NaN, infinite or <= 0): paid their DRG's standard "
                       "and left out of both sides of the balance (settlement: cases_cost_unusable)",
        "pay_unknown_level": "warning: {n} hospitals have no known level and get coefficient 1.0: {ids}; pass --hospitals "
                             "CSV (hospital_id, level)", "and_more": " and {n} more", "all_years": "all years",
        "year_from_date": "note: the file has no year column; each case's year is taken from its date column {column}",
    },
}


def say(lang: str, key: str, **values) -> str:
    """A terminal line in ``lang`` (zh by default); an output folder is named without a doubled slash."""
    if isinstance(values.get("output"), str):
        values["output"] = values["output"].rstrip("/") or "/"
    return CONSOLE.get(lang, CONSOLE["zh"])[key].format(**values)


GAPS = {
    "zh": {"no_weight": "未计算：{n}家医院没有一例有权重的病例，CMI、总权重、费用消耗指数、象限及其排名为空(权重由各DRG的"
                        "有效总费用算出；文件没有可用的医疗总费用)；请提供总费用列，或用 --weights 给出发布的权重",
           "no_cost_index": "未计算：费用消耗指数及其排名(没有可用的医疗总费用)",
           "no_time_index": "未计算：时间消耗指数及其排名(没有可用的住院天数)",
           "no_deaths": "未计算：低风险组死亡率及死亡风险调整(没有离院方式列，无法识别死亡病例)",
           "unknown_level": "提示：{n}家医院级别未知，不参加同级排名(排名为空)：{ids}；请用 --hospitals 提供医院表(医院编码、级别)",
           "few_peers": "提示：{n}家医院因同级医院或病例数太少未参加排名：{ids}"},
    "en": {"no_weight": "not computed: {n} hospitals have no case with a weight, so CMI, total weight, the cost index, quadrants "
                        "and their ranks are empty (weights come from each DRG's usable total costs; the file has none); "
                        "give a total cost column, or published weights with --weights",
           "no_cost_index": "not computed: the cost index and its ranks (no usable total cost)",
           "no_time_index": "not computed: the time index and its ranks (no usable length of stay)",
           "no_deaths": "not computed: low-risk mortality and risk-adjusted mortality (no leaving_type column to tell deaths)",
           "unknown_level": "note: {n} hospitals have no known level and are not ranked within a peer group: {ids}; pass "
                            "--hospitals CSV (hospital_id, level)",
           "few_peers": "note: {n} hospitals are not ranked (too few peers or cases): {ids}"},
}


def evaluation_gaps(tables: dict, lang: str) -> list[str]:
    """What `drg evaluate` could not compute, in words (a quiet table of empty cells is not an answer)."""
    import pandas as pd

    from .terminal import clean

    w = GAPS.get(lang, GAPS["zh"])
    h = tables.get("hospital")
    if h is None or not len(h):
        return []
    seen = h[h["cases"] > 0] if "cases" in h.columns else h
    lines = []

    def ids(frame):
        shown = [clean(x, 40) for x in frame["hospital_id"].astype(str).head(10)]
        return ", ".join(shown) + (say(lang, "and_more", n=len(frame) - 10) if len(frame) > 10 else "")

    if "cases_weighted" in seen.columns and len(seen) and (seen["cases_weighted"] == 0).all():
        lines.append(w["no_weight"].format(n=len(seen)))
    elif "cost_index" in seen.columns and len(seen) and seen["cost_index"].isna().all():
        lines.append(w["no_cost_index"])
    if "time_index" in seen.columns and len(seen) and seen["time_index"].isna().all():
        lines.append(w["no_time_index"])
    o = tables.get("outcomes")
    if o is not None and len(o) and "expected" in o.columns and pd.to_numeric(o["expected"], errors="coerce").fillna(0).eq(0).all() \
            and pd.to_numeric(o.get("observed", pd.Series(dtype=float)), errors="coerce").fillna(0).eq(0).all():
        lines.append(w["no_deaths"])
    if "level" in seen.columns:
        unknown = seen[seen["level"].astype(str).isin(["unknown", "nan", "None"]) | seen["level"].isna()]
        if len(unknown):
            lines.append(w["unknown_level"].format(n=len(unknown), ids=ids(unknown)))
        if "ranked" in seen.columns and "cases_weighted" in seen.columns and (seen["cases_weighted"] > 0).any():
            known = seen.drop(unknown.index)
            unranked = known[~known["ranked"].fillna(False).astype(bool)]
            if len(unranked):
                lines.append(w["few_peers"].format(n=len(unranked), ids=ids(unranked)))
    return lines


def tiered_care_summary(tables: dict, lang: str, output: str) -> str:
    """The terminal lines of `drg tiered-care`: counties meeting the in-county target in the latest year (or why there
    are none), and how the receivers of type-2 transfers were found."""
    c, h = tables["county"], tables["hospital"]
    years = c["year"].dropna() if "year" in c.columns else []
    if not len(years):
        lines = [say(lang, "tiered_no_county", output=output)]
    else:
        last = c[c["year"] == years.max()]
        met = int(last["in_county_rate_met"].fillna(False).astype(bool).sum())
        lines = [say(lang, "tiered_done", counties=len(last), met=met, year=int(years.max()), output=output)]
    transfers = int(h["transfers"].sum()) if len(h) else 0
    if transfers:
        how = h["transfer_match"].iloc[0]
        unknown = int(h["transfer_unknown_level"].sum())
        if how == "none":
            how = say(lang, "transfer_none")
        else:
            from evaluation.words import VALUE_LABELS

            how = say(lang, "transfer_by", how=VALUE_LABELS["transfer_match"].get(how, how) if lang == "zh" else how)
        lines.append(say(lang, "tiered_transfers", transfers=transfers, how=how, found=transfers - unknown,
                         share=unknown / transfers))
    return "\n".join(lines)


def print_settlement(a, cfg, tables, counts) -> None:
    """`drg pay`'s console lines: the settlement per year, then its warnings on stderr."""
    import sys

    from .terminal import clean

    st, par = tables["settlement"], tables["parameters"]
    method = {"points": "点数法", "rate": "费率法"}.get(cfg.method, cfg.method) if a.lang == "zh" else cfg.method
    print(say(a.lang, "settled", cases=counts["cases"], hospitals=st["hospital_id"].nunique() if len(st) else 0,
              method=method, output=a.output))
    for r in par.itertuples():
        year = say(a.lang, "all_years") if r.year is None or r.year != r.year else int(r.year)
        print(say(a.lang, "settled_year", year=year, paid=r.paid, budget=r.budget) + f" ({100 * r.paid_share_of_budget:.3f}%)")
    if counts["no_year"]:
        print(say(a.lang, "pay_no_year", n=counts["no_year"]), file=sys.stderr)
    bad = counts["cost_unusable"]
    if bad:
        print(say(a.lang, "pay_no_cost", n=bad))
    unknown = sorted({h for v in par["unknown_level_hospitals"] for h in str(v).split(",") if h})
    if unknown:
        shown = ", ".join(clean(h, 40) for h in unknown[:20]) + (say(a.lang, "and_more", n=len(unknown) - 20)
                                                                 if len(unknown) > 20 else "")
        print(say(a.lang, "pay_unknown_level", n=len(unknown), ids=shown), file=sys.stderr)


def print_evaluation(a, tables: dict) -> None:
    """`drg evaluate`'s console lines: the hospitals evaluated (those with included cases, as the report counts them;
    the hospitals table's others said apart), the funnel's outliers, and what could not be computed."""
    import sys

    from .terminal import clean

    h = tables["hospital"]
    with_cases = int((h["cases"] > 0).sum())
    print(say(a.lang, "evaluated", cases=int(h["cases"].sum()), hospitals=with_cases, output=a.output,
              tables=f"{', '.join(sorted(tables))}; evaluation.xlsx"))
    if len(h) > with_cases:
        print(say(a.lang, "evaluated_empty", n=len(h) - with_cases))
    o = tables["outcomes"]
    flagged = o[o["funnel_flag"].isin(["alarm_high", "alarm_low"])]
    if len(flagged):
        print(say(a.lang, "funnel_out", items=", ".join(f"{clean(r.hospital_id, 40)} (O/E {r.oe_ratio:.2f})"
                                                         for r in flagged.itertuples())))
    for line in evaluation_gaps(tables, a.lang):
        print(line, file=sys.stderr)
