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
    """``<cache dir>/numba`` when the cache folder is trusted (:func:`grouper.cache.trusted_cache_dir`), else a
    private temporary folder of this process: Numba's index files are pickles, never loaded from a folder others
    can write."""
    from .cache import private_temporary_dir, trusted_cache_dir

    folder = trusted_cache_dir()
    return str(folder / "numba") if folder is not None else private_temporary_dir()


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


def skip_blas_probe() -> None:
    """Spare a command-line process the 0.25 s import of ``scipy.linalg``: on its first kernel load Numba imports
    ``numba.np.arraymath``, which imports SciPy's BLAS only to learn whether ``np.dot`` can be compiled. The
    grouper's kernels use no linear algebra, so ``drg group`` / ``drg explain`` load that module with the probe
    failing (BLAS-backed functions are then unavailable to Numba in this process; a library user never gets
    this: only the CLI calls it). Does nothing once Numba's array functions or SciPy's linalg are loaded."""
    import sys

    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    sys.modules["scipy.linalg.cython_blas"] = None  # an import of it raises ImportError
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        del sys.modules["scipy.linalg.cython_blas"]
