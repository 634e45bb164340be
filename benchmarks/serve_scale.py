"""`drg serve` under load, against `drg group` on the same records in the same run.

    DRG_SHARED=../shared python benchmarks/serve_scale.py [--workers 1,2] [--seconds 20] [--million]

What it does (the server is the real `drg serve` process, on a free port, default scheme):
1. identity: the 60,000 public cases posted one by one (8 client threads, keep-alive) and as batches of 10,000:
   every result field equal to `drg group`'s output for the file (mismatches printed, 0 expected);
2. latency: wrk (Debian package wrk) with 8 connections posting the public cases in turn for --seconds:
   p50 / p90 / p99 latency and requests/s, per --workers;
3. batch: records/s of POST /api/group {"records": 10,000} and of POST /api/group-file (Parquet and CSV of the 60k),
   beside `drg group` on the same file (process, wall) and group_table in-process;
4. memory: the server's RSS (all its processes) after the 2-second warm-up (about 10,000 requests) and, with
   --million, after 1,000,000.

Targets (issue 36): one case p99 <= 5 ms and >= 5,000 requests/s on 2 cores with 8 clients; batch >= 300k
records/s; RSS flat from 10k to 1M requests.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DRG_SHARED", ROOT.parent / "shared"))
INPUT = ["case_id", "sex", "age_years", "age_days", "weight_g", "dept", "los_days", "leaving_type", "dx", "px"]
LUA = """
local bodies = {}
for line in io.lines(os.getenv("DRG_BODIES")) do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/api/group", {["Content-Type"] = "application/json"}, bodies[i])
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(workers: int):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "drg.cli", "serve", "--port", str(port), "--workers", str(workers), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for _ in range(600):
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                break
        except OSError:
            time.sleep(0.1)
    time.sleep(1.0 + workers)  # every worker loaded
    return proc, port


def rss_mb(pid: int) -> float:
    """RSS of the process and its children (uvicorn's workers), MB."""
    total = 0
    pids = [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    for p in pids:
        try:
            text = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        total += int(re.search(r"VmRSS:\s+(\d+)", text).group(1))
    return total / 1024


def post(conn, path: str, body: bytes):
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, r.read()


def identity(port: int, recs: list, want: list) -> dict:
    """Every case posted alone (8 threads) and in batches: mismatches against drg group's rows."""
    got = [None] * len(recs)

    def run(k):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for i in range(k, len(recs), 8):
            status, payload = post(conn, "/api/group", json.dumps(recs[i], ensure_ascii=False).encode())
            got[i] = json.loads(payload)
        conn.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    one_s = time.perf_counter() - t0
    one_bad = sum({k: g.get(k) for k in w} != w for g, w in zip(got, want))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    batch = []
    for a in range(0, len(recs), 10_000):
        status, payload = post(conn, "/api/group", json.dumps({"records": recs[a:a + 10_000]}, ensure_ascii=False).encode())
        batch += json.loads(payload)["results"]
    batch_bad = sum({k: g.get(k) for k in w} != w for g, w in zip(batch, want)) + abs(len(batch) - len(want))
    return {"one_by_one_mismatches": one_bad, "batch_mismatches": batch_bad, "one_by_one_python_client_s": round(one_s, 1)}


def wrk(port: int, bodies: str, seconds: float, connections: int = 8) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA)
    run = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s", f.name, f"http://127.0.0.1:{port}"],
                         capture_output=True, text=True, env={**os.environ, "DRG_BODIES": bodies})
    os.unlink(f.name)
    out = run.stdout
    if "Requests/sec" not in out:
        raise RuntimeError(f"wrk: {out[-500:]} {run.stderr[-500:]}")

    def ms(label):
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return None if not m else float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]

    m = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests": int(m.group(1)) if m else 0, "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": ms("50%"), "p90_ms": ms("90%"), "p99_ms": ms("99%"), "non_2xx": int(non2xx.group(1)) if non2xx else 0}


def batches(port: int, recs: list, parquet: str, csv: str, file_rows: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    bodies = [json.dumps({"records": recs[a:a + 10_000]}, ensure_ascii=False).encode() for a in range(0, len(recs), 10_000)]
    t0 = time.perf_counter()
    for b in bodies:
        status, _ = post(conn, "/api/group", b)
        assert status == 200
    json_s = time.perf_counter() - t0
    out = {"json_batch_records_per_s": round(len(recs) / json_s)}
    for name, path in (("parquet", parquet), ("csv", csv)):
        data = Path(path).read_bytes()
        best = float("inf")
        for _ in range(3):  # the first also loads the file path's kernels: best of three
            t0 = time.perf_counter()
            conn.request("POST", f"/api/group-file?filename=cases.{name}", body=data, headers={"Content-Type": "application/octet-stream"})
            r = conn.getresponse()
            r.read()
            assert r.status == 200
            best = min(best, time.perf_counter() - t0)
        out[f"file_{name}_records_per_s"] = round(file_rows / best)
    return out


def one_record_in_process(scheme, table) -> dict:
    """One record at a time in this process: grouper.single.group_one vs group_table on a one-row table (what the
    server did before), and the code search of the page (typical prefixes and names)."""
    from grouper.api import group_table
    from grouper.single import group_one
    from drg.serve.codes import CodeIndex
    from drg.explain_words import Words

    recs = table.slice(0, 3000).to_pylist()
    group_one(recs[0], scheme)
    t0 = time.perf_counter()
    for r in recs:
        group_one(r, scheme)
    fast = (time.perf_counter() - t0) / len(recs)
    t0 = time.perf_counter()
    for i in range(300):
        group_table(table.slice(i, 1), scheme)
    one_row = (time.perf_counter() - t0) / 300
    w = Words(str(scheme.path), "zh")
    index = CodeIndex({"dx": w.dx, "px": w.px})
    queries = ["I21", "i10.x", "J18.9", "心肌梗死", "肺炎", "糖尿病", "36.06", "阑尾", "骨折", "Z"] * 20
    t0 = time.perf_counter()
    for q in queries:
        index.search(q, None, 15)
    search = (time.perf_counter() - t0) / len(queries)
    return {"group_one_us": round(fast * 1e6, 1), "group_table_one_row_ms": round(one_row * 1e3, 2),
            "code_search_ms": round(search * 1e3, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--file-copies", type=int, default=10, help="the files posted to /api/group-file hold the public cases this "
                    "many times over (default 10: 600,000 records), as an office's month")
    ap.add_argument("--million", action="store_true", help="also the RSS after 1,000,000 requests (about 3-4 minutes)")
    a = ap.parse_args()
    if not shutil.which("wrk"):
        print("wrk not found: apt-get install wrk", file=sys.stderr)
        return 2
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    import grouper
    from grouper.api import group_table
    from grouper.scheme import DEFAULT_SCHEME

    table = pq.read_table(SHARED / "cases" / "chs-drg-1.1.parquet", columns=INPUT)
    recs = table.to_pylist()
    tmp = Path(tempfile.mkdtemp(prefix="drg-serve-bench-"))
    bodies = tmp / "bodies.jsonl"
    bodies.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n", encoding="utf-8")
    parquet, csv = tmp / "cases.parquet", tmp / "cases.csv"
    big = pa.concat_tables([table] * a.file_copies)
    pq.write_table(big, parquet)
    flat = big.set_column(INPUT.index("dx"), "dx", pa.array(["|".join(x) for x in big.column("dx").to_pylist()]))
    flat = flat.set_column(INPUT.index("px"), "px", pa.array(["|".join(x or []) for x in big.column("px").to_pylist()]))
    pacsv.write_csv(flat, csv)

    scheme = grouper.load_scheme(DEFAULT_SCHEME)
    group_table(table.slice(0, 10), scheme)
    t0 = time.perf_counter()
    want = group_table(table, scheme, only_results=True, keep_dictionary=False).to_pylist()
    inproc = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "drg.cli", "group", str(parquet), "-o", str(tmp / "g.parquet"), "-q"], check=True)
    cli = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "drg.cli", "group", str(csv), "-o", str(tmp / "g.csv"), "-q"], check=True)
    cli_csv = time.perf_counter() - t0
    in_process = one_record_in_process(scheme, table)
    report = {"records": len(recs), "file_records": big.num_rows, **in_process, "drg_group_parquet_records_per_s": round(big.num_rows / cli),
              "drg_group_csv_records_per_s": round(big.num_rows / cli_csv),
              "group_table_records_per_s_in_process": round(len(recs) / inproc), "cores": os.cpu_count()}
    for w in [int(x) for x in a.workers.split(",")]:
        proc, port = start(w)
        try:
            row = {"workers": w, "rss_mb_start": round(rss_mb(proc.pid), 1)}
            if w == int(a.workers.split(",")[0]):
                row.update(identity(port, recs, want))
            warm = wrk(port, str(bodies), 2)
            row["rss_mb_after_warm"], row["warm_requests"] = round(rss_mb(proc.pid), 1), warm["requests"]
            row["one_case"] = wrk(port, str(bodies), a.seconds)
            if a.million:  # one-case requests only, before any batch (a batch's buffers would hide a leak or fake one)
                done = warm["requests"] + row["one_case"]["requests"]
                while done < 1_000_000:
                    done += wrk(port, str(bodies), 30)["requests"]
                row["requests_for_rss"] = done
                row["rss_mb_after_1m"] = round(rss_mb(proc.pid), 1)
            row["batch"] = batches(port, recs, str(parquet), str(csv), big.num_rows)
            report[f"workers_{w}"] = row
        finally:
            proc.terminate()
            proc.wait(10)
    shutil.rmtree(tmp, True)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
