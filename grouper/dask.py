"""The same kernel over a Dask DataFrame or on a Dask cluster (``pip install .[dask]``).

The compiled scheme enters the task graph once (one ``dask.delayed`` key that
every partition task depends on), so a cluster ships it to each worker once,
not per partition. Each partition is grouped by :func:`grouper.group`, the very
function a local run uses. Running files on a cluster (``drg group --dask``) is the
application's: :mod:`drg.cluster`.
"""

from __future__ import annotations


def require_dask():
    try:
        import dask
        import dask.dataframe  # noqa: F401
    except ImportError:  # pragma: no cover
        raise ImportError("Dask is an optional extra: pip install '.[dask]' (or dask[dataframe] distributed)") from None


def _group_partition(part, scheme, map_codes, lang, only_results):
    from .api import group

    return group(part, scheme, map_codes=map_codes, lang=lang, only_results=only_results)


def group(ddf, scheme, *, map_codes: bool = False, lang: str = "zh", only_results: bool = False):
    """Group a dask DataFrame partition by partition; returns a dask DataFrame (lazy).

    Examples
    --------
    >>> import dask.dataframe as dd, grouper, grouper.dask  # doctest: +SKIP
    >>> out = grouper.dask.group(dd.read_parquet("cases/"), grouper.load_scheme("schemes/chs-drg-1.1"))  # doctest: +SKIP
    >>> out.compute()  # doctest: +SKIP
    """
    require_dask()
    import dask

    from .scheme import load_scheme

    if isinstance(scheme, (str, bytes)) or hasattr(scheme, "__fspath__"):
        scheme = load_scheme(scheme)
    meta_in = ddf._meta
    meta = _group_partition(meta_in, scheme, map_codes, lang, only_results)
    shipped = dask.delayed(scheme, pure=True, name=f"drg-scheme-{scheme.digest[:16]}")
    return ddf.map_partitions(_group_partition, shipped, map_codes, lang, only_results, meta=meta)
