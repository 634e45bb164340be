"""`drg demo` (the whole pipeline on a synthetic region) and `drg synth` (the synthetic region itself)."""

from __future__ import annotations

from ..arguments import UsageError, parse_years
from .common import load_scheme, resolve_scheme_path, set_threads


def cmd_demo(a) -> int:
    from ..demo import run_demo

    set_threads(a.threads)
    return run_demo(resolve_scheme_path(a.scheme), a.output, cases=a.cases, seed=a.seed, quiet=a.quiet, lang=a.lang)


def cmd_synth(a) -> int:
    from ..synth import synthesize
    from ..tables import output_folder

    scheme = load_scheme(a.scheme)
    years = parse_years(a.years)
    for name, value, least in (("cases", a.cases, 1), ("batch-size", a.batch_size, 10_000), ("workers", 1 if a.workers is None else a.workers, 1)):
        if value < least:
            raise UsageError(f"--{name} {value}: must be at least {least:,} (a part's games and readmissions are drawn within it)"
                             if least > 1 else f"--{name} {value}: must be a positive number; e.g. --{name} 20000")
    with output_folder(a.output, [], "synth") as out:
        synthesize(scheme, out, region=a.region, years=years, cases=a.cases, seed=a.seed, quiet=a.quiet,
                   part_cases=a.batch_size, workers=a.workers, lang=a.lang)
    return 0
