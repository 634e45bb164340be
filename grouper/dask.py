"""The same kernel over a Dask DataFrame or on a Dask cluster (``pip install .[dask]``).

The compiled scheme enters the task graph once (one ``dask.delayed`` key that
every partition task depends on), so a cluster ships it to each worker once,
not per partition. Each partition is grouped by :func:`grouper.group`, the very
function a local run uses.
"""

from __future__ import annotations

import time


def _require():
    try:
        import dask  # noqa: F401
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
    _require()
    import dask

    from .scheme import load_scheme

    if isinstance(scheme, (str, bytes)) or hasattr(scheme, "__fspath__"):
        scheme = load_scheme(scheme)
    meta_in = ddf._meta
    meta = _group_partition(meta_in, scheme, map_codes, lang, only_results)
    shipped = dask.delayed(scheme, pure=True, name=f"drg-scheme-{scheme.digest[:16]}")
    return ddf.map_partitions(_group_partition, shipped, map_codes, lang, only_results, meta=meta)


def group_file_dask(input_spec: str, output: str, scheme, *, address: str = "local", map_codes: bool = False,
                    only_results: bool = False, lang: str = "zh", batch_size: int = 1_000_000, quiet: bool = False) -> dict:
    """`drg group --dask`: read Parquet with Dask, group on the cluster, write one output atomically,
    partition by partition in input order."""
    _require()
    import collections

    import dask.dataframe as dd
    import pyarrow as pa
    from distributed import Client, LocalCluster

    from drg.batch import Progress
    from drg.io import AtomicWriter, input_files, write_json_atomic
    from .decode import RESULT_COLUMNS

    start = time.perf_counter()
    kind, files = input_files(input_spec)
    if kind != "parquet":
        from drg.io import InputError

        raise InputError(f"{input_spec}: --dask reads Parquet only; convert the input or run without --dask")
    cluster = None
    if address == "local":
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
    else:
        client = Client(address)
    try:
        ddf = dd.read_parquet(files, split_row_groups=True)
        out = group(ddf, scheme, map_codes=map_codes, lang=lang, only_results=only_results)
        parts = out.to_delayed()
        futures = client.compute(parts)
        progress = Progress(None, quiet)
        writer = AtomicWriter(output, no_statistics=RESULT_COLUMNS)
        counts: collections.Counter = collections.Counter()
        rows = 0
        try:
            for fut in futures:  # in partition order: the output order is the input order
                df = fut.result()
                fut.release()
                counts.update(df["status"].astype(str).value_counts().to_dict())
                rows += len(df)
                writer.write(pa.Table.from_pandas(df, preserve_index=False))
                progress.update(len(df))
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        progress.close()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    seconds = time.perf_counter() - start
    summary = {"input": input_spec, "output": output, "scheme": {"id": scheme.id, "digest": scheme.digest},
               "dask": address, "rows_in": rows, "rows_out": rows, "status_counts": dict(counts.most_common()),
               "top_unknown_dx": [], "top_unknown_px": [], "seconds": round(seconds, 3),
               "rows_per_second": round(rows / seconds) if seconds else None}
    write_json_atomic(output + ".summary.json", summary)
    return summary
