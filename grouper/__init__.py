"""Table-driven CHS-DRG grouper: any scheme in the FORMAT.md table format, one Numba kernel."""

from . import dask  # noqa: F401  (grouper.dask.group; imports Dask only when called)
from .api import group, group_table
from .compile import CompiledScheme
from .explain import explain
from .scheme import SchemeError, load_scheme

__all__ = ["CompiledScheme", "SchemeError", "explain", "group", "group_table", "load_scheme"]
