"""Keep Numba's compiled-kernel cache out of the installed package.

By default Numba writes ``.nbi``/``.nbc`` files into ``grouper/__pycache__`` beside the
source. In an installed package that folder outlives ``pip uninstall``; a later
editable install then finds a stale ``site-packages/grouper/`` (cache files only),
which shadows the real package (``module 'grouper' has no attribute ...``). A
locator placed first in Numba's list sends this package's kernels to
``<cache dir>/numba/`` (``DRG_CACHE_DIR``, else ``~/.cache/drg-toolkit``), keyed by
the source file's full path. ``NUMBA_CACHE_DIR``, when set, still wins.
"""

from __future__ import annotations

import os

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def kernel_cache_dir() -> str:
    from .scheme import cache_dir

    return str(cache_dir() / "numba")


def install() -> None:
    """Register the locator (idempotent); call before any ``@njit(cache=True)`` is decorated."""
    from numba.core import caching, config

    base = getattr(caching, "UserProvidedCacheLocator", None) or getattr(caching, "_UserProvidedCacheLocator", None)
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    if base is None or impl is None or any(getattr(c, "drg_locator", False) for c in impl._locator_classes):
        return

    class PackageCacheLocator(base):
        drg_locator = True

        def __init__(self, py_func, py_file):
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            self._cache_path = os.path.join(kernel_cache_dir(), self.get_suitable_cache_subpath(py_file))

        @classmethod
        def from_function(cls, py_func, py_file):
            if config.CACHE_DIR or not os.path.abspath(py_file).startswith(PACKAGE_DIR + os.sep):
                return None
            return super(base, cls).from_function(py_func, py_file)

    impl._locator_classes.insert(0, PackageCacheLocator)


install()
