"""`drg pay`: DRG payment settled to the fen."""

from __future__ import annotations

from ..arguments import parse_budgets, parse_scenario


def cmd_pay(a) -> int:
    from ..analyses import pay_to
    from ..settlement import payment_config

    budgets = parse_budgets(a.budget)
    cfg = payment_config(a.config, a.method, a.rate_basis)
    variants = dict(parse_scenario(t, cfg) for t in (a.scenario or []))
    tables, counts = pay_to(a.grouped, a.output, budgets, cfg, hospitals=a.hospitals, weights=a.weights,
                            special_review=a.special_review, quality_factors=a.quality_factors, variants=variants,
                            lang=a.lang, columns=a.columns, batch_size=a.batch_size, dask=a.dask)
    from ..text import print_settlement

    print_settlement(a, cfg, tables, counts)
    return 0
