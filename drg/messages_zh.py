"""The Chinese of every refusal of ours (``drg: error: <problem>; <fix>``): each English message template
(its variable parts written ``{}``) with its Chinese, in which ``{}`` takes the variable parts in order (``{0}``,
``{1}`` ... when the order changes). :func:`translate` finds the template a message was made from and fills the
Chinese with the same parts, each part translated in turn when it is itself one of our messages (``--config X: <a
message of the payment rules>``). Data, file names and library details inside a message stay as they are."""

from __future__ import annotations

import functools
import re

MESSAGES = {
    '--check runs on this machine; run without --dask (or check with drg check)':
        '--check 在本机运行; 请去掉 --dask(或用 drg check 检查)',
    '{}: a {} rule checks dx or px; write field dx or px':
        '{}：{}规则检查 dx 或 px; 请将 field 写为 dx 或 px',
    '{}: a {} rule needs {}; see docs/check-rules.md':
        '{}：{}规则需要 {}; 见 docs/check-rules.md',
    '{}: pattern {} is not a regular expression we read ({}); write e.g. [1-5]|9':
        '{}：pattern {} 不是可识别的正则表达式({}); 请写成如 [1-5]|9',
    '{}: {} {} is not a number; write a number or leave it blank':
        '{}：{} {} 不是数; 请写数字或留空',
    '{}: kind {} is not one of ours; use one of {}':
        '{}：规则类型 {} 不存在; 请使用以下之一：{}',
    '{}: severity {}; use error, warning or off':
        '{}：严重程度 {} 无效; 请写 error、warning 或 off',
    '{}: position {}; use any, principal or secondary':
        '{}：位置 {} 无效; 请写 any、principal 或 secondary',
    '{}: age_unit {}; use years or days':
        '{}：年龄单位 {} 无效; 请写 years 或 days',
    '{}: sex {}; use 1 (male) or 2 (female), or leave it blank':
        '{}：性别 {} 无效; 请写 1(男)或 2(女)，或留空',
    '{}: field is blank; name the column the rule checks (e.g. dx, sex, los_days)':
        '{}：field 为空; 请写出规则检查的列(如 dx、sex、los_days)',
    '{} {}: unknown column {}; the columns are {}':
        '{} {}：未知列 {}; 可用的列为 {}',
    '{}: codes is empty; write code prefixes or ranges, e.g. O00-O99|Z37':
        '{}：codes 为空; 请写编码前缀或范围，如 O00-O99|Z37',
    '{}: {} is blank; write what the coder should read':
        '{}：{} 为空; 请写出编码员应看到的说明',
    '{}: codes {} is not a code prefix or range; write e.g. O00-O99|Z37':
        '{}：codes 中的 {} 不是编码前缀或范围; 请写成如 O00-O99|Z37',
    '--rules {}: no .csv file in the folder; put rule tables (docs/check-rules.md) in it':
        '--rules {}：文件夹中没有 .csv 文件; 请放入规则表(见 docs/check-rules.md)',
    '--rules {}: no such folder or file; give a folder of rule tables (CSV)':
        '--rules {}：文件夹或文件不存在; 请给出规则表(CSV)所在的文件夹',
    '{}={}: out of range; write a number above {} and at most {}':
        '{}={}：超出范围; 请写大于{}且不超过{}的数',
    '{}={}: out of range; write a number from {} to {}':
        '{}={}：超出范围; 请写{}到{}之间的数',
    '--budget {}: not an amount; write yuan, e.g. 1.2e9, or per year, e.g. 2019=1.1e9,2020=1.2e9':
        '--budget {}：不是金额; 请写元数(如 1.2e9)或分年度(如 2019=1.1e9,2020=1.2e9)',
    '{}: drg {} needs column{} {}; name them so, or map them with --columns mapping.toml':
        '{0}：drg {1} 需要列 {3}; 请使用这些列名，或用 --columns mapping.toml 指定',
    '{} ({}): {}':
        '{}({})：{}',
    'which hospital treated the case (定点医疗机构代码)':
        '每例由哪家医院诊治(定点医疗机构代码)',
    "the case's DRG: run drg group on the records first":
        '每例的DRG：请先对病案运行 drg group',
    'names each case in cases.parquet':
        '在 cases.parquet 中标识每例',
    'the hospital tables':
        '医院层面的表',
    'the DRG the model conditions on (group the records first: drg group)':
        '模型所依据的DRG(请先运行 drg group 分组)',
    '--procedure-grades grades the principal procedure':
        '--procedure-grades 按主要手术分级',
    'the hospital each case is judged with':
        '每例归属并据以评判的医院',
    "the case's DRG: run drg group first":
        '每例的DRG：请先运行 drg group',
    '--targets {}: no such file; pass a TOML with [targets] name = value':
        '--targets {}：文件不存在; 请提供含 [targets] 名称 = 数值 的TOML文件',
    '--hospital {}: none of these hospital ids is in {}':
        '--hospital {}：这些医院编码都不在 {} 中; 请核对医院编码',
    '--targets {}':
        '--targets {}',
    '--quality-factors {}: {}':
        '--quality-factors {}：{}',
    '--scenario {}: no name or no change; write NAME:key=value,..., e.g. tight:budget=9e8 or k3:k_hi=3':
        '--scenario {}：缺少名称或调整内容; 请写成 名称:参数=值,...，如 tight:budget=9e8 或 k3:k_hi=3',
    '--years {}: give between 1 and 30 years, e.g. 2018-2021':
        '--years {}：应给出1到30个年度; 如 2018-2021',
    '--years {}: years from 1900 to 2200; write e.g. 2018-2021':
        '--years {}：年度应在1900到2200之间; 如 2018-2021',
    '--outcomes {}: choose from death, los, cost (comma-separated), e.g. death,los':
        '--outcomes {}：只能从 death、los、cost 中选择(逗号分隔); 如 death,los',
    '--budget {}: {}':
        '--budget {}：{}',
    '--scenario {}: {}':
        '--scenario {}：{}',
    '--years {}: write a range such as 2018-2021 or a list such as 2019,2020':
        '--years {}：无法识别; 请写成范围(如 2018-2021)或列表(如 2019,2020)',
    '--scenario {}: unknown key {}; use budget, coefficient.LEVEL or one of {}':
        '--scenario {}：未知参数 {}; 可用 budget、coefficient.级别 或以下之一：{}',
    '{}: is {}; write the output to a file path':
        '{}：是{}; 请把输出写到一个文件路径',
    '{} {}: is the input file {} and would destroy it; write the output to another path':
        '{} {}：就是输入文件 {}，写入会毁掉它; 请换一个输出路径',
    '{} {}: the output folder holds the input {}, which replacing the folder would destroy; choose another output folder':
        '{} {}：输出文件夹中有输入文件 {}，替换该文件夹会毁掉它; 请换一个输出文件夹',
    '{}: exists and is not a folder; give a folder name for the outputs':
        '{}：已存在且不是文件夹; 请给出一个文件夹名称作为输出',
    '{}: the folder holds files drg did not write (no {}); choose a new or empty output folder':
        '{}：该文件夹中有不是 drg 写入的文件(没有 {}); 请选择一个新的或空的输出文件夹',
    '{}: the folder now holds files drg did not write; choose a new output folder':
        '{}：该文件夹现在有不是 drg 写入的文件; 请选择一个新的输出文件夹',
    '--folds {}: choose 2..20 (cross-fitting needs at least two folds)':
        '--folds {}：请选择2到20(交叉拟合至少需要两折)',
    '--review-limit and --batch-size must be positive numbers':
        '--review-limit 和 --batch-size 必须为正数; 请改正',
    '{}: no records; audit the output of drg group':
        '{}：没有记录; 请对 drg group 的输出做监测',
    '{}: no case names its hospital (hospital_id is empty); the audit judges hospitals: fill hospital_id (定点医疗机构代码), or map it with --columns':
        '{}：没有一例病例有医院编码(hospital_id 为空)，监测以医院为单位; 请补全定点医疗机构代码，或用 --columns 指定该列',
    '{}: {} rows are more than an Excel sheet holds ({}); write .parquet or .csv':
        '{}：{}行，超过一个Excel工作表的容量({}); 请输出 .parquet 或 .csv',
    '--batch-size {}: must be a positive number of rows':
        '--batch-size {}：必须是正的行数; 请改正',
    '--sample must be at least 1,000 cases and --batch-size a positive number of rows':
        '--sample 至少为1,000例，--batch-size 必须为正的行数; 请改正',
    '--threads {}: choose 1..{} (the cores Numba can use)':
        '--threads {}：请选择1到{}(Numba可用的核数)',
    '{}: --dask reads Parquet only; convert the input or run without --dask':
        '{}：--dask 只能读取Parquet; 请先转换输入，或去掉 --dask',
    '--columns {}: columns must be a table of name = "your column" lines; write {}':
        '--columns {}：[columns] 必须是“名称 = "列名"”形式的表; 如 {}',
    '--columns {}: unknown name {}; map these names to your columns: {}':
        '--columns {}：未知名称 {}; 可映射的名称：{}',
    '--columns {}: {} must name a column as text; write {}':
        '--columns {}：{} 必须是文本形式的列名; 如 {}',
    '{}: the column {} appears {} times; keep one (or rename the others) and run again':
        '{}：列 {} 出现了{}次; 请只保留一列(或给其余列改名)后重新运行',
    '--columns maps {} to {}, which the file does not have; its columns are: {}{}':
        '--columns 把 {} 映射到 {}，但文件中没有该列; 文件的列为：{}{}',
    '--cases {}: the demo needs at least 1,000 cases (a region of 178 hospitals over four years); e.g. --cases 20000':
        '--cases {}：演示至少需要1,000例(178家医院、四个年度); 如 --cases 20000',
    '{}: cannot write the workbook ({}); free disk space or write to another folder':
        '{}：无法写出工作簿({}); 请释放磁盘空间或写到其他文件夹',
    '{}: unsupported output type; name the output .parquet, .csv or .xlsx':
        '{}：不支持的输出类型; 输出文件请以 .parquet、.csv 或 .xlsx 结尾',
    '{}: unsupported input type; use .parquet, .csv (UTF-8 or GBK) or .xlsx (one kind per run)':
        '{}：不支持的输入类型; 请使用 .parquet、.csv(UTF-8或GBK)或 .xlsx(每次运行一种)',
    '{}: the pattern matches no file; check the path':
        '{}：通配符没有匹配到任何文件; 请检查路径',
    '{}: not a regular file (a pipe, socket or device); save the data to a file first':
        '{}：不是普通文件(管道、套接字或设备); 请先把数据保存为文件',
    '{}: not a readable Parquet file ({}: {}); check the file or re-export it':
        '{}：不是可读取的Parquet文件({}：{}); 请检查文件或重新导出',
    '{}: cannot read {} ({}: {}); the file is damaged or truncated: re-export it':
        '{}：无法读取{}({}：{}); 文件已损坏或不完整，请重新导出',
    '{}: empty file or no header row; the first line must name the columns':
        '{}：空文件或没有表头行; 第一行必须是列名',
    'reading .xlsx needs openpyxl; pip install openpyxl':
        '读取 .xlsx 需要 openpyxl; 请运行 pip install openpyxl',
    '--encoding {}: use one of {}':
        '--encoding {}：不支持; 请使用以下之一：{}',
    '{}: the output folder {} does not exist; create it first':
        '{}：输出文件夹 {} 不存在; 请先创建',
    '{}: more than {} rows, more than an Excel sheet holds; write .parquet or .csv':
        '{}：超过{}行，超过一个Excel工作表的容量; 请输出 .parquet 或 .csv',
    '{}: the directory holds no .parquet file; pass a file, a directory of Parquet files or a glob':
        '{}：该文件夹中没有 .parquet 文件; 请给出文件、Parquet文件夹或通配符',
    '{}: no such file; check the path':
        '{}：文件不存在; 请检查路径',
    '{}: cannot parse the CSV ({}); check quoting and the column count of that row':
        '{}：无法解析CSV({}); 请检查该行的引号和列数',
    '{}: not a readable Excel workbook ({}); re-save it as .xlsx':
        '{}：不是可读取的Excel工作簿({}); 请另存为 .xlsx',
    '{}: the first sheet is empty; the first row must name the columns':
        '{}：第一个工作表是空的; 第一行必须是列名',
    '{}: {} cannot be written in {}; use --encoding gb18030 or utf-8':
        '{}：{} 无法用 {} 编码写出; 请使用 --encoding gb18030 或 utf-8',
    '{}: column {} ({}) cannot be read as {} like the other files ({}); re-export the files alike':
        '{}：列 {}({})不能像其他文件那样读作 {}({}); 请用相同格式重新导出这些文件',
    '{}: neither UTF-8 nor GBK text; save the CSV as UTF-8':
        '{}：既不是UTF-8也不是GBK文本; 请把CSV另存为UTF-8',
    '{}: column {} is {} but {} in {}; the files of one input must hold the same columns with compatible types: re-export them alike':
        '{0}：列 {1} 是 {2}，但在 {4} 中是 {3}; 同一输入的各文件必须有相同且类型兼容的列，请用相同格式重新导出',
    '--region {}: neither a built-in region (dezhou) nor a folder with hospitals.csv; name dezhou or such a folder':
        '--region {}：既不是内置地区(dezhou)也不是含 hospitals.csv 的文件夹; 请写 dezhou 或这样的文件夹',
    '--region {}: row {}: hospital {} has no known level; write tertiary, secondary, primary (三级/二级/一级) or public_health':
        '--region {}：第{}行：医院 {} 的级别无法识别; 请写 三级/二级/一级(tertiary/secondary/primary)或 public_health',
    '{}: not a folder; pass the folder that holds the outputs of drg evaluate, pay, ... (or of drg demo)':
        '{}：不是文件夹; 请给出存放 drg evaluate、pay 等输出(或 drg demo 输出)的文件夹',
    '{}: no drg output under it (no folder with {}); run e.g. drg evaluate grouped.parquet -o {} first, or drg demo':
        '{}：其中没有 drg 的输出(没有含 {} 的文件夹); 请先运行如 drg evaluate grouped.parquet -o {}，或 drg demo',
    '--lang {}: use zh (default) or en':
        '--lang {}：请使用 zh(默认)或 en',
    '-o {} and --xlsx {} are the same file; give the workbook its own name (e.g. report.xlsx)':
        '-o {} 和 --xlsx {} 是同一个文件; 请给工作簿另起名称(如 report.xlsx)',
    '--xlsx {}: not an .xlsx name; name the workbook e.g. report.xlsx':
        '--xlsx {}：不是 .xlsx 文件名; 请命名为如 report.xlsx',
    '{}: not a readable Parquet table ({}); re-run the command that wrote it':
        '{}：不是可读取的Parquet表({}); 请重新运行生成它的命令',
    '{}: not a drg group summary (a JSON object); re-run drg group to rewrite it, or delete it':
        '{}：不是 drg group 的汇总文件(JSON对象); 请重新运行 drg group 生成，或删除它',
    '{}: not a readable summary ({}); re-run drg group to rewrite it, or delete it to report without grouping statuses':
        '{}：汇总文件无法读取({}); 请重新运行 drg group 生成，或删除它(报告将不含分组状态)',
    '{}: --outcomes {} needs column {}; leave those outcomes out or add the column':
        '{}：--outcomes {} 需要列 {}; 请去掉这些结局或补充该列',
    '{}: no records to fit a model on':
        '{}：没有可用于拟合模型的记录; 请检查输入',
    "{}: too few cases to fit a risk model ({}); pool more years or hospitals, or use drg evaluate's DRG-based expected deaths":
        '{}：病例太少，无法拟合风险模型({}); 请合并更多年度或医院的数据，或使用 drg evaluate 按DRG死亡率计算的期望死亡',
    '--risk-model {}: no cases.parquet there; pass the output folder of drg risk':
        '--risk-model {}：其中没有 cases.parquet; 请给出 drg risk 的输出文件夹',
    "--risk-model needs case_id in the grouped records to match the model's cases":
        '--risk-model 需要已分组病案中的病案号(case_id)来匹配模型的病例; 请补充病案号列',
    '--risk-model {}: the model has no expected deaths; run drg risk with --outcomes death':
        '--risk-model {}：该模型没有期望死亡; 请用 --outcomes death 运行 drg risk',
    '--risk-model {}: its cases are not those of the grouped file, row by row; run drg risk on the same grouped file':
        '--risk-model {}：其中的病例与已分组文件逐行不一致; 请对同一个已分组文件运行 drg risk',
    '--risk-model {}: {} cases of the grouped file have no expectation there; run drg risk on the same grouped file':
        '--risk-model {}：已分组文件中有{}例在模型中没有期望值; 请对同一个已分组文件运行 drg risk',
    '--config {}: no such file; check the path':
        '--config {}：文件不存在; 请检查路径',
    '--weights needs one of --point-value (yuan per point) or --base-rate (yuan per weight unit)':
        '--weights 需要同时给出 --point-value(每点元数)或 --base-rate(每权重单位元数)之一; 请补充',
    '--budget has no amount for year {}; give one for every year or a single amount':
        '--budget 没有{}年的金额; 请为每个年度给出金额，或只给一个金额',
    '--config {}: {}':
        '--config {}：{}',
    'payment estimate: {}':
        '支付估算：{}',
    "drg {} needs each hospital's level, and the hospitals of the file are in no built-in network; pass --hospitals CSV (hospital_id, level[, county]) or a region folder":
        'drg {} 需要各医院的级别，而文件中的医院不属于任何内置地区; 请用 --hospitals 提供医院表CSV(医院编码、级别[、县区])或地区文件夹',
    '{}: neither UTF-8 nor GBK text; save it as CSV (UTF-8) with {}':
        '{}：既不是UTF-8也不是GBK文本; 请另存为UTF-8的CSV，包含 {}',
    '{}: a binary file, not a CSV; pass a CSV with {}':
        '{}：是二进制文件，不是CSV; 请提供CSV，包含 {}',
    '{}: the file is empty; pass a CSV with {}':
        '{}：文件是空的; 请提供CSV，包含 {}',
    '{}: the column {} appears twice; keep one':
        '{}：列 {} 出现了两次; 请只保留一列',
    '{}: no column {}; give it columns {}':
        '{}：没有列 {}; 请提供列 {}',
    '{}: has a header but no rows; pass a CSV with {}':
        '{}：只有表头没有数据行; 请提供CSV，包含 {}',
    '{}: row {}: {} {} is not {}; {}':
        '{}：第{}行：{} {} 不是{}; {}',
    '{}: no weight column; give it columns drg, weight':
        '{}：没有权重列; 请提供列 drg、weight(权重)',
    '{} {}: no case_id column; give it {}':
        '{} {}：没有病案号列(case_id); 请提供 {}',
    '{}: not a readable CSV ({}); pass a CSV with {}':
        '{}：不是可读取的CSV({}); 请提供CSV，包含 {}',
    '{}: row {} has no {}; fill it or delete the row':
        '{}：第{}行没有{}; 请补全或删除该行',
    '{}: {} {} is listed twice; keep one row for it':
        '{}：{} {} 出现了两次; 请只保留一行',
    'more than {} hospitals, DRGs or doctors: split the input by region or year':
        '医院、DRG组或医师超过{}个; 请按地区或年度拆分输入',
    '--period {}: use month, quarter or year':
        '--period {}：请使用 month、quarter 或 year',
    'missing column(s) hospital_id or drg; evaluate a grouped file (drg group output) that carries hospital_id':
        '缺少列 hospital_id(医院编码)或 drg; 请评价含医院编码的已分组文件(drg group 的输出)',
    '--period needs discharge_date (出院日期) to place each case in its period; map it with --columns if the file names it otherwise':
        '--period 需要出院日期(discharge_date)来确定各病例所属期间; 若文件中该列名称不同，请用 --columns 指定',
    '--peer {}: use level (default), level-kind or none':
        '--peer {}：请使用 level(默认)、level-kind 或 none',
    '{}: no such file; {}':
        '{}：文件不存在; {}',
    '{}: not a regular file; {}':
        '{}：不是普通文件; {}',
    '{}: larger than {} MB, not an option file; {}':
        '{}：大于{} MB，不是选项文件; {}',
    'missing column(s) {}; evaluate a grouped file (drg group output) that carries hospital_id':
        '缺少列 {}; 请评价含医院编码的已分组文件(drg group 的输出)',
    '{}: not UTF-8 text; save it as UTF-8, e.g. {}':
        '{}：不是UTF-8文本; 请另存为UTF-8，如 {}',
    '{}: not valid TOML ({}); write e.g. {}':
        '{}：不是有效的TOML({}); 请写成如 {}',
    '{}: nested too deeply to be an option file; write e.g. {}':
        '{}：嵌套过深，不是选项文件; 请写成如 {}',
    '{} {}: a budget must be a number of yuan between {} and {}; write e.g. 1.2e9':
        '{} {}：预算必须是 {} 到 {} 之间的元数; 如 1.2e9',
    'the costs total {} yuan, more than the {} yuan that sums in integer fen hold; check the total_cost column (its unit is yuan)':
        '费用合计{}元，超过以整数分计算所能容纳的{}元; 请检查总费用列(单位为元)',
    '{}={}: out of range; write a number {} {} {} {}':
        '{}={}：超出范围; 请写一个数，{} {} {} {}',
    "an amount of {} yuan is beyond what integer fen hold; check the budget, the base rate's basis and the costs (a case costs at most 1e12 yuan)":
        '金额{}元超出整数分所能容纳的范围; 请检查预算、费率基数和费用(每例费用最多1e12元)',
    'nothing to share the budget over (every share is 0)':
        '没有可分配预算的对象(所有份额均为0); 请检查权重和费用',
    'no DRG has a weight: no case has a usable total_cost (missing, NaN, infinite or <= 0) and no published weights were given; fix the cost column or pass --weights CSV':
        '没有一个DRG有权重：没有病例有可用的总费用(缺失、非数字、无穷或不大于0)，也没有给出发布的权重; 请修正费用列，或用 --weights 提供权重表',
    'no grouped case with a weight: the base rate is undefined':
        '没有有权重的已入组病例：无法确定费率; 请检查分组结果和权重',
    'the budget ({}) does not cover the payments made at cost ({}: high-cost add-ons, long stays, special reviews, not-grouped cases); raise the budget or use rate_basis = "volume"':
        '预算({})不足以支付按实际费用支付的部分({}：高倍率加成、长住院、特病单议、未入组病例); 请提高预算，或使用 rate_basis = "volume"',
    'no grouped case with a weight: the base rate is undefined (weight units sum to ~0)':
        '没有有权重的已入组病例：无法确定费率(权重总量约为0); 请检查分组结果和权重',
    '{}={}: not allowed; use one of {}':
        '{}={}：不允许; 请使用以下之一：{}',
    '{}={}: not a table; write name = factor lines, e.g. {} = {tertiary = 1.1}':
        '{}={}：不是表; 请写成 名称 = 系数，如 {} = {tertiary = 1.1}',
    '{}={}: out of range; write a whole number from {} to {}':
        '{}={}：超出范围; 请写 {} 到 {} 之间的整数',
    '{}: [payment] must be a table of key = value lines':
        '{}：[payment] 必须是“参数 = 值”形式的表; 请改正',
    '{}: unknown key(s) {}; known: {}':
        '{}：未知参数 {}; 可用参数：{}',
    'no points to share the budget over (no grouped case with a weight and no cost)':
        '没有可分配预算的点数(没有有权重或有费用的已入组病例); 请检查分组结果、权重和费用',
    '{}: an entry has a blank name; give every entry a level or hospital id':
        '{}：有一项名称为空; 请为每一项写上级别或医院编码',
    '{}.{}={}: out of range; write a number above {} and at most {}':
        '{}.{}={}：超出范围; 请写大于{}且不超过{}的数',
    'no DRG has a weight: no case is grouped (drg empty or a failure code, status not grouped, or no hospital_id); run drg group on the records first, or check the drg, status and hospital_id columns':
        '没有一个DRG有权重：没有已入组的病例(DRG为空或为失败代码、分组状态未入组，或没有医院编码); 请先对病案运行 drg group，或检查 drg、分组状态和医院编码列',
    'year {}: no payment to share the budget over; check the year column':
        '{}年：没有可分配预算的支付; 请检查年度列',
    'the floors of the shares exceed the budget (float error): report this input':
        '各份额取整后超过预算(浮点误差); 请报告此输入',
    'year {}: no points to share the budget over (no grouped case with a weight and no cost); check the year column, or settle the years that have cases':
        '{}年：没有可分配预算的点数(没有有权重或有费用的已入组病例); 请检查年度列，或只结算有病例的年度',
    'year {}: no grouped case with a weight: the base rate is undefined':
        '{}年：没有有权重的已入组病例，无法确定费率; 请检查年度列和分组结果',
    '--by {}: the streamed evaluation makes hospital, hospital-mdc and hospital-adrg tables':
        '--by {}：流式评价只生成 hospital、hospital-mdc 和 hospital-adrg 表; 请改用这些选项',
    '{}: [targets] must be a table of name = value lines':
        '{}：[targets] 必须是“名称 = 数值”形式的表; 请改正',
    '{}: unknown target {}; known: {}':
        '{}：未知目标 {}; 可用目标：{}',
    '{}: target {}: write a number, or {op = ">=" or "<=", value = 0.9}':
        '{}：目标 {}：请写一个数，或 {op = ">=" 或 "<=", value = 0.9}',
    '{}: service_share definition {}; use narrow or broad':
        '{}：医疗服务收入占比口径 {} 无法识别; 请使用 narrow(窄口径)或 broad(宽口径)',
    '--by {} needs column {} (e.g. 出院科别 for dept, 主诊医师代码 for doctor_id); map it with --columns if the file names it otherwise':
        '--by {} 需要列 {}(如科室用出院科别，主诊医师用主诊医师代码); 若文件中该列名称不同，请用 --columns 指定',
    'no atom':
        '规则为空; 请写出规则',
    'unknown term {} (see FORMAT.md section 4 for the atoms)':
        '未知的项 {}(规则原子见 FORMAT.md 第4节)',
    "expected a quoted tag after 'px tag', found {}":
        "'px tag' 之后应为带引号的标签，却是 {}",
    '{}() takes one of {}, found {}':
        '{}() 只接受 {} 之一，却是 {}',
    'expected a comparison operator after {}, found {}':
        '{} 之后应为比较运算符，却是 {}',
    '{}: no grouped case with a year and points; check the year (or discharge date) column and that drg dip group grouped the cases':
        '{}: 没有带年度和分值的已入组病例; 请检查年度(或出院日期)列，并确认已用 drg dip group 入组',
    '--budget has no amount for {}; give every year, e.g. {}=1.2e9, or one amount for all':
        '--budget 没有 {} 年的金额; 请给出每一年，如 {}=1.2e9，或给一个适用于所有年度的金额',
    '{}: --years needs a year (or discharge date) column':
        '{}: --years 需要年度(或出院日期)列',
    '{}: column(s) {} missing; pay the output of drg dip group':
        '{}: 缺少列 {}; 请对 drg dip group 的输出结算',
    "no base case with a principal diagnosis and a positive total cost: the catalogue needs the base year's grouped cases with dx and total_cost":
        '没有带主要诊断且总费用为正的基准病例：建立目录需要基准年度病例的诊断(dx)和医疗总费用(total_cost)',
    '{}: no groups.csv; pass the folder drg dip build wrote (or an official catalogue in its layout, docs/dip.md)':
        '{}: 没有 groups.csv; 请给出 drg dip build 输出的文件夹(或同样格式的官方目录，见 docs/dip.md)',
    '{}: column(s) {} missing; groups.csv needs {}':
        '{}: 缺少列 {}; groups.csv 需要 {}',
    '{}: value {} in kind/treatment; kind is core or comprehensive, treatment one of {}':
        '{}: kind/treatment 列中有值 {}; kind 为 core 或 comprehensive，treatment 为 {} 之一',
    '{}: group_id {} twice; each group has its own id':
        '{}: group_id {} 出现两次; 每个病种须有自己的编号',
    '--reference {}: no such group; name a group_id of groups.csv':
        '--reference {}: 没有该病种; 请写 groups.csv 中的一个 group_id',
    "{}: kind {}; a procedure is diagnostic, therapeutic or surgical":
        "{}: 治疗方式 {}; 手术操作只能是 diagnostic(诊断性)、therapeutic(治疗性)或 surgical(手术)",
    '{}: neither UTF-8 nor GBK text; save the table as UTF-8 CSV':
        '{}: 既不是UTF-8也不是GBK文本; 请另存为UTF-8 CSV',
    '--coefficients {}: write level=coefficient pairs, e.g. 三级=1.0,二级=0.9':
        '--coefficients {}: 请写 等级=系数，如 三级=1.0,二级=0.9',
    '{}: column {} needs a positive number on every row':
        '{}: {} 列每行都须为正数; 请改正目录',
    'expected dx, px, sdx or spx in count(...), found {}':
        'count(...) 中应为 dx、px、sdx 或 spx，却是 {}',
    'expected a comparison after {}(...), found {}':
        '{}(...) 之后应为比较，却是 {}',
    'expected an integer after {}(...) {}, found {}':
        '{}(...) {} 之后应为整数，却是 {}',
    '{}: key input_checks: {} is not a check; write some of {} (FORMAT.md 5.3)':
        '{}: 键 input_checks: {} 不是一项输入校验; 请写 {} 中的若干项(FORMAT.md 5.3)',
    '{}: column seq has a value used twice; give each reject rule its own seq':
        '{}: seq 列有重复的值; 请给每条拒绝规则不同的 seq',
    "{}: {} reject rules; at most {} (join rules with 'or')":
        "{}: 有 {} 条拒绝规则; 最多 {} 条(可用 'or' 合并规则)",
    '{}: key {}: {} must be one of {}':
        '{}: 键 {}: {} 必须是 {} 之一',
    '{}: row {}, column status: empty; write the status the record ends with':
        '{}: 第 {} 行 status 列为空; 请写出该规则成立时病案的分组状态',
    "expected dx, px, sdx or spx after 'any', found {}":
        "'any' 之后应为 dx、px、sdx 或 spx，却是 {}",
    'column {} has type {}; codes must be text (A|B) or a list of text codes, not nested lists, structs or maps: re-export the column as text':
        '列 {} 的类型是 {}，编码必须是文本(A|B)或文本编码列表，不能是嵌套列表、结构或映射; 请把该列重新导出为文本',
    'column(s) named twice: {}; rename or drop the copies (every column needs its own name)':
        '列名重复：{}; 请改名或删除重复的列(每列须有自己的名称)',
    'columns {} and {} both give {}; keep one (drop or rename the other)':
        '列 {} 和 {} 都表示 {}; 请只保留一列(删除或改名另一列)',
    'column {}: cannot read its codes as text ({}); re-export the column as UTF-8 text':
        '列 {}：无法把编码读作文本({}); 请把该列重新导出为UTF-8文本',
    'integer {}{} is outside the 64-bit range ({} to {})':
        '整数 {}{} 超出64位范围({} 到 {})',
    'expected a list (@NAME or {...}), found {}':
        '应为列表(@名称 或 {...})，却是 {}',
    'rule nests {} and/or/not levels, more than {}; put long alternatives in a code list (lists.csv) and test `pdx in @LIST`':
        '规则嵌套了{}层 and/or/not，超过{}层; 请把长的备选项放入编码表(lists.csv)，写成 `pdx in @LIST`',
    'unexpected character {} at position {}':
        '第{1}个位置出现意外字符 {0}',
    'rule nested more than {} levels deep (parentheses / not); put long alternatives in a code list and test `pdx in @LIST`':
        '规则嵌套超过{}层(括号/not); 请把长的备选项放入编码表，写成 `pdx in @LIST`',
    'expected {}, found {}':
        '应为 {}，却是 {}',
    'empty rule (write `true` for a rule that always holds)':
        '规则为空(恒成立的规则请写 `true`)',
    'unexpected {} after a complete rule':
        '完整规则之后出现意外的 {}',
    'expected @NAME of a {}, found {}':
        '应为{}的 @名称，却是 {}',
    "expected 'in'":
        "此处应为 'in'",
    'expected a quoted code in an inline set, found {}':
        '内联集合中应为带引号的编码，却是 {}',
    "expected ',' or '}' in an inline set, found {}":
        "内联集合中应为 ',' 或 '}'，却是 {}",
    '{}: row 1 (header): column(s) {} missing; the header must be {}':
        '{}：第1行(表头)：缺少列 {}; 表头必须为 {}',
    '{}: key output_codes_rejected: {} must be mdc|adrg|drg, e.g. 0000|00|0000':
        '{}：参数 output_codes_rejected：{} 必须写成 mdc|adrg|drg; 如 0000|00|0000',
    '{}: column order: value {} used twice; give each MDC its own order':
        '{}：order 列：值 {} 用了两次; 请为每个MDC给出不同的顺序',
    '{}: not a directory; pass a scheme directory (with mdc.csv, adrg.csv, drg.csv) via --scheme or DRG_SCHEME':
        '{}：不是文件夹; 请用 --scheme 或 DRG_SCHEME 给出分组方案文件夹(含 mdc.csv、adrg.csv、drg.csv)',
    '{}: file missing; a scheme directory needs {} (see FORMAT.md section 1)':
        '{}：文件缺失; 分组方案文件夹需要 {}(见 FORMAT.md 第1节)',
    '{}: not UTF-8 ({}); save the table as UTF-8 CSV':
        '{}：不是UTF-8({}); 请把该表另存为UTF-8的CSV',
    '{}: empty file; write at least the header row {}':
        '{}：空文件; 至少写出表头行 {}',
    '{}: row {}: {} fields, expected {}; quote cells that contain commas':
        '{}：第{}行：有{}个字段，应为{}个; 含逗号的单元格请加引号',
    '{}: row {}, column {}: {} is not an integer; write a whole number':
        '{}：第{}行 {} 列：{} 不是整数; 请写整数',
    '{}: row {}, column rule: {} in {}; fix the rule (grammar in FORMAT.md section 4)':
        '{}：第{}行 rule 列：{}，位于 {}; 请改正规则(语法见 FORMAT.md 第4节)',
    '{}: key {}: value {} must be true or false':
        '{}：参数 {}：值 {} 必须是 true 或 false',
    '{}: row {}, column mdc: {} already defined on row {}; each MDC appears once':
        '{}：第{}行 mdc 列：{} 已在第{}行定义; 每个MDC只能出现一次',
    '{}: row {}, column mdc: {} must look like MDCA (MDC + letter)':
        '{}：第{}行 mdc 列：{} 应形如 MDCA(MDC加字母)',
    '{}: row {}, column mdc: {} is not in mdc.csv; add it there or fix the name':
        '{}：第{}行 mdc 列：{} 不在 mdc.csv 中; 请在那里添加或改正名称',
    '{}: row {}, column kind: {} must be one of {}':
        '{}：第{}行 kind 列：{} 必须是以下之一：{}',
    '{}: row {}, column step: {} already used on row {}; step ids are unique':
        '{}：第{}行 step 列：{} 已在第{}行使用; 步骤编号必须唯一',
    '{}: row {}, column adrg: empty; write the ADRG (or QY) code':
        '{}：第{}行 adrg 列为空; 请写ADRG(或QY)编码',
    '{}: MDC {}: column seq has a value used twice; give each step of an MDC its own seq':
        '{}：MDC {}：seq 列有重复值; 请为MDC的每一步给出不同的 seq',
    '{}: row {}, column step: {} is not a step of adrg.csv; fix the step id':
        '{}：第{}行 step 列：{} 不是 adrg.csv 中的步骤; 请改正步骤编号',
    '{}: row {}, column drg: empty; write the DRG code':
        '{}：第{}行 drg 列为空; 请写DRG编码',
    '{}: step {}: column seq has a value used twice; give each split of a step its own seq':
        '{}：步骤 {}：seq 列有重复值; 请为每个细分给出不同的 seq',
    "--{} {}: must be at least {} (a part's games and readmissions are drawn within it)":
        '--{} {}：至少为{}(每一部分的编码违规和再入院都在其中生成); 请调大',
    '--{} {}: must be a positive number; e.g. --{} 20000':
        '--{} {}：必须为正数; 如 --{} 20000',
    'no cases to settle: the file has no rows; check the input (and its year column)':
        '没有可结算的病例：文件没有数据行; 请检查输入(及其年度列)',
    'no cases to settle: the file has no rows with a readable year; check the input (and its year column)':
        '没有可结算的病例：文件没有年度可读的数据行; 请检查输入(及其年度列或出院日期)',
    'numbered {} columns ({}, ...) but no principal diagnosis column is recognised (candidates: {}); rename the principal diagnosis code column to {}':
        '有带编号的{}列({}等)，却没有可识别的主要诊断列(候选：{}); 请把主要诊断编码列改名为 {}',
    'numbered {} columns ({}, ...) but no principal diagnosis column is recognised; rename the principal diagnosis code column to {}':
        '有带编号的{}列({}等)，却没有可识别的主要诊断列; 请把主要诊断编码列改名为 {}',
    'numbered {} columns ({}, ...) but no principal procedure column is recognised (candidates: {}); rename the principal procedure code column to {}':
        '有带编号的{}列({}等)，却没有可识别的主要手术操作列(候选：{}); 请把主要手术操作编码列改名为 {}',
    'numbered {} columns ({}, ...) but no principal procedure column is recognised; rename the principal procedure code column to {}':
        '有带编号的{}列({}等)，却没有可识别的主要手术操作列; 请把主要手术操作编码列改名为 {}',
    "missing required column(s): {}; the input has {}. Rename the column or see README 'Input columns'":
        '缺少必需的列：{}; 输入中的列为 {}。请修改列名，或参见 README 的“Input columns”',
    '{} (or {})':
        '{}(或 {})',
    '诊断编码 (a list or A|B string) or 主要诊断编码 + 其他诊断编码1..N':
        '诊断编码(列表或 A|B 字符串)或 主要诊断编码 + 其他诊断编码1..N',
    # drg serve (its JSON errors are in Chinese unless ?lang=en) and its options
    'give one of --point-value (yuan per point) or --base-rate (yuan per weight unit), not both':
        '--point-value(每点元数)与 --base-rate(每权重单位元数)只能给一个',
    '--host {} lets other machines in; give --token SECRET (every request must carry it) or listen on 127.0.0.1':
        '--host {} 允许其他机器访问; 请给出 --token 口令(每个请求都须携带)，或只监听 127.0.0.1',
    '--point-value/--base-rate price cases by weight; give --weights weights.csv too':
        '--point-value/--base-rate 按权重计价; 请同时给出 --weights 权重表.csv',
    'give one of --point-value (points method) or --base-rate (rate method), not both':
        '--point-value(点数法)与 --base-rate(费率法)只能给一个',
    'record': '病例',
    '--host {} --port {}: cannot listen there ({}); choose another --port, or stop what listens on it':
        '--host {} --port {}：无法在此监听({}); 请换一个 --port，或停止占用该端口的程序',
    'the request body is {} bytes': '请求内容有 {} 字节',
    'the request body is over {} bytes': '请求内容超过 {} 字节',
    'send at most {} bytes': '请求内容最多 {} 字节',
    'the body is a JSON {}, not an object': '请求内容是 JSON {}，不是对象',
    'send {"sex": ..., "dx": [...]} or {"records": [...]}': '请发送 {"sex": ..., "dx": [...]} 或 {"records": [...]}',
    'lang={}': '语言参数 lang={} 无效',
    'lang is zh (default) or en': 'lang 为 zh(默认)或 en',
    'filename={}': '文件名参数 filename={} 无效',
    "name the file's kind: ?filename=cases.csv, .xlsx or .parquet": '请用文件名说明文件类型：?filename=cases.csv、.xlsx 或 .parquet',
    'malformed JSON: {} (line {}, column {})': 'JSON 格式错误：{}(第{}行第{}列)',
    'send one JSON object (UTF-8, no NaN), e.g. {"sex": 1, "age_years": 60, "dx": ["I21.000"]}':
        '请发送一个 JSON 对象(UTF-8 编码，不含 NaN)，如 {"sex": 1, "age_years": 60, "dx": ["I21.000"]}',
    'limit is not a number': 'limit 不是数字',
    'limit is a whole number from 1 to 100': 'limit 为 1 到 100 的整数',
    '{} is {}, not a JSON object': '{}是 {}，不是 JSON 对象',
    'send one object such as {"sex": 1, "age_years": 60, "dx": ["I21.000"], "px": []}':
        '请发送一个对象，如 {"sex": 1, "age_years": 60, "dx": ["I21.000"], "px": []}',
    '{}: {} is {}': '{}：{} 的值为 {}',
    '{} is a number or a short text (男/女, 70岁, 3500克), or null': '{} 应为数字或短文本(男/女、70岁、3500克)或 null',
    '{}: {} holds {}, which is not a diagnosis or procedure code': '{}：{} 中的 {} 不是诊断或手术操作编码',
    "send codes such as I21.000 or 36.0600 (letters, digits, . + * / and the scheme's own characters); "
    "find a code by its name with GET /api/codes?q=名称":
        '请发送 I21.000、36.0600 这样的编码(字母、数字、. + * / 及方案编码中的字符); 按名称查编码：GET /api/codes?q=名称',
    'records is not a list': 'records 不是列表',
    '{"records": [{...}, {...}]}': '请发送 {"records": [{...}, {...}]}',
    '{} records in one request': '一次请求 {} 条病例',
    'send at most {} per request, or a file to /api/group-file': '每次最多 {} 条，或把文件发到 /api/group-file',
    '{}: unknown field {}': '{}：未知字段 {}',
    "use the fields of drg group's input: {}": '请使用 drg group 的输入字段：{}',
    'send {} as a list of codes or one "A|B" text': '{} 请发送编码列表或一个 "A|B" 文本',
    '{} holds one code text, e.g. I21.000': '{} 为一个编码文本，如 I21.000',
    '{}: {} has {} codes': '{}：{} 有 {} 个编码',
    'send at most {} codes in one list': '一个列表最多 {} 个编码',
    '{} is {}': '{} 的值为 {}',
    "{} is the case's total cost in yuan, a number": '{} 为病例总费用(元)，应为数字',
    '{}: {} holds {}': '{}：{} 中有 {}',
    '{} is a list of code texts, e.g. ["I21.000", "I10.x00"]': '{} 为编码文本列表，如 ["I21.000", "I10.x00"]',
    'the body has no "record"': '请求中没有 "record"(病例)',
    'send {"record": {...}, "add_dx": ["E11.900"], "add_px": []}': '请发送 {"record": {...}, "add_dx": ["E11.900"], "add_px": []}',
    'kind={}': '类别参数 kind={} 无效',
    'kind is dx, px or left out': 'kind 为 dx、px 或不写',
    'q has {} characters': 'q 有 {} 个字符',
    "search with a code's start or part of its name (at most 64 characters)": '请用编码开头或名称的一部分搜索(最多64个字符)',
    'limit={}': '数量参数 limit={} 无效',
    '{} is a list of at most {} codes': '{} 为最多 {} 个编码的列表',
    'missing or wrong token': '缺少口令或口令错误',
    'send the token drg serve was started with: header Authorization: Bearer TOKEN':
        '请携带 drg serve 启动时设定的口令：请求头 Authorization: Bearer 口令',
    'internal error': '服务内部错误',
    'this is a bug in drg serve; please report it with the request that caused it': '这是 drg serve 的缺陷; 请连同引发它的请求一起报告',
    'Not Found': '找不到该地址', 'Method Not Allowed': '该地址不支持此请求方法',
    'see GET /openapi.json for the endpoints': '接口列表见 GET /openapi.json',
    "see GET /openapi.json for each endpoint's method": '各接口的请求方法见 GET /openapi.json',
    'see GET /openapi.json': '见 GET /openapi.json',
    "see GET /openapi.json for the record's fields": '病例字段见 GET /openapi.json',
    "check the file's columns (README 'Input columns')": "请检查文件的列(见 README 'Input columns')",
}


@functools.cache
def _compiled() -> list:
    """(literal parts, Chinese template) per message, the most specific (most literal text) first."""
    out = [(en.split("{}"), zh) for en, zh in MESSAGES.items()]
    out.sort(key=lambda x: -sum(len(p) for p in x[0]))
    return out


def _splits(message: str, parts: list, limit: int = 64) -> list:
    """Every way (at most ``limit``) of reading ``message`` as ``parts[0] g1 parts[1] g2 ... parts[-1]``: the
    variable parts (g1, g2, ...) of each reading. A message whose parts hold the template's words themselves (a
    rule text with " in " inside) has several readings; the caller keeps the best."""
    if len(parts) == 1:
        return [()] if message == parts[0] else []
    if not message.startswith(parts[0]) or not message.endswith(parts[-1]) or \
            len(message) < len(parts[0]) + len(parts[-1]):
        return []
    body = message[len(parts[0]):len(message) - len(parts[-1])] if parts[-1] else message[len(parts[0]):]
    middle = parts[1:-1]
    found: list = []

    def walk(rest: str, i: int, groups: tuple):
        if len(found) >= limit:
            return
        if i == len(middle):
            found.append(groups + (rest,))
            return
        lit, start = middle[i], 0
        while True:
            j = rest.find(lit, start)
            if j < 0:
                return
            walk(rest[j + len(lit):], i + 1, groups + (rest[:j],))
            start = j + 1

    walk(body, 0, ())
    return found


def _fill(zh: str, groups: tuple) -> str:
    if re.search(r"\{\d\}", zh):
        return re.sub(r"\{(\d)\}", lambda m: groups[int(m.group(1))] if int(m.group(1)) < len(groups) else m.group(0), zh)
    parts = zh.split("{}")
    out = parts[0]
    for i, p in enumerate(parts[1:]):
        out += (groups[i] if i < len(groups) else "") + p
    return out


_WORD = re.compile(r"(?<![\w./-])[A-Za-z][a-z]{2,}(?![\w/.])")


def translate(message: str, depth: int = 0) -> str:
    """``message`` in Chinese when it was made from one of :data:`MESSAGES` (its parts translated too), else as
    it is (a message of a library, or data). Of the templates a message fits, the reading that leaves the fewest
    English words wins (a file name with a dot must not be taken for ``{}.{}={}``)."""
    if depth > 4 or not message:
        return message
    best = None
    for parts, zh in _compiled():
        for groups in _splits(message, parts):
            text = _fill(zh, tuple(translate(g, depth + 1) for g in groups))
            score = (len(_WORD.findall(text)), text.count(": "))  # English words left, then untranslated joints
            if best is None or score < best[0]:
                best = (score, text)
                if score == (0, 0):
                    return text
    return message if best is None else best[1]



def error_line(error: Exception, lang: str) -> str:
    """The one line of a refusal, ``drg: error: <problem>; <fix>``, in ``lang``."""
    from .terminal import clean

    return f"drg: error: {clean(translate(str(error)) if lang == 'zh' else error)}"
