"""Chinese help of the ``drg`` command line (the default language; ``--lang en`` shows the English of
:mod:`drg.arguments`): each English help text with its Chinese, argparse's own words, and help for the
options that have none in English."""

from __future__ import annotations

HELP_ZH = {
    "DIP (按病种分值付费): build a catalogue from the region's cases, group to it, settle in points":
        "DIP(按病种分值付费)：由本地区病例建立病种目录，按目录入组，按分值结算",
    "the disease-intervention catalogue from base-year cases (core and comprehensive groups, scores, severity tiers)":
        "由基准年病例建立病种目录(核心病种、综合病种、分值、疾病严重程度辅助目录)",
    "base-year cases with diagnoses, procedures and total cost (anything drg group reads)":
        "含诊断、手术操作和医疗总费用的基准年病例(drg group 能读的都可以)",
    "catalogue folder: groups.csv, severity.csv, procedure_kinds.csv, catalogue.json":
        "目录文件夹：groups.csv、severity.csv、procedure_kinds.csv、catalogue.json",
    "cases a combination needs to be a core group (default 15)": "组合成为核心病种所需的病例数(默认15)",
    "base years to use, e.g. 2019-2021 (default: every case)": "使用的基准年度，如 2019-2021(默认：全部病例)",
    "score against this group's mean cost instead of all cases' mean": "以该病种的平均费用(而非全部病例的平均费用)为分值基准",
    "scheme directory whose operating-room list and procedure names give the kinds of treatment":
        "分组方案文件夹：其手术室手术表和手术操作名称用于判定治疗方式",
    "every case to one group of a DIP catalogue": "将每个病例入组到DIP目录中的一个病种",
    "cases to group (anything drg group reads)": "待入组病例(drg group 能读的都可以)",
    "output .parquet, .csv or .xlsx: the input's columns and the DIP columns": "输出 .parquet、.csv 或 .xlsx：输入的各列加DIP各列",
    "catalogue folder (drg dip build, or an official one in its layout)": "目录文件夹(drg dip build 的输出，或同样格式的官方目录)",
    "points per case, point value per year, payments in fen, settlement per hospital": "逐例分值、年度点值、以分计的支付、各医院结算",
    "drg dip group's output": "drg dip group 的输出",
    "yuan per year (e.g. 1.2e9) or per year: 2019=1.1e9,2020=1.2e9": "每年预算(元，如 1.2e9)或分年度：2019=1.1e9,2020=1.2e9",
    "level coefficients, e.g. 三级=1.0,二级=0.9 (default 1)": "医院等级系数，如 三级=1.0,二级=0.9(默认1)",
    "cost above this times the group's mean: a high-cost case (default 2)": "费用高于病种平均费用的此倍数为费用超高病例(默认2)",
    "cost below this times the group's mean: a low-cost case (default 0.5)": "费用低于病种平均费用的此倍数为费用超低病例(默认0.5)",
    "output folder: cases.parquet, hospitals.parquet, parameters.parquet, pay.json": "输出文件夹：cases.parquet、hospitals.parquet、parameters.parquet、pay.json",
    "a folder holding drg outputs at any depth (drg evaluate -o eval/, pay -o pay/, ...; found by their manifests), e.g. . "
    "or a drg demo folder": "存放 drg 输出的文件夹(任意层级：drg evaluate -o eval/、pay -o pay/ 等，按其清单文件识别)，如 . 或 drg demo 的输出文件夹",
    "sex: 1/2, 男/女 or M/F, as files write it": "性别：1/2、男/女或M/F(与文件中的写法相同)",
    "show this help message and exit": "显示本帮助并退出",
    "pre-grouping service: an HTTP API and a coder's page for grouping, explaining and pricing cases as they are coded":
        "入组预测服务：HTTP接口和编码员页面，编码时即可分组、查看分组路径、模拟和估算支付",
    "weights CSV (drg, weight[, mean_cost]): results carry the weight and, with a point value or base rate, the payment estimate":
        "权重表CSV(drg, weight[, mean_cost])：结果带权重；再给点值或费率时带支付估算",
    "address to listen on (default 127.0.0.1: this machine only; any other needs --token)": "监听地址(默认127.0.0.1：仅本机；其他地址须设 --token)",
    "port (default 8000)": "端口(默认8000)",
    "add drg check's settlement-list issues to each row's warnings (duplicates within a batch)":
        "将 drg check 的结算清单质控问题加入每行的警告(重复病例只在同一批内查找)",
    "with --check: a folder of rule tables added to the default rules, as drg check --rules":
        "与 --check 同用：规则表文件夹，追加到默认规则，同 drg check --rules",
    "a folder of rule tables (CSV) added to the default quality-control rules of /api/check, as drg check --rules":
        "规则表(CSV)文件夹，追加到 /api/check 的默认质控规则，同 drg check --rules",
    "settlement-list quality control (结算清单质控) before upload: every issue per case, by rule tables a region can extend":
        "结算清单上传前质控：按规则表逐例列出全部问题，地区可增补规则",
    "a .parquet/.csv/.xlsx file, a directory of Parquet files, or a glob (anything drg group reads)":
        ".parquet/.csv/.xlsx文件、Parquet文件夹或通配符(drg group 能读的都可以)",
    "output folder: issues.parquet, hospitals/departments/rules.parquet, check.xlsx, check.json":
        "输出文件夹：issues.parquet、hospitals/departments/rules.parquet、check.xlsx、check.json",
    "a folder of rule tables (CSV, docs/check-rules.md) added to the default rules; a rule_id already known replaces that rule":
        "规则表文件夹(CSV，见 docs/check-rules.md)，追加到默认规则；规则编号相同则替换该规则",
    "TOML mapping canonical names to your columns ([columns] hospital_id = \"机构\")":
        "TOML列名映射：标准列名 = 文件中的列名([columns] hospital_id = \"机构\")",
    "rows per batch (memory bound; default 200,000)": "每批行数(决定内存占用；默认200,000)",
    "server processes (default 1), each with the scheme loaded": "服务进程数(默认1)，每个进程各自载入方案",
    "a secret every API request must carry (header Authorization: Bearer TOKEN); required off 127.0.0.1":
        "访问口令：每个接口请求须携带(请求头 Authorization: Bearer 口令)；非127.0.0.1时必填",
    "largest JSON request in MB (default 8; larger: 413)": "单个JSON请求的上限(MB，默认8；超过返回413)",
    "log each request's method, path and status (never its body)": "记录每个请求的方法、路径和状态(从不记录请求内容)",
    "language of the start-up lines": "启动信息的语言",
    "group discharge records (Parquet/CSV/Excel) into DRGs": "将出院病案(Parquet/CSV/Excel)分入DRG组",
    "show every rule tried for one record": "逐条显示一份病案尝试过的分组规则",
    "scheme tools": "分组方案工具",
    "synthesize a region, group it and evaluate it: the whole product on demo data": "合成一个地区的数据并分组、评价：用演示数据跑通全部功能",
    "DRG weights, hospital indicators by peer group, discipline, risk-adjusted mortality": "DRG权重、同级医院指标、学科评价、风险调整死亡率",
    "patient-level risk models: expected death, LOS and cost per case; hospital O/E": "患者层面风险模型：每例预期死亡、住院日和费用；医院O/E",
    "coding-quality and gaming surveillance: target areas per hospital-year (upcoding, split admissions, low-value admissions...), "
    "a ranked chart-review list": "编码质量与违规行为监测：按医院年度的目标领域(高套、分解住院、低标准入院等)和排序的病案抽查清单",
    "simulate DRG payment: base rate or point value, outliers, settlement per hospital": "DRG支付模拟：费率或点值、高低倍率病例、各医院结算",
    "in-county / in-region rates, primary share, basic-care DRGs, referrals, service revenue vs targets":
        "县域内就诊率、区域内就诊比例、基层占比、基层病种、转诊、医疗服务收入占比与目标比较",
    "counterpart support: recipients before/after and difference-in-differences": "对口支援：受援医院支援前后比较与双重差分",
    "self-contained HTML report (+ Excel workbook) from an output folder": "由输出文件夹生成单文件HTML报告(及Excel工作簿)",
    "synthesize a region's discharges with planted effects": "合成一个地区的出院病案(含植入效应)",
    "a .parquet/.csv/.xlsx file, a directory of Parquet files, or a glob": ".parquet/.csv/.xlsx文件、Parquet文件夹或通配符",
    "output .parquet, .csv or .xlsx (up to 1,048,575 rows)": "输出文件 .parquet、.csv 或 .xlsx(最多1,048,575行)",
    "CSV output: UTF-8 with BOM (default: opens right in Excel on a Chinese PC), plain UTF-8, GBK or GB18030":
        "CSV编码：带BOM的UTF-8(默认，中文Windows的Excel双击即可正确打开)、UTF-8、GBK或GB18030",
    "scheme directory (default: $DRG_SCHEME, else the national CHS-DRG 1.1 shipped with drg)":
        "分组方案文件夹(默认：$DRG_SCHEME，否则为内置的国家CHS-DRG 1.1)",
    "convert codes with the scheme's dx/px maps first": "先按方案的诊断/手术编码转换表转换编码",
    "read only the grouping columns; write case_id + results": "只读取分组所需列；输出病案号与分组结果",
    "language of reason/warnings (default zh)": "原因、提示与终端信息的语言(默认中文)",
    "rows per batch (memory bound; default 1,000,000)": "每批行数(决定内存上限；默认1,000,000)",
    "Numba threads (default: all cores)": "Numba线程数(默认：全部核)",
    "group on a Dask cluster (pip install .[dask])": "在Dask集群上分组(需 pip install .[dask])",
    "read and reduce the input on a Dask cluster (pip install .[dask]); the tables are those of a local run":
        "在Dask集群上读取并汇总输入(需 pip install .[dask])；结果表与本机运行相同",
    "CSV output: write text cells as they are (default: a cell starting with = + - @ TAB CR gets a leading ' so a spreadsheet "
    "cannot run it as a formula); for machine pipelines":
        "CSV按原样写文本(默认：以 = + - @ TAB CR 开头的单元格前加'，防止电子表格当作公式执行)；供程序处理时使用",
    "no progress bar or summary on stderr": "不显示进度条和汇总",
    "diagnoses, principal first: A|B or A,B": "诊断编码，主要诊断在前：A|B 或 A,B",
    "procedures, principal first": "手术操作编码，主要手术在前",
    "birth weight in grams": "出生体重(克)",
    "length of stay in days": "住院天数",
    "weights CSV (drg, weight[, mean_cost]): also estimate what the case would be paid": "权重CSV(drg, weight[, mean_cost])：同时估算本病例的支付金额",
    "yuan per point (points method; with --weights)": "点值，元/点(点数法；与 --weights 同用)",
    "yuan per weight unit (rate method; with --weights)": "费率，元/权重(费率法；与 --weights 同用)",
    "the case's total cost in yuan (high/low cost classes need mean_cost)": "病例总费用(元；判定高低倍率需权重文件的mean_cost)",
    "the hospital's level coefficient (default 1.0)": "医院系数(默认1.0)",
    "TOML with [payment] rules (k_lo, k_hi, los_max, ...), as drg pay": "含[payment]规则(k_lo, k_hi, los_max等)的TOML，同 drg pay",
    "validate a scheme directory and count its parts": "校验分组方案文件夹并统计其组成",
    "output folder (default demo-output)": "输出文件夹(默认 demo-output)",
    "language of every table, the report and the terminal (default zh)": "所有表格、报告和终端信息的语言(默认中文)",
    "grouped records (drg group output) with hospital_id, total_cost, los_days, leaving_type":
        "已分组病案(drg group 的输出)，含医院编码、总费用、住院天数、离院方式",
    "also a table per department (科室), doctor (主诊医师) or hospital x department, each judged within its specialty "
    "(needs dept / doctor_id: 出院科别, 主诊医师代码)": "另按科室、主诊医师或医院×科室出表，均在同专科内比较(需出院科别/主诊医师代码)",
    "also a table per hospital and month/quarter/year of discharge, with changes vs the previous period and the same period "
    "last year (环比, 同比)": "另按医院和出院月份/季度/年度出表，含环比与同比",
    "published weights CSV (drg, weight) to use instead of computed ones": "使用发布的权重CSV(drg, weight)代替测算权重",
    "hospitals CSV (hospital_id, level[, kind, name]) or region folder; default: built-in dezhou when ids match":
        "医院表CSV(hospital_id, level[, kind, name])或地区文件夹；默认：医院编码匹配时用内置德州",
    "subset of years, e.g. 2020-2021": "年度子集，如 2020-2021",
    "subset of levels, e.g. tertiary,secondary": "医院级别子集，如 tertiary,secondary(三级,二级)",
    "subset of hospitals, e.g. DZ001,DZ002 (they are then also the reference population)": "医院子集，如 DZ001,DZ002(同时作为参照人群)",
    "judge each hospital against the others only (O/E, cost and time indices); tables say which":
        "每家医院只与其他医院比较(O/E、费用和时间消耗指数)；表中注明参照",
    "cases a DRG needs before it gets a regional mortality risk level (default 30)": "DRG获得区域死亡风险等级所需的最少病例数(默认30)",
    "CSV with drg, risk_level (0-4): fixed levels, e.g. the national assessment's, instead of regional ones":
        "含drg, risk_level(0-4)的CSV：使用固定等级(如国考的)代替区域等级",
    'mortality funnel for regions whose hospitals vary more than chance allows: auto (default: each peer group is tested for over-dispersion, n·phi against chi2(n-1), and gets random-effects limits where it is present), additive (always random effects, Spiegelhalter 2005: within each peer group, outliers set aside by the generalized ESD of Rosner 1983, each hospital judged against the DerSimonian-Laird centre and tau2 of the other hospitals with Student t of their degrees of freedom; limits: exact Poisson-log-normal quantiles), multiplicative (limits widened by sqrt(phi), methodology 5.3) or none (exact Poisson limits)':
        '医院间差异超出随机波动时的死亡率漏斗图：auto(默认：对每个同级组检验过度离散(n·φ 对 χ²(n−1))，存在时用随机效应控制限)、additive(总用随机效应(Spiegelhalter 2005)：同级组内先用Rosner广义ESD剔除离群医院，每家医院与其他医院的DerSimonian-Laird中心和τ²比较，按其自由度的t分布判断；控制限为泊松-对数正态精确分位数)、multiplicative(控制限按√φ放宽，方法学5.3)或none(精确泊松控制限)',
    "output folder of drg risk on the same grouped file: expected deaths from its patient-level model instead of DRG rates":
        "同一分组文件上 drg risk 的输出文件夹：用其患者层面模型的预期死亡代替DRG死亡率",
    "table headers (default Chinese)": "表头与取值的语言(默认中文)",
    "output folder": "输出文件夹",
    "[columns] canonical name = your column, for headers that are neither canonical nor a known 病案首页/结算清单 name "
    "(e.g. hospital_id = \"机构\")": "列名映射TOML：[columns] 标准列名 = 您的列名，用于既非标准名也非常见病案首页/结算清单列名的表头(如 hospital_id = \"机构\")",
    "grouped records (drg group output) with case_id, hospital_id, drg, dx, age, sex and outcomes":
        "已分组病案(drg group 的输出)，含病案号、医院编码、DRG、诊断、年龄、性别和结局",
    "output folder (cases.parquet, hospital, hospital_year, model, calibration)": "输出文件夹(cases.parquet、hospital、hospital_year、model、calibration)",
    "which models to fit (default death,los,cost)": "拟合哪些模型(默认 death,los,cost：死亡、住院日、费用)",
    "scheme whose MCC/CC tables give the MCC/CC features (default: $DRG_SCHEME, else CHS-DRG 1.1)":
        "提供MCC/CC表的分组方案(默认：$DRG_SCHEME，否则CHS-DRG 1.1)",
    "cross-fitting folds (default 5): no case is predicted by a model that saw it": "交叉拟合折数(默认5)：病例不由见过它的模型预测",
    "assign folds by case (default) or by hospital (a hospital's cases never train its own expectations)":
        "按病例(默认)或按医院分折(医院自身病例不参与其期望值的拟合)",
    "cases the models are fitted on (a fixed random sample; default 250,000)": "拟合模型所用病例数(固定随机样本；默认250,000)",
    "mortality funnel with over-dispersion, as in drg evaluate": "考虑过度离散的死亡率漏斗图，同 drg evaluate",
    "grouped records (drg group output) with case_id, hospital_id, dx, px, dates and patient_id":
        "已分组病案(drg group 的输出)，含病案号、医院编码、诊断、手术、入出院日期和患者ID",
    "output folder (hospital_flags, review_cases, split_admissions, target_areas)": "输出文件夹(目标领域预警、病案抽查清单、疑似分解住院、目标领域口径)",
    "hospitals CSV (hospital_id, level[, kind, name]) or region folder: the peer groups": "医院表CSV(hospital_id, level[, kind, name])或地区文件夹：确定同级组",
    "scheme whose MCC/CC tables define MCC/CC capture (default: $DRG_SCHEME, else CHS-DRG 1.1)":
        "用其MCC/CC表判定MCC/CC编码的分组方案(默认：$DRG_SCHEME，否则CHS-DRG 1.1)",
    "published weights CSV (drg, weight); default: DRG mean cost / regional mean": "发布的权重CSV(drg, weight)；默认：DRG例均费用/全区例均费用",
    "cross-fitting folds by hospital for the MCC/CC model (default 5)": "MCC/CC模型按医院交叉拟合的折数(默认5)",
    "most cases in the review list (default 100,000)": "病案抽查清单的最多病例数(默认100,000)",
    "rows per batch read (default 1,000,000)": "每批读取行数(默认1,000,000)",
    "grouped records with hospital_id, total_cost, los_days": "已分组病案，含医院编码、总费用、住院天数",
    "yuan per settlement year (e.g. 1.2e9) or per year: 2019=1.1e9,2020=1.2e9": "每个结算年度的预算(元，如 1.2e9)或分年度：2019=1.1e9,2020=1.2e9",
    "rate (费率法) or points (点数法, default)": "rate(费率法)或 points(点数法，默认)",
    "published weights CSV (drg, weight)": "发布的权重CSV(drg, weight)",
    "TOML with [payment] keys: coefficients, k_lo, k_hi, los_max, fallback, s_keep, ...": "含[payment]参数的TOML：coefficients、k_lo、k_hi、los_max、fallback、s_keep等",
    "hospitals CSV (hospital_id, level) or region folder": "医院表CSV(hospital_id, level)或地区文件夹",
    "what-if NAME:key=value,... e.g. tight:budget=9e8 (repeatable)": "情景模拟 名称:参数=值,...，如 tight:budget=9e8(可重复)",
    "rate method: balance (default: total payments incl. outliers = budget) or volume (sheet 4.1: budget / prior year's weight "
    "units x (1 + growth))": "费率法口径：balance(默认：含高低倍率的总支付=预算)或volume(方法学4.1：预算/上年权重总量×(1+增长率))",
    "CSV with case_id: special-review cases (特病单议), in priority order; paid at cost up to special_review_cap of a hospital's "
    "cases": "含case_id的CSV：特病单议病例(按优先顺序)；在医院病例数的special_review_cap比例内按实际费用支付",
    "CSV with hospital_id, factor: quality-linked coefficients (e.g. 1.02)": "含hospital_id, factor的CSV：与质量挂钩的系数(如1.02)",
    "TOML of target values ([targets] in_county_rate = 0.9, ...); default: the seed cities' targets":
        "目标值TOML([targets] in_county_rate = 0.9 等)；默认：试点城市的目标",
    "hospitals CSV (hospital_id, level, county) or region folder; default: built-in dezhou": "医院表CSV(hospital_id, level, county)或地区文件夹；默认：内置德州",
    "CSV with a drg column: the basic-care (基层病种) DRG list; default: medical DRGs with RW < 0.8": "含drg列的CSV：基层病种DRG目录；默认：RW<0.8的内科组",
    "support pairs CSV (supporter_id, recipient_id, program, specialty_1, specialty_2, start_year); default: built-in dezhou":
        "对口支援关系CSV(supporter_id, recipient_id, program, specialty_1, specialty_2, start_year)；默认：内置德州",
    "first year of support for pairs without a start_year column (that year is left out of pre and post)":
        "无start_year列时的支援开始年度(该年不计入支援前后)",
    "comparison hospitals: never supported while the data run (default), or also this program's recipients before their own start":
        "对照医院：数据期内从未受援(默认)，或也包括本项目尚未开始受援的医院",
    "CSV with code, grade (1-4): level-2+ surgery by the principal procedure's grade instead of the DRG-partition proxy":
        "含code, grade(1-4)的CSV：按主要手术分级判定二级及以上手术，代替DRG划分代理",
    "output folder with evaluation/ (and payment/, tiered_care/, support/), e.g. a drg demo folder":
        "含evaluation/(及payment/、tiered_care/、support/)的输出文件夹，如 drg demo 的输出",
    "report .html": "报告文件 .html",
    "also write the tables to this .xlsx": "同时将表格写入此 .xlsx",
    "built-in region name or a folder with hospitals.csv, support_pairs.csv": "内置地区名，或含 hospitals.csv、support_pairs.csv 的文件夹",
    "CHS-DRG grouping and hospital evaluation toolkit": "CHS-DRG分组与医院评价工具包",
    "cases made and written at a time (memory bound; default 250,000; a larger synth is made in parts of consecutive days)":
        "每次合成并写出的病例数(决定内存上限；默认250,000；更大的合成按连续日期分段进行)",
    "processes making parts side by side (default: all cores, at most 8)": "并行合成各段的进程数(默认：全部核，最多8)",
}

# options that have no English help text: (Chinese, English)
HELP_BY_DEST = {
    "cases": ("合成的病例数", "number of cases to synthesize"), "seed": ("随机数种子", "random seed"),
    "threads": ("Numba线程数(默认：全部核)", "Numba threads (default: all cores)"),
    "quiet": ("不显示进度", "no progress output"), "sex": ("性别：1/2、男/女或M/F", "sex: 1/2, 男/女 or M/F"),
    "age": ("年龄(岁)", "age in years"), "age_days": ("年龄(天)，不足1岁时", "age in days, under one year"),
    "leaving_type": ("离院方式(1-9)", "discharge disposition (1-9)"), "dept": ("科室编码", "department code"),
    "icu_hours": ("重症监护时长(小时)", "ICU hours"), "admission_weight": ("入院体重(克)", "weight at admission in grams"),
    "crrt_hours": ("CRRT时长(小时)", "CRRT hours"), "new_technique": ("新技术：1/0或是/否", "new technique: 1/0"),
    "intensive_care": ("重症监护：1/0或是/否", "intensive care: 1/0"), "day_surgery": ("日间手术：1/0或是/否", "day surgery: 1/0"), "map_codes": ("先按方案的编码转换表转换编码", "convert codes with the scheme's maps first"),
    "lang": ("输出语言：zh(中文，默认)或en(英文)", "output language: zh (Chinese, default) or en"),
    "scheme": ("分组方案文件夹(默认：$DRG_SCHEME，否则为内置的国家CHS-DRG 1.1)",
               "scheme directory (default: $DRG_SCHEME, else the national CHS-DRG 1.1 shipped with drg)"),
    "grouped": ("已分组病案(drg group 的输出)", "grouped records (drg group output)"), "dir": ("分组方案文件夹", "scheme directory"),
    "json": ("以JSON输出", "print JSON"), "years": ("年度，如 2018-2021", "years, e.g. 2018-2021"),
    "output": ("输出文件夹", "output folder"),
    "peer": ("同级比较口径：level(按医院级别，默认)、level-kind(级别+类别)或none(全区)",
             "peer groups: level (default), level-kind, or none (the whole region)"), "hospitals": ("医院表CSV或地区文件夹", "hospitals CSV or region folder"),
}

# argparse's own words (usage, headings, its error lines)
ARGPARSE_ZH = {
    "usage: ": "用法：", "options": "选项", "positional arguments": "位置参数", "optional arguments": "选项",
    "show this help message and exit": "显示本帮助并退出", "the following arguments are required: %s": "缺少必需参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选项值 %(value)r(可选：%(choices)s)",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "unrecognized arguments: %s": "无法识别的参数：%s", "expected one argument": "需要一个参数值",
    "invalid %(type)s value: %(value)r": "无效的%(type)s值：%(value)r", "%(prog)s: error: %(message)s\n": "%(prog)s: error: %(message)s\n",
}

# examples under each command's help (drg CMD -h): file names as offices name them
EXAMPLES = {
    "group": ["drg group 结算清单.csv -o grouped.parquet", "drg group 结算清单.xlsx -o grouped.xlsx",
              "drg group 'data/2024/*.parquet' -o grouped.parquet --only-results --threads 16"],
    "explain": ['drg explain --dx "I63.900,J96.000" --sex 男 --age 70'],
    "scheme check": ["drg scheme check schemes/chs-drg-1.1"],
    "demo": ["drg demo -o demo-output", "drg demo --cases 20000 -o small-demo --lang en"],
    "evaluate": ["drg evaluate grouped.parquet --hospitals 医院.csv -o eval/",
                 "drg evaluate grouped.parquet --by hospital-mdc --period month -o eval/",
                 "drg evaluate grouped.parquet --by doctor -o doctors/"],
    "risk": ["drg risk grouped.parquet --hospitals 医院.csv -o risk/",
             "drg evaluate grouped.parquet --risk-model risk/ --overdispersion -o eval/"],
    "audit": ["drg audit grouped.parquet --hospitals 医院.csv -o audit/"],
    "pay": ["drg pay grouped.parquet --budget 30,000,000 --hospitals 医院.csv -o pay/",
            "drg pay grouped.parquet --budget 2023=1.1e9,2024=1.2e9 --method rate -o pay/",
            "drg pay grouped.parquet --budget 1.2e9 --scenario tight:budget=1.1e9 -o pay/"],
    "tiered-care": ["drg tiered-care grouped.parquet --hospitals 医院.csv -o tiered/"],
    "support": ["drg support grouped.parquet --pairs 对口支援.csv --hospitals 医院.csv -o support/"],
    "report": ["drg report . -o report.html --xlsx report.xlsx", "drg report demo-output -o report.html --lang en"],
    "serve": ["drg serve", "drg serve --weights 权重.csv --point-value 12.5 --port 8080",
              "drg serve --host 0.0.0.0 --token 换成一串随机字符 --workers 2"],
    "dip build": ["drg dip build 2021年病例.parquet -o DIP目录/ --min-cases 15", "drg dip build cases.csv -o catalogue/ --years 2019-2021"],
    "dip group": ["drg dip group 2022年病例.parquet -o 2022年DIP入组.parquet --catalogue DIP目录/"],
    "dip pay": ["drg dip pay 2022年DIP入组.parquet --budget 1.2e9 -o DIP结算/", "drg dip pay dip.parquet --budget 2022=1.2e9 --coefficients 三级=1.0,二级=0.9 -o pay/"],
    "check": ["drg check 结算清单.csv -o 质控/", "drg check discharges.parquet -o qc/ --rules 本地规则/ --lang en"],
    "synth": ["drg synth --region dezhou --years 2018-2021 --cases 200000 -o synthetic/"],
}
