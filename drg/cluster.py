"""`drg group --dask`: files grouped on a Dask cluster (``pip install .[dask]``), each worker reading
its own parts of the input and grouping them with the local code path, the driver writing the output
in input order (byte-identical to a local run)."""

from __future__ import annotations

import time

from grouper.dask import require_dask


def _group_part(f, run, scheme, map_codes, lang, only_results, batch_size, columns, schema=None):
    """On a worker: read one part of the input, group it batch by batch exactly as a local run
    does, and return the output tables with their tally."""
    from grouper.api import group_table

    from .batch import Tally
    from .io import DICTIONARY_COLUMNS, read_parquet_part

    tables, tally = [], Tally()
    for batch in read_parquet_part(f, run, batch_size, columns, DICTIONARY_COLUMNS, schema):
        out, enc = group_table(batch, scheme, map_codes=map_codes, lang=lang, only_results=only_results, return_encoded=True)
        tally.add(batch.num_rows, out, enc, scheme, map_codes)
        tables.append(out)
    return tables, tally


def local_cluster(n_workers: int = 2):
    """A LocalCluster for ``--dask local``: scheduler, workers and dashboard on loopback only
    (nobody else on the network can reach it or submit work to it)."""
    require_dask()
    from distributed import LocalCluster

    return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address="127.0.0.1:0")


def group_file_dask(input_spec: str, output: str, scheme, *, address: str = "local", map_codes: bool = False,
                    only_results: bool = False, lang: str = "zh", batch_size: int = 1_000_000, quiet: bool = False,
                    csv_guard: bool = True, encoding: str = "utf-8-sig") -> dict:
    """`drg group --dask`: group Parquet input on a Dask cluster into one output written atomically.

    The input is cut into parts of about one batch (runs of row groups); each worker
    reads its parts itself (the paths must be readable on the workers) and groups them
    with the local code path, so the output is byte-identical to a local run. The
    compiled scheme is scattered to the workers once. At most two parts per worker
    are in flight, and the driver writes finished parts in input order."""
    require_dask()
    from distributed import Client

    from grouper.decode import RESULT_COLUMNS

    from .batch import Progress, check_outputs, finish, grouping_columns
    from .io import (
        AtomicWriter,
        InputError,
        count_rows,
        input_files,
        input_schema,
        parquet_parts,
    )

    start = time.perf_counter()
    kind, files = input_files(input_spec)
    if kind != "parquet":
        raise InputError(f"{input_spec}: --dask reads Parquet only; convert the input or run without --dask")
    check_outputs(files, output)
    parts = parquet_parts(files, batch_size)
    columns = grouping_columns(input_spec) if only_results else None
    schema = input_schema(kind, files, columns)  # files that differ in column order or width
    cluster = None
    if address == "local":
        cluster = local_cluster()
        client = Client(cluster)
    else:
        client = Client(address)
    try:
        shipped = client.scatter(scheme, broadcast=True)  # once per worker, not per part
        progress = Progress(count_rows(kind, files), quiet, lang=lang)
        from .contract import numeric_headers
        from .io import input_columns, output_kind

        from .batch import result_headers

        writer = AtomicWriter(output, no_statistics=RESULT_COLUMNS, csv_guard=csv_guard, encoding=encoding,
                              headers=result_headers(input_spec, lang),
                              numeric=numeric_headers(input_columns(input_spec)) if output_kind(output) == "excel" else ())
        try:
            tally = _write_in_order(client, parts, writer, progress,
                                    (shipped, map_codes, lang, only_results, batch_size, columns, schema))
            summary = tally.summary(input_spec, output, scheme, map_codes, only_results, time.perf_counter() - start,
                                    dask=address)
            finish(writer, output, summary)
        except BaseException:
            writer.abort()
            raise
        finally:
            progress.close()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return summary


def _write_in_order(client, parts, writer, progress, task_args):
    """Keep two parts per worker in flight; write each finished part in input order (the output order
    is the input order); return the merged tally."""
    import collections

    from .batch import Tally

    window = 2 * max(1, len(client.scheduler_info().get("workers", {})))
    todo = iter(parts)
    pending: collections.deque = collections.deque()

    def submit_next():
        part = next(todo, None)
        if part is not None:
            pending.append(client.submit(_group_part, part[0], part[1], *task_args, pure=False))

    for _ in range(window):
        submit_next()
    tally = Tally()
    while pending:
        fut = pending.popleft()
        tables, part_tally = fut.result()
        fut.release()
        submit_next()
        for t in tables:
            writer.write(t)
        tally.merge(part_tally)
        progress.update(part_tally.rows_in)
    return tally


def reduce_part(f, run, rename, batch_size, schema, reduce_batch, offset, dictionary, year_source=None):
    """On a worker: ``reduce_batch`` of each batch of one part of the input, read exactly as a local run reads it
    (with ``offset``, the part's first row in the input: ``reduce_batch(batch, its first row)``)."""
    from .contract import add_year
    from .io import read_parquet_part

    out = []
    for t in read_parquet_part(f, run, batch_size, list(rename), dictionary, schema):
        t = add_year(t.rename_columns([rename.get(c, c) for c in t.column_names]), year_source)
        out.append(reduce_batch(t) if offset is None else reduce_batch(t, offset))
        offset = None if offset is None else offset + t.num_rows
    return out


def part_starts(parts) -> list:
    """Each part's first row in the input (from the files' row-group sizes)."""
    from .io import open_parquet

    starts, at, meta = [], 0, {}
    for f, run in parts:
        starts.append(at)
        m = meta.setdefault(f, open_parquet(f).metadata)
        at += sum(m.row_group(i).num_rows for i in run)
    return starts
