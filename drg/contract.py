"""The input contract of the analysis commands (evaluate, risk, audit, pay, tiered-care, support): the
columns they read, under their canonical names, found in a grouped file under those names, under the
病案首页 / 医保结算清单 names of real exports (the grouper's own aliases included: `drg group` passes input
columns through as they are), or under any name a ``--columns`` TOML maps (``[columns] hospital_id = "机构"``).
Every reader renames what it found to the canonical names, so the analyses see one vocabulary."""

from __future__ import annotations

from grouper.columns import ALIASES as GROUPER_ALIASES
from grouper.columns import norm_header

from .io import InputError

ALIASES = {
    **{k: v for k, v in GROUPER_ALIASES.items() if k in ("case_id", "sex", "age_years", "age_days", "los_days",
                                                           "leaving_type", "dx", "px", "dept")},
    "hospital_id": ["hospital_id", "定点医疗机构代码", "定点医疗机构编码", "定点机构代码", "定点机构编码", "医疗机构代码",
                    "医疗机构编码", "机构代码", "机构编码", "医院代码", "医院编码", "组织机构代码"],
    "drg": ["drg", "DRG编码", "DRG组编码", "DRG分组编码", "DRG代码"],
    "adrg": ["adrg", "ADRG编码", "ADRG组编码", "ADRG代码"],
    "mdc": ["mdc", "MDC编码", "MDC代码"],
    "status": ["status", "分组状态", "入组状态"],
    "year": ["year", "年度", "结算年度", "出院年度"],
    "admit_date": ["admit_date", "入院日期", "入院时间"],
    "discharge_date": ["discharge_date", "出院日期", "出院时间"],
    "settlement_date": ["settlement_date", "结算日期", "结算时间", "费用结算日期"],
    "patient_id": ["patient_id", "患者ID", "患者编号", "病人ID", "患者唯一标识", "身份证号", "证件号码", "医保个人编码",
                   "个人编码", "人员编号"],
    "doctor_id": ["doctor_id", "主诊医师代码", "主诊医师编码", "主治医师代码", "主治医师编码", "主诊医师", "主治医师"],
    "total_cost": ["total_cost", "医疗总费用", "住院总费用", "总费用", "费用合计", "医疗费总额", "住院费用"],
    "drug_cost": ["drug_cost", "药品费", "药费", "西药费"],
    "consumables_cost": ["consumables_cost", "耗材费", "医用耗材费", "卫生材料费", "材料费"],
    "service_cost": ["service_cost", "医疗服务费", "综合医疗服务费", "服务费"],
    "exam_cost": ["exam_cost", "检查化验费", "检查费", "诊断费"],
    "other_cost": ["other_cost", "其他费", "其他费用"],
    "self_pay": ["self_pay", "个人自付", "个人自付金额", "个人负担金额", "个人现金支付", "个人支付金额", "自付金额"],
    "receiving_institution": ["receiving_institution", "拟接收医疗机构名称", "拟接收医疗机构代码", "拟接收机构", "接收机构"],
    "residence_county": ["residence_county", "现住址县区", "现住址区县", "现住址县", "居住地县区", "常住地县区"],
    "admission_route": ["admission_route", "入院途径"],
    "level": ["level", "医院级别", "医疗机构级别", "机构级别"],
    "drg_name": ["drg_name", "DRG名称"],
    # drg dip group's columns, under their headers in a CSV or xlsx for people
    "dip_group": ["dip_group", "DIP病种编码"], "dip_kind": ["dip_kind", "DIP病种类型"], "dip_match": ["dip_match", "DIP入组方式"],
    "dip_score": ["dip_score", "DIP病种分值"], "dip_mean_cost": ["dip_mean_cost", "DIP病种平均费用"],
    "dip_adjustment": ["dip_adjustment", "DIP严重程度调整系数"], "dip_status": ["dip_status", "DIP入组状态"],
    "dip_status_code": ["dip_status_code", "DIP状态代码"], "dip_reason": ["dip_reason", "DIP入组原因"],
}


def load_mapping(path: str | None) -> dict:
    """``--columns`` TOML: ``[columns]`` canonical name = the file's column name."""
    if not path:
        return {}
    from evaluation.common import EvaluationError, read_toml

    example = '[columns] hospital_id = "your column"'
    try:
        data = read_toml(path, "--columns", example)
    except EvaluationError as e:
        raise InputError(str(e)) from None
    table = data.get("columns", data)
    if not isinstance(table, dict):
        raise InputError(f"--columns {path}: columns must be a table of name = \"your column\" lines; write {example}")
    bad = sorted(str(k) for k in table if k not in ALIASES)
    if bad:
        raise InputError(f"--columns {path}: unknown name {', '.join(bad)}; map these names to your columns: "
                         f"{', '.join(sorted(ALIASES))}")
    odd = sorted(k for k, v in table.items() if not isinstance(v, str) or not v.strip())
    if odd:
        raise InputError(f"--columns {path}: {', '.join(odd)} must name a column as text; write {example}")
    return dict(table)


def resolve(have: list[str], mapping: dict | None = None) -> dict:
    """{canonical name: the file's column} for every canonical column the file has: the mapping first, then
    the canonical name, then the aliases in order (headers compared after NFKC normalisation, ignoring case
    and spaces, as `drg group` compares them). A mapped column the file lacks is an error."""
    by_norm: dict = {}
    for h in have:
        by_norm.setdefault(norm_header(h), h)
    out: dict = {}
    taken: set = set()
    for canon, target in (mapping or {}).items():
        if target not in have:
            raise InputError(f"--columns maps {canon} to {target!r}, which the file does not have; its columns are: "
                             f"{', '.join(have[:30])}{' ...' if len(have) > 30 else ''}")
        out[canon] = target
        taken.add(target)
    for canon, aliases in ALIASES.items():
        if canon in out:
            continue
        for alias in aliases:
            h = by_norm.get(norm_header(alias))
            if h is not None and h not in taken:
                out[canon] = h
                taken.add(h)
                break
    return out


# fields that are numbers, whatever type the input gave them (CSV and xlsx inputs are read as text to keep codes
# such as 0302 as written): an xlsx we write shows them as numbers
NUMERIC = ("age_years", "age_days", "weight_g", "los_days", "icu_hours", "total_cost", "drug_cost", "consumables_cost",
           "service_cost", "exam_cost", "other_cost", "self_pay", "year")


def numeric_headers(names: list[str]) -> set:
    """The columns of ``names`` that hold one of the :data:`NUMERIC` fields (by canonical name or alias)."""
    wanted = {norm_header(a) for canon in NUMERIC for a in ALIASES.get(canon, [canon])}
    wanted |= {norm_header(a) for canon in NUMERIC for a in GROUPER_ALIASES.get(canon, [])}
    return {n for n in names if norm_header(n) in wanted}


# where the year comes from when a file has no year column (offices export dates, not a 年度 column): the
# discharge date, else the settlement date (their first four digits: 2024-08-03, 2024/8/3, 20240803, 2024年8月3日)
YEAR_SOURCES = ("discharge_date", "settlement_date")
YEAR_FROM = "\0year"  # a read plan's entry {YEAR_FROM: the canonical date column the year is taken from}

_said: set = set()


def year_source(spec: str, wanted: list[str], mapping: dict | None = None, found: dict | None = None):
    """(canonical date column, the file's header) the year of ``spec`` is taken from, when ``year`` is wanted, the
    file has no year column and has a date; else None. ``found``: the file's resolved columns, when known."""
    if "year" not in wanted:
        return None
    if found is None:
        from .io import input_columns

        found = resolve(input_columns(spec), mapping)
    if "year" in found:
        return None
    return next(((c, found[c]) for c in YEAR_SOURCES if c in found), None)


NOTES: list = []  # console notes of the command running, printed by the command line once it succeeded


def note_year_source(spec: str, wanted: list[str], mapping: dict | None, lang: str) -> None:
    """Note once (printed on stderr by the command line when the command has succeeded: a refusal stays one line)
    that the year is taken from a date column."""
    from .terminal import clean
    from .text import say

    src = year_source(spec, wanted, mapping)
    if src is not None and (spec, src[1]) not in _said:
        _said.add((spec, src[1]))
        NOTES.append(clean(say(lang, "year_from_date", column=src[1])))


def add_year(t, source: str | None):
    """The pyarrow table ``t`` with a ``year`` column taken from its date column ``source`` (date, timestamp or
    text whose first four characters are the year; anything else is a missing year)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if source is None or "year" in t.column_names or source not in t.column_names:
        return t
    col = t.column(source)
    if pa.types.is_dictionary(col.type):
        col = col.cast(pa.string())
    if pa.types.is_date(col.type) or pa.types.is_timestamp(col.type):
        year = pc.year(col).cast(pa.int32())
    else:
        text = pc.utf8_trim_whitespace(col.cast(pa.string()))
        digits = pc.extract_regex(text, r"^(?P<y>[12][0-9]{3})(?:[-/.年]|[0-9]{4}(?:$|[ T0-9])|$)")
        year = pc.cast(pc.struct_field(digits, [0]), pa.int32(), safe=False)
    return t.append_column("year", year)


def read_plan(spec: str, wanted: list[str], mapping: dict | None = None) -> tuple[list[str], dict]:
    """(the file's columns to read, {file column: canonical name}) for the ``wanted`` canonical columns that
    the file has (a canonical name without aliases is read as it is when present). When ``year`` is wanted and the
    file has none, its discharge (else settlement) date is read and ``rename`` says so under :data:`YEAR_FROM`:
    the readers add the year (:func:`add_year`)."""
    from .io import input_columns

    have = input_columns(spec)
    found = resolve(have, mapping)
    source = year_source(spec, wanted, mapping, found)
    if source is not None and source[0] not in wanted:
        wanted = [*wanted, source[0]]
    twice = sorted({found.get(w, w) for w in wanted if have.count(found.get(w, w)) > 1})
    if twice:  # a reader cannot tell which of two same-named columns is meant
        raise InputError(f"{spec}: the column {', '.join(twice)} appears {have.count(twice[0])} times; keep one "
                         "(or rename the others) and run again")
    cols, rename = [], {}
    for w in wanted:
        src = found.get(w, w if w in have else None)
        if src is not None and src not in rename:
            cols.append(src)
            rename[src] = w
    if source is not None:
        rename[YEAR_FROM] = source[0]
    return cols, rename


def require(spec: str, found: list[str], needed: dict, command: str) -> None:
    """One line naming every missing column and what it is for: ``needed`` {canonical name: purpose}."""
    missing = [c for c in needed if c not in found]
    if missing:
        what = "; ".join(f"{c} ({' / '.join(ALIASES.get(c, [c])[1:3]) or c}): {needed[c]}" for c in missing)
        raise InputError(f"{spec}: drg {command} needs column{'s' if len(missing) > 1 else ''} {what}; "
                         "name them so, or map them with --columns mapping.toml")


def dictionary_columns(cols: list, rename: dict, dictionary: tuple) -> tuple:
    """The file's columns to read dictionary-encoded: the usual ones (:data:`drg.io.DICTIONARY_COLUMNS`) and those
    whose canonical name is in ``dictionary``. A column of few distinct values (hospital, county) then arrives as
    integer codes and the text of each value once, instead of a string per row that the reduce encodes again."""
    from .io import DICTIONARY_COLUMNS

    return DICTIONARY_COLUMNS + tuple(c for c in cols if rename.get(c, c) in dictionary and c not in DICTIONARY_COLUMNS)


def batches(spec: str, wanted: list[str], mapping: dict | None = None, batch_size: int = 1_000_000,
            dictionary: tuple = ()):
    """The file's batches with the ``wanted`` columns it has, under their canonical names; Parquet text columns
    whose canonical name is in ``dictionary`` are read dictionary-encoded (see :func:`dictionary_columns`)."""
    from . import progress
    from .io import count_rows, input_files, read_batches

    cols, rename = read_plan(spec, wanted, mapping)
    source = rename.get(YEAR_FROM)
    if progress.S.active:
        progress.reading(count_rows(*input_files(spec)))
    for b in read_batches(spec, batch_size=batch_size, columns=cols, dictionary_columns=dictionary_columns(cols, rename,
                                                                                                          dictionary)):
        progress.advance(b.num_rows)
        yield add_year(b.rename_columns([rename.get(c, c) for c in b.column_names]), source)
