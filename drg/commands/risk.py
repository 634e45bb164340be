"""`drg risk`: patient-level risk models."""

from __future__ import annotations

from ..arguments import UsageError, parse_outcomes
from .common import resolve_scheme_path


def cmd_risk(a) -> int:
    from ..risk import risk_summary, risk_to

    if a.folds < 2 or a.folds > 20:
        raise UsageError(f"--folds {a.folds}: choose 2..20 (cross-fitting needs at least two folds)")
    if a.sample < 1000 or a.batch_size < 1:
        raise UsageError("--sample must be at least 1,000 cases and --batch-size a positive number of rows")
    tables = risk_to(a.grouped, a.output, outcomes=parse_outcomes(a.outcomes), hospitals=a.hospitals, columns=a.columns,
                     scheme_path=resolve_scheme_path(a.scheme), folds=a.folds, folds_by=a.folds_by, sample=a.sample,
                     seed=a.seed, overdispersion=a.overdispersion, peer=a.peer, batch_size=a.batch_size, lang=a.lang, dask=a.dask)
    print(risk_summary(tables, a.output, a.lang))
    return 0
