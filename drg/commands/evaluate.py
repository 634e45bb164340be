"""`drg evaluate`: hospitals, disciplines, departments and doctors on quality, efficiency and cost."""

from __future__ import annotations

from ..arguments import parse_years


def cmd_evaluate(a) -> int:
    from ..analyses import evaluate_to

    tables = evaluate_to(a.grouped, a.output, hospitals=a.hospitals, weights=a.weights, risk_levels_csv=a.risk_levels,
                         hospital_ids=a.hospital.split(",") if a.hospital else None, lang=a.lang, by=a.by, peer=a.peer,
                         years=parse_years(a.years) if a.years else None, levels=a.level.split(",") if a.level else None,
                         overdispersion=a.overdispersion, min_cases_risk=a.min_cases_risk, leave_one_out=a.leave_one_out,
                         risk_model=a.risk_model, columns=a.columns, period=a.period, batch_size=a.batch_size, dask=a.dask)
    from ..text import print_evaluation

    print_evaluation(a, tables)
    return 0
