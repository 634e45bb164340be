"""The one driver of every analysis over a grouped file (:mod:`evaluation.analysis`: passes, plan steps, finish).

:func:`run` feeds each :class:`~evaluation.analysis.Pass` the file's batches: locally, batches read ahead in a thread
and reduced a few at a time on threads (NumPy and Arrow release the GIL inside their loops); with ``dask``, on a Dask
cluster whose workers read and reduce their own parts of the file (about one batch each). One cluster serves all the
passes of a run. Either way the merges see the same results in input order, so a run gives the same bytes locally and
on a cluster. Memory: a batch per reducing thread (their results merged as soon as they are next in order), one read
ahead and one being read, plus what the merges keep."""

from __future__ import annotations

import collections
import contextlib

from evaluation.analysis import Analysis, Pass

from .io import InputError

REDUCE_THREADS: int | None = None  # threads that reduce batches; None: one per core, at most 4


def run(analysis: Analysis, grouped: str, mapping=None, batch_size: int = 1_000_000, dask: str | None = None):
    """The tables ``analysis`` returns after its passes over ``grouped`` (columns renamed by ``mapping``, the
    ``--columns`` file), ``batch_size`` rows at a time, on a Dask cluster with ``dask`` (``local`` or a scheduler's
    address)."""
    if batch_size < 1:
        raise InputError(f"--batch-size {batch_size}: must be a positive number of rows")
    with (_dask_client(grouped, dask) if dask else contextlib.nullcontext()) as client:
        try:
            step = next(analysis)
            while True:
                if client is None:
                    _local_pass(grouped, step, mapping, batch_size)
                else:
                    _dask_pass(client, grouped, step, mapping, batch_size)
                step = analysis.send(None)
        except StopIteration as done:
            return done.value


def _local_pass(grouped: str, step: Pass, mapping, batch_size: int) -> None:
    import concurrent.futures
    import os

    from .batch import prefetch
    from .contract import batches

    threads = REDUCE_THREADS or max(1, min(4, os.cpu_count() or 1))
    threads = min(threads, step.max_threads) if step.max_threads else threads
    offset = 0
    pending: collections.deque = collections.deque()
    with concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="drg-reduce") as pool:
        try:
            for b in prefetch(batches(grouped, step.columns, mapping, batch_size, step.dictionary)):  # read-ahead
                pending.append(pool.submit(step.reduce, b, offset) if step.offsets else pool.submit(step.reduce, b))
                offset += b.num_rows
                del b
                while len(pending) >= threads or (pending and pending[0].done()):
                    step.merge(pending.popleft().result())
            while pending:
                step.merge(pending.popleft().result())
        except BaseException:
            for f in pending:
                f.cancel()
            raise


@contextlib.contextmanager
def _dask_client(grouped: str, address: str):
    """A Dask client for the run (``local``: a LocalCluster on this machine, loopback only), closed at the end."""
    from grouper.dask import require_dask

    from .io import input_files

    require_dask()
    from distributed import Client

    from .cluster import local_cluster

    if input_files(grouped)[0] != "parquet":
        raise InputError(f"{grouped}: --dask reads Parquet only; convert the input or run without --dask")
    cluster = local_cluster() if address == "local" else None
    client = Client(cluster if cluster is not None else address)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _dask_pass(client, grouped: str, step: Pass, mapping, batch_size: int) -> None:
    """One pass with the reduce on the cluster: each worker reads its parts; the results are merged batch by batch in
    input order, as a local run merges them."""
    from distributed import as_completed

    from .cluster import part_starts, reduce_part
    from .contract import YEAR_FROM, dictionary_columns, read_plan
    from .io import input_files, input_schema, parquet_parts

    kind, files = input_files(grouped)
    cols, rename = read_plan(grouped, step.columns, mapping)
    year_source = rename.get(YEAR_FROM)
    read_codes = dictionary_columns(cols, rename, step.dictionary)
    rename = {c: rename.get(c, c) for c in cols}
    parts = parquet_parts(files, batch_size)
    schema = input_schema(kind, files, cols)
    shipped = client.scatter(step.reduce, broadcast=True)  # its tables (hospitals, models) once per worker
    starts = part_starts(parts) if step.offsets else [None] * len(parts)
    futures = [client.submit(reduce_part, f, run_, rename, batch_size, schema, shipped, start, read_codes, year_source,
                             pure=False)
               for (f, run_), start in zip(parts, starts)]
    index = {f.key: i for i, f in enumerate(futures)}
    done, after = {}, 0
    try:
        for fut in as_completed(futures):
            done[index[fut.key]] = fut.result()
            fut.release()
            while after in done:  # merged batch by batch in input order
                for result in done.pop(after):
                    step.merge(result)
                after += 1
    except BaseException:
        client.cancel(futures)
        raise
