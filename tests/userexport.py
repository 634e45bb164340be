"""A small 医保结算清单 export the way an office's system writes it, made from the public case records.

Not `drg synth`: the diagnoses and procedures are the public reference records (labelled by another
grouper), the hospitals are ids no built-in network knows, the dates carry the year (there is no 年度
column), the headers are the wide Chinese ones of a settlement-list export, and a few cells are blank.
Costs and deaths follow a plain model of the record's length of stay and age, the same in every
hospital (a null world: no hospital is better or worse than another).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

# Header spelling of each field in the export; variants replace one of them per test.
HEADERS = {
    "case_id": "病案号",
    "hospital_id": "定点医疗机构代码",
    "hospital_name": "定点医疗机构名称",
    "sex": "性别",
    "age_years": "年龄",
    "age_days": "年龄不足1周岁的年龄(天)",
    "weight_g": "新生儿出生体重(克)",
    "los_days": "实际住院天数",
    "leaving_type": "离院方式",
    "dept": "出院科别",
    "admit_date": "入院日期",
    "discharge_date": "出院日期",
    "patient_id": "医保个人编码",
    "doctor_id": "主诊医师代码",
    "total_cost": "医疗总费用",
    "drug_cost": "药品费",
    "consumables_cost": "耗材费",
    "service_cost": "医疗服务费",
    "self_pay": "个人自付",
    "pdx": "主要诊断编码",
    "sdx": "其他诊断编码{}",
    "ppx": "主要手术操作编码",
    "spx": "手术操作编码{}",
}

HOSPITALS = [  # id, name, level (level unknown to every built-in network; the user may pass a file)
    ("H37140001", "某市第一人民医院", 3), ("H37140002", "某市中医医院", 3),
    ("H37140003", "甲县人民医院", 2), ("H37140004", "乙县人民医院", 2), ("H37140005", "丙县人民医院", 2),
    ("H37140006", "甲县中医院", 2), ("H37140007", "城东社区卫生服务中心", 1), ("H37140008", "某镇卫生院", 1),
]


def make_export(cases: Path, n: int = 2000, seed: int = 7, years=(2023, 2024)) -> pd.DataFrame:
    """A DataFrame with the export's Chinese headers (strings everywhere, as an export has them)."""
    rng = np.random.default_rng(seed)
    table = pq.read_table(cases).to_pandas()
    ok = table[table["expected_status"] == "分组成功"]
    other = table[table["expected_status"] != "分组成功"]
    picked = pd.concat([ok.sample(n - n // 20, random_state=seed), other.sample(n // 20, random_state=seed)])
    picked = picked.sample(frac=1.0, random_state=seed + 1).reset_index(drop=True)
    m = len(picked)
    # Township hospitals get fewer cases, as they do
    share = np.array([0.22, 0.14, 0.14, 0.12, 0.12, 0.1, 0.08, 0.08])
    hosp = rng.choice(len(HOSPITALS), size=m, p=share / share.sum())
    los = pd.to_numeric(picked["los_days"], errors="coerce").fillna(5).to_numpy().astype(int)
    age_read = pd.to_numeric(picked["age_years"], errors="coerce")
    age = age_read.fillna(50).to_numpy()
    year = rng.choice(np.array(years), size=m)
    day = rng.integers(0, 365, size=m)
    discharge = pd.to_datetime([f"{y}-01-01" for y in year]) + pd.to_timedelta(day, unit="D")
    admit = discharge - pd.to_timedelta(los, unit="D")
    cost = np.round(np.exp(7.6 + 0.55 * np.log1p(los) + 0.004 * age + rng.normal(0, 0.35, m)), 2)
    p_death = 1.0 / (1.0 + np.exp(-(-6.2 + 0.045 * age)))
    died = rng.random(m) < p_death
    leaving = np.where(died, "5", picked["leaving_type"].fillna("").astype(str).replace({"5": "1"}))
    patients = rng.integers(0, int(m * 0.8), size=m)
    out = {
        HEADERS["case_id"]: [f"ZY{2000000 + i:07d}" for i in range(m)],
        HEADERS["hospital_id"]: [HOSPITALS[h][0] for h in hosp],
        HEADERS["hospital_name"]: [HOSPITALS[h][1] for h in hosp],
        HEADERS["sex"]: picked["sex"].map(lambda v: "" if pd.isna(v) else str(int(v))),
        HEADERS["age_years"]: age_read.map(lambda v: "" if pd.isna(v) else str(int(v))),
        HEADERS["age_days"]: picked["age_days"].map(lambda v: "" if pd.isna(v) else str(int(v))),
        HEADERS["weight_g"]: picked["weight_g"].map(lambda v: "" if pd.isna(v) else str(int(v))),
        HEADERS["los_days"]: [str(v) for v in los],
        HEADERS["leaving_type"]: leaving,
        HEADERS["dept"]: picked["dept"].fillna("").astype(str).where(lambda s: s != "", "内科"),
        HEADERS["admit_date"]: admit.strftime("%Y-%m-%d"),
        HEADERS["discharge_date"]: discharge.strftime("%Y-%m-%d"),
        HEADERS["patient_id"]: [f"37{p:010d}" for p in patients],
        HEADERS["doctor_id"]: [f"D{h:02d}{d}" for h, d in zip(hosp, rng.integers(0, 4, size=m))],
        HEADERS["total_cost"]: [f"{c:.2f}" for c in cost],
        HEADERS["drug_cost"]: [f"{c * 0.3:.2f}" for c in cost],
        HEADERS["consumables_cost"]: [f"{c * 0.2:.2f}" for c in cost],
        HEADERS["service_cost"]: [f"{c * 0.35:.2f}" for c in cost],
        HEADERS["self_pay"]: [f"{c * 0.25:.2f}" for c in cost],
    }
    dx = [list(v) if v is not None else [] for v in picked["dx"]]
    px = [list(v) if v is not None else [] for v in picked["px"]]
    n_sdx = max(1, max(len(d) for d in dx) - 1)  # as many numbered columns as the longest record needs
    n_spx = max(1, max(len(p) for p in px) - 1)
    out[HEADERS["pdx"]] = [d[0] if d else "" for d in dx]
    for k in range(1, n_sdx + 1):
        out[HEADERS["sdx"].format(k)] = [d[k] if len(d) > k else "" for d in dx]
    out[HEADERS["ppx"]] = [p[0] if p else "" for p in px]
    for k in range(1, n_spx + 1):
        out[HEADERS["spx"].format(k)] = [p[k] if len(p) > k else "" for p in px]
    frame = pd.DataFrame(out)
    # A few blank cells, as exports have them (never the case id or the principal diagnosis)
    for col in (HEADERS["total_cost"], HEADERS["dept"], HEADERS["doctor_id"]):
        blank = rng.random(m) < 0.01
        frame.loc[blank, col] = ""
    return frame


def expected(cases: Path, n: int = 2000, seed: int = 7) -> pd.DataFrame:
    """The public records behind `make_export` (same order), with their expected grouping."""
    table = pq.read_table(cases).to_pandas()
    ok = table[table["expected_status"] == "分组成功"]
    other = table[table["expected_status"] != "分组成功"]
    picked = pd.concat([ok.sample(n - n // 20, random_state=seed), other.sample(n // 20, random_state=seed)])
    return picked.sample(frac=1.0, random_state=seed + 1).reset_index(drop=True)


def write_export(frame: pd.DataFrame, folder: Path) -> dict[str, Path]:
    """The export as a GBK CSV and an .xlsx (text cells, as offices' systems write them), and a hospitals file
    with levels but no names (`hospital_id,level`)."""
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "结算清单.csv"
    frame.to_csv(csv, index=False, encoding="gbk")
    xlsx = folder / "结算清单.xlsx"
    frame.to_excel(xlsx, index=False)
    hospitals = folder / "医院.csv"
    pd.DataFrame({"医院编码": [h[0] for h in HOSPITALS], "级别": [h[2] for h in HOSPITALS]}).to_csv(
        hospitals, index=False, encoding="gbk")
    return {"csv": csv, "xlsx": xlsx, "hospitals": hospitals}


if __name__ == "__main__":  # python tests/userexport.py CASES.parquet OUT_DIR
    import sys

    print(write_export(make_export(Path(sys.argv[1])), Path(sys.argv[2])))
