"""`drg support`: counterpart support (对口支援) evaluated by difference in differences."""

from __future__ import annotations

import math

from ..terminal import clean
from ..text import say


def cmd_support(a) -> int:
    from ..analyses import support_to

    tables = support_to(a.grouped, a.output, pairs=a.pairs, hospitals=a.hospitals, start=a.start, grades=a.procedure_grades,
                        control_group=a.control_group.replace("-", "_"), lang=a.lang, columns=a.columns, dask=a.dask,
                        batch_size=a.batch_size)
    from evaluation.words import VALUE_LABELS

    def word(column, v):  # a coded value in the console's language
        return VALUE_LABELS.get(column, {}).get(v, v) if a.lang == "zh" else str(v).replace("_", " ")

    did = tables["support_did"]
    for r in did[did["indicator"] == "cmi"].itertuples():
        program = clean(word("program", r.program), 60)
        if r.status != "ok":
            print(say(a.lang, "support_none", program=program, status=word("status", r.status), n=r.treated_hospitals,
                      m=r.control_hospitals))
            continue
        pre = f"{r.pretrend_p:.2f}" if not math.isnan(r.pretrend_p) else "-"
        print(say(a.lang, "support_did", program=program, did=r.did, lo=r.ci_low, hi=r.ci_high,
                  n=r.treated_hospitals, m=r.control_hospitals) + say(a.lang, "support_pre", cohorts=r.cohorts, p=pre))
    print(say(a.lang, "support_done", output=a.output))
    return 0
