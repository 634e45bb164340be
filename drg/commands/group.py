"""`drg group`: group discharge records with a scheme (streamed, or on a Dask cluster)."""

from __future__ import annotations

import sys

from ..arguments import UsageError
from ..terminal import clean
from ..text import say
from .common import load_scheme, set_threads


def cmd_group(a) -> int:
    from ..batch import group_file

    set_threads(a.threads)
    if a.batch_size < 1:
        raise UsageError(f"--batch-size {a.batch_size}: must be a positive number of rows")
    scheme = load_scheme(a.scheme)
    if a.dask and (a.check or a.rules):
        raise UsageError("--check runs on this machine; run without --dask (or check with drg check)")
    if a.dask:
        from ..cluster import group_file_dask

        summary = group_file_dask(a.input, a.output, scheme, address=a.dask, map_codes=a.map_codes,
                                  only_results=a.only_results, lang=a.lang, batch_size=a.batch_size, quiet=a.quiet,
                                  csv_guard=not a.csv_raw, encoding=a.encoding)
    else:
        summary = group_file(a.input, a.output, scheme, map_codes=a.map_codes, only_results=a.only_results,
                             lang=a.lang, batch_size=a.batch_size, quiet=a.quiet, csv_guard=not a.csv_raw,
                             encoding=a.encoding, check=a.check or bool(a.rules), rules=a.rules)
    if not a.quiet:
        counts = ", ".join(f"{k} {v:,}" for k, v in summary["status_counts"].items())
        print(clean(say(a.lang, "group_done", rows=summary["rows_in"], output=a.output, seconds=summary["seconds"],
                        rps=summary["rows_per_second"] or 0, counts=counts)), file=sys.stderr)
        if summary["top_unknown_dx"]:
            top = ", ".join(f"{clean(c, 40) if c else '(empty)'}×{n}" for c, n in summary["top_unknown_dx"][:5])
            print(say(a.lang, "group_unknown", top=top), file=sys.stderr)
    return 0
