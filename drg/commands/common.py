"""What the commands share: the scheme a command groups with, loaded once; Numba's threads."""

from __future__ import annotations

import os

from ..arguments import UsageError


def resolve_scheme_path(arg: str | None) -> str:
    """--scheme, else $DRG_SCHEME, else the national CHS-DRG 1.1 shipped with the package."""
    from grouper.scheme import DEFAULT_SCHEME

    return arg or os.environ.get("DRG_SCHEME") or DEFAULT_SCHEME


def load_scheme(arg):
    import grouper
    from grouper.numba_cache import skip_blas_probe

    skip_blas_probe()  # this process runs the grouper's kernels only: no SciPy import (0.25 s)
    return grouper.load_scheme(resolve_scheme_path(arg))


def set_threads(n):
    if n:
        import numba
        if n < 1 or n > numba.config.NUMBA_NUM_THREADS:
            raise UsageError(f"--threads {n}: choose 1..{numba.config.NUMBA_NUM_THREADS} (the cores Numba can use)")
        numba.set_num_threads(n)
