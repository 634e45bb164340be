"""An unnamed temporary file that arrays are written to and read back from: what an analysis keeps per case beyond a
fixed amount of memory (a database spills a sort to disk the same way).

The file is made on the first write in the temporary folder (``TMPDIR``) and removed by the operating system when it is
closed or the process ends, a killed run's too. A failure to write it names that folder (``drg: error: /tmp: ...; set
TMPDIR ...``). Reads use ``os.pread`` (no shared file position), so several threads may
read at once.
"""

from __future__ import annotations

import errno
import os
import tempfile

import numpy as np
import pyarrow as pa


class SpillFile:
    """Arrays appended to one temporary file; :meth:`write` returns the reference :meth:`read` takes."""

    def __init__(self, prefix: str = "drg-spill-"):
        self._prefix = prefix
        self._file = None
        self.size = 0  # bytes written

    def write(self, array: np.ndarray) -> tuple:
        """Append ``array`` (a plain NumPy array); returns (offset, dtype, shape)."""
        a = np.ascontiguousarray(array)
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix=self._prefix)
            fd, data, done = self._file.fileno(), memoryview(a.tobytes()), 0
            while done < len(data):
                done += os.pwrite(fd, data[done:], self.size + done)
        except OSError as e:  # a full or unwritable temporary folder: said of the folder (TMPDIR), not of a file
            raise OSError(e.errno, e.strerror, tempfile.gettempdir()) from e
        ref = (self.size, a.dtype.str, a.shape)
        self.size += len(data)
        return ref

    def read(self, ref: tuple) -> np.ndarray:
        """The array written as ``ref`` (read-only)."""
        offset, dtype, shape = ref
        dtype = np.dtype(dtype)
        size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        chunks, got = [], 0
        while got < size:
            b = os.pread(self._file.fileno(), size - got, offset + got)
            if not b:
                raise OSError(errno.EIO, "the spill file ended early", tempfile.gettempdir())
            chunks.append(b)
            got += len(b)
        buf = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return np.frombuffer(buf, dtype=dtype).reshape(shape) if size else np.empty(shape, dtype)

    def write_table(self, table: pa.Table) -> tuple:
        """Append an Arrow table (as an IPC stream: text columns too); returns the reference :meth:`read_table` takes."""
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        return self.write(np.frombuffer(sink.getvalue(), np.uint8))

    def read_table(self, ref: tuple) -> pa.Table:
        """The table written as ``ref``."""
        return pa.ipc.open_stream(pa.py_buffer(self.read(ref))).read_all()

    def close(self) -> None:
        """Remove the file."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self.size = 0
