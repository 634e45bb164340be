"""Table-driven CHS-DRG grouper: any scheme in the FORMAT.md table format, one Numba kernel.

``group`` and ``group_table`` load on first use (PEP 562): ``import grouper.columns`` (column names, for every
command) does not pay for Numba and the kernel, which only ``drg group`` needs."""

import importlib

from .compile import CompiledScheme
from .explain import explain
from .scheme import SchemeError, load_scheme

__all__ = ["CompiledScheme", "SchemeError", "explain", "group", "group_table", "load_scheme"]


def __getattr__(name: str):
    if name in ("group", "group_table"):
        return getattr(importlib.import_module(".api", __name__), name)
    if name == "dask":  # grouper.dask.group; imports Dask only when called
        return importlib.import_module(".dask", __name__)
    raise AttributeError(f"module 'grouper' has no attribute {name!r}")


def __dir__():
    return sorted(__all__ + ["dask"])
