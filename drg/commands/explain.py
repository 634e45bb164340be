"""`drg explain` (one record's grouping in words, with its payment estimate) and `drg scheme check`."""

from __future__ import annotations

import json

from ..arguments import parse_codes, v2_fields
from .common import load_scheme


def cmd_explain(a) -> int:
    import grouper

    from ..explain_words import explain_in_words
    from ..estimate import case_payment_estimate

    scheme = load_scheme(a.scheme)
    rec = {"case_id": "explain", "sex": a.sex, "age_years": a.age, "age_days": a.age_days, "weight_g": a.weight,
           "dept": a.dept, "los_days": a.los, "leaving_type": a.leaving_type, "icu_hours": a.icu_hours,
           "dx": parse_codes(a.dx), "px": parse_codes(a.px), **v2_fields(a)}
    e = grouper.explain(rec, scheme, map_codes=a.map_codes, lang=a.lang)
    text = explain_in_words(e, str(scheme.path), rec["dx"], rec["px"], a.lang)
    print(text if not a.weights else f"{text}\n" + case_payment_estimate(
        e.drg, e.status_code == "ok", weights=a.weights, point_value=a.point_value, base_rate=a.base_rate, cost=a.cost,
        los=a.los, leaving_type=a.leaving_type, coefficient=a.coefficient, config=a.config, lang=a.lang))
    return 0


def cmd_scheme_check(a) -> int:
    import grouper

    scheme = grouper.load_scheme(a.dir, use_cache=False)
    info = scheme.summary()
    if a.json:
        print(json.dumps({**info, "warnings": scheme.warnings}, ensure_ascii=False, indent=2))
        return 0
    print(f"{info['id']} {info['name']}: OK")
    print(f"  MDC {info['mdc']}, ADRG {info['adrg']}, DRG {info['drg']}, steps {info['steps']} "
          f"(ambiguity checkpoints {info['qy_checkpoints']}, enabled {info['qy_enabled']}), split rules {info['split_rules']}")
    print(f"  code lists {info['lists']}, diagnosis codes {info['dx_codes']}, procedure codes {info['px_codes']}, "
          f"dx map {info['dx_map']}, px map {info['px_map']}, reject rules {info['reject_rules']}, prefixes {info['prefixes']}")
    for w in scheme.warnings[:20]:
        print(f"  warning: {w}")
    if len(scheme.warnings) > 20:
        print(f"  ... {len(scheme.warnings) - 20} more warnings (--json lists all)")
    return 0
