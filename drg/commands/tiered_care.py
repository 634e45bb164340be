"""`drg tiered-care`: tiered-care (分级诊疗) indicators."""

from __future__ import annotations


def cmd_tiered_care(a) -> int:
    from ..analyses import tiered_care_to
    from ..text import tiered_care_summary

    tables = tiered_care_to(a.grouped, a.output, hospitals=a.hospitals, targets=a.targets, basic_care=a.basic_care,
                            lang=a.lang, columns=a.columns, dask=a.dask, batch_size=a.batch_size)
    print(tiered_care_summary(tables, a.lang, a.output))
    return 0
