"""`drg serve`: a real uvicorn server on a free port, asked over HTTP as a HIS or the coder's page asks it.

Results are compared with ``group_table`` (what ``drg group`` writes) on the public cases and on random records;
the one-record fast path (``grouper.single``) with the batch path on random records (Hypothesis); malformed requests
must all be 4xx with a message; the page is driven in headless Chromium (type a case, see its DRG)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import CASES, browser

INPUT = ["case_id", "sex", "age_years", "age_days", "weight_g", "dept", "los_days", "leaving_type", "dx", "px"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A `drg serve` application on uvicorn in a thread of this process."""

    def __init__(self, app):
        import uvicorn

        self.port = _free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                break
            time.sleep(0.05)
        assert self.server.started

    def ask(self, method: str, path: str, body=None, headers=None, raw: bytes | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        data = raw if raw is not None else (None if body is None else json.dumps(body, ensure_ascii=False).encode())
        conn.request(method, path, body=data, headers=headers or {"Content-Type": "application/json"})
        r = conn.getresponse()
        payload = r.read()
        conn.close()
        return r.status, payload, dict(r.getheaders())

    def json(self, method: str, path: str, body=None, **kw):
        status, payload, _ = self.ask(method, path, body, **kw)
        return status, json.loads(payload)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def scheme():
    import grouper
    from grouper.scheme import DEFAULT_SCHEME

    return grouper.load_scheme(DEFAULT_SCHEME)


@pytest.fixture(scope="module")
def weights(tmp_path_factory, scheme):
    """Weights for every DRG of the scheme (a deterministic spread), with mean costs."""
    path = tmp_path_factory.mktemp("w") / "weights.csv"
    drgs = sorted({r[4] for r in scheme.result_rows if r[4] and r[4] != "0000" and len(r[4]) == 4})
    lines = ["drg,weight,mean_cost"] + [f"{d},{0.3 + (i * 37 % 300) / 100:.4f},{(0.3 + (i * 37 % 300) / 100) * 11000:.2f}"
                                        for i, d in enumerate(drgs)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def service(scheme, weights):
    from drg.serve.service import Service

    return Service(scheme, weights=weights, point_value=12.5)


@pytest.fixture(scope="module")
def server(service):
    from drg.serve.app import serving_app

    srv = Server(serving_app(service, max_body=2 * 2**20))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def public_records():
    path = CASES / "chs-drg-1.1.parquet"
    if not path.exists():
        pytest.skip(f"public cases not found at {path} (set DRG_SHARED to the shared folder)")
    return pq.read_table(path, columns=INPUT)


def _reference(scheme, table: pa.Table) -> list[dict]:
    from grouper.api import group_table

    return group_table(table, scheme, only_results=True, keep_dictionary=False).to_pylist()


# -- results equal drg group -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_public_cases_one_by_one_and_as_a_batch_equal_drg_group(server, scheme, public_records):
    """3,000 public cases (a spread over the file) posted one at a time and as one batch: every field of every
    result equals group_table's; the weight and estimate are present for grouped cases."""
    table = public_records.take(list(range(0, public_records.num_rows, 20)))
    recs = table.to_pylist()
    want = _reference(scheme, table)
    for rec, ref in zip(recs, want):
        status, got = server.json("POST", "/api/group", rec)
        assert status == 200
        assert {k: got[k] for k in ref} == ref
        if ref["status_code"] == "ok":
            assert got["rw"] is not None and got["payment_estimate"]["fen"] > 0
    status, got = server.json("POST", "/api/group", {"records": recs})
    assert status == 200
    assert [{k: g[k] for k in ref} for g, ref in zip(got["results"], want)] == want


def test_english_results_equal_drg_group_in_english(server, scheme):
    from grouper.api import group_table
    from drg.serve.records import records_table

    rec = {"case_id": "e1", "sex": "女", "年龄": "35岁", "dx": "O80.000|Z37.000", "px": ["73.5900"]}
    ref = group_table(records_table([rec]), scheme, lang="en", only_results=True, keep_dictionary=False).to_pylist()[0]
    status, got = server.json("POST", "/api/group?lang=en", rec)
    assert status == 200 and {k: got[k] for k in ref} == ref


# random records: every kind of value the contract admits, aliases, unknown and mistyped codes
def _records(scheme):
    known_dx = [c for c, k in zip(scheme.codes, scheme.arrays["dx_known"]) if k][::97][:400]
    known_px = [c for c, k in zip(scheme.codes, scheme.arrays["px_known"]) if k][::53][:300]
    codes_dx = st.sampled_from(known_dx) | st.sampled_from(["", " I10.x00", "i10.x00", "ZZZ.999", "I10.x00,E11.900", "Ｉ10.x00"])
    codes_px = st.sampled_from(known_px) | st.sampled_from(["", "99.9999", "36.0600|00.6600"])
    number = (st.none() | st.integers(-5, 200) | st.integers(0, 12000) | st.floats(-10, 1e4, allow_nan=False)
              | st.sampled_from(["70岁", "3.5kg", "12天", "abc", " 45 ", "", "1e2", 2**60, float("nan")]))
    sex = st.none() | st.sampled_from([1, 2, 0, 3, "1", "2", "男", "女", "M", "f", "未知", 1.0, ""])
    text = st.none() | st.sampled_from(["1", "5", "0301", "", "内科", 1, 5, 2.0, "9"])
    lists = lambda codes: st.none() | st.lists(codes, max_size=6) | st.lists(codes, max_size=4).map("|".join)
    return st.fixed_dictionaries(
        {"sex": sex, "dx": lists(codes_dx)},
        optional={"case_id": st.sampled_from(["c1", 7, None]), "age_years": number, "age_days": number, "weight_g": number,
                  "los_days": number, "icu_hours": number, "dept": text, "leaving_type": text, "px": lists(codes_px),
                  "年龄": number})


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_one_record_fast_path_equals_the_batch_path(scheme, data):
    """grouper.single.group_one (dict lookups, or the one-row table) == group_table on the record as a batch."""
    from grouper.columns import ColumnError
    from grouper.single import encode_one, group_one
    from drg.serve.records import records_table

    rec = data.draw(_records(scheme))
    event("fast path" if encode_one(rec, scheme) is not None else "batch path")
    try:
        want = _reference(scheme, records_table([rec]))[0]
    except ColumnError:
        event("refused")
        with pytest.raises(ColumnError):
            group_one(rec, scheme)
        return
    got = group_one(rec, scheme)
    assert {k: got[k] for k in want if k != "case_id"} == {k: v for k, v in want.items() if k != "case_id"}


def test_fast_path_takes_clean_records_and_equals_the_batch(scheme, public_records):
    """Most clean public records take the fast path, and all of them give group_table's result."""
    from grouper.single import encode_one, group_one

    table = public_records.slice(0, 3000)
    recs = table.to_pylist()
    fast = [encode_one(r, scheme) is not None for r in recs]
    assert sum(fast) > 0.8 * len(recs)
    assert [group_one(r, scheme) for r in recs] == _reference(scheme, table)


# -- explain, simulate, codes ----------------------------------------------------------------------------------
def test_explain_gives_the_group_and_the_trace_in_words(server, scheme, public_records):
    rec = next(r for r in public_records.slice(0, 200).to_pylist() if r["px"])
    ref = _reference(scheme, pa.Table.from_pylist([rec], schema=public_records.schema))[0]
    for lang in ("zh", "en"):
        status, got = server.json("POST", f"/api/explain?lang={lang}", rec)
        assert status == 200
        assert got["drg"] == ref["drg"] and got["status_code"] == ref["status_code"]
        assert len(got["trace"]) > 3 and rec["dx"][0] in got["text"]
        assert ("支付估算" in got["text"]) == (lang == "zh")
        # the steps are the trace's rule lines as data: one per line between the prepared codes and the result
        assert len(got["steps"]) == len(got["trace"]) - 3
        held = [st for st in got["steps"] if st["holds"]]
        if got["status_code"] == "ok":
            assert held[-1]["name"] in (got["drg"], got["adrg"]) or held[-1]["name"].startswith(got["adrg"])


def test_weights_without_a_price_give_the_weight_only(scheme, weights):
    from drg.serve.service import Service

    svc = Service(scheme, weights=weights)
    got = svc.group({"sex": 2, "age_years": 30, "dx": ["O80.000"], "px": ["73.5900"]})
    assert "payment_estimate" not in got and (got["rw"] is not None) == (got["status_code"] == "ok")


def test_simulate_groups_every_variant_as_drg_group_would_and_ranks_by_weight(server, scheme, service, public_records):
    """Each variant's result equals grouping the variant's record; the variants are ranked by weight; removing the
    secondary diagnosis that makes a case 'with MCC' is found as a change."""
    recs = [r for r in public_records.slice(0, 3000).to_pylist() if len(r["dx"]) >= 3 and r["px"]][:25]
    assert recs
    moved = 0
    for rec in recs:
        status, sim = server.json("POST", "/api/simulate", {"record": rec, "add_dx": ["J96.000"]})
        assert status == 200
        variants = sim["variants"]
        assert len(variants) == 2 * (len(rec["dx"]) - 1) + 2 * len(rec["px"]) - 1 + ("J96.000" not in rec["dx"])
        table = pa.Table.from_pylist([{**rec, "dx": v["dx"], "px": v["px"]} for v in variants], schema=public_records.schema)
        for v, ref in zip(variants, _reference(scheme, table)):
            assert {k: v[k] for k in ref if k != "case_id"} == {k: x for k, x in ref.items() if k != "case_id"}
            assert v["changed"] == (v["drg"] != sim["record"]["drg"])
        w = [v["rw"] if v["rw"] is not None else -1 for v in variants]
        assert w == sorted(w, reverse=True)
        moved += any(v["changed"] for v in variants)
    assert moved > 0


def test_code_search_by_prefix_and_by_name_equals_a_plain_scan(server, service):
    names = service.words["zh"].dx
    for q in ("I21", "i21.0", "心肌梗死", "肺炎", "ZZZ", "Ｉ２１"):
        status, got = server.json("GET", "/api/codes?kind=dx&limit=100&q=" + q.replace(" ", "%20").encode("utf-8").decode("latin-1")
                                  if q.isascii() else "/api/codes?kind=dx&limit=100&q=" + __import__("urllib.parse").parse.quote(q))
        assert status == 200
        import unicodedata

        nq = unicodedata.normalize("NFKC", q)
        want = sorted([c for c in names if c.upper().startswith(nq.upper())], key=str.upper)
        want += [c for c in sorted(names) if nq in names[c] and c not in want]
        assert [c["code"] for c in got["codes"]] == want[:100], q


# -- refusals: 4xx with a message, never a 5xx or a trace --------------------------------------------------------
def _malformed():
    ok = {"sex": 1, "age_years": 60, "dx": ["I10.x00"]}
    evil = ["'; DROP TABLE cases; --", "<script>alert(1)</script>", "=cmd|' /C calc'!A0", "..\\..\\windows\\system32", "I10\x00x00",
            "{{7*7}}", "${jndi:ldap://x/a}", "I10.x00\nX-Injected: 1", "I10.x00\"", "%s%s%s%n"]
    out = []
    for raw in (b"", b"{", b"[1,2]", b'"text"', b"42", b"null", b"{'sex': 1}", b"\xff\xfe{}", b'{"sex": 1,}', b"[" * 5000 + b"]" * 5000,
                b'{"sex": NaN, "dx": Infinity}', b"{" + b'"a":' * 3000):
        out.append(("POST", "/api/group", raw))
    for key, bad in (("dx", 5), ("dx", {"a": 1}), ("dx", [1, 2]), ("dx", [["I10"]]), ("sex", [1]), ("sex", {"x": 1}), ("sex", True),
                     ("age_years", "x" * 500), ("px", list(range(3))), ("dx", ["I10.x00"] * 500), ("los_days", [1]),
                     ("weight_g", {"g": 1}), ("dept", ["a"]), ("leaving_type", False), ("icu_hours", [None])):
        out.append(("POST", "/api/group", json.dumps({**ok, key: bad}).encode()))
    for key in ("case_id", "sex", "age_years", "age_days", "weight_g", "dept", "los_days", "leaving_type", "icu_hours", "性别", "年龄",
                "total_cost"):
        for bad in ([1], {"v": 1}, True, "长" * 300):
            out.append(("POST", "/api/group", json.dumps({**ok, key: bad}, ensure_ascii=False).encode()))
    for unknown in ("foo", "姓名", "身份证号", "__proto__", "dx ", "", "drg", "status", "1"):
        out.append(("POST", "/api/group", json.dumps({**ok, unknown: 1}, ensure_ascii=False).encode()))
    for e in evil:
        for where in ("dx", "px"):
            out.append(("POST", "/api/group", json.dumps({**ok, where: ["I10.x00", e]}).encode()))
            out.append(("POST", "/api/explain", json.dumps({**ok, where: [e]}).encode()))
        out.append(("POST", "/api/group", json.dumps({**ok, "主要诊断编码": e, "dx": None}, ensure_ascii=False).encode()))
        out.append(("POST", "/api/simulate", json.dumps({"record": ok, "add_dx": [e]}).encode()))
        out.append(("POST", "/api/simulate", json.dumps({"record": {**ok, "px": [e]}}).encode()))
        out.append(("POST", "/api/group", json.dumps({"records": [ok, {**ok, "dx": [e]}]}).encode()))
    for body in ({"records": 5}, {"records": [1, 2]}, {"records": [ok, {"foo": 1}]}, {"records": [ok, []]}, {"records": {"a": ok}},
                 {"records": [{**ok, "dx": 3}]}, {"records": [ok] * 100_001}):
        out.append(("POST", "/api/group", json.dumps(body).encode()))
    for body in ({}, {"record": 5}, {"record": ok, "add_dx": "I10"}, {"record": ok, "add_dx": [1]}, {"record": ok, "add_px": ["x" * 80]},
                 {"record": ok, "add_dx": ["I10.x00"] * 60}, {"record": {"foo": 1}}, {"record": {"sex": 1}}):
        out.append(("POST", "/api/simulate", json.dumps(body).encode()))
    big = json.dumps({**ok, "case_id": "x" * (3 * 2**20)}).encode()
    out += [("POST", "/api/group", big), ("POST", "/api/explain", big), ("POST", "/api/simulate", big)]
    out += [("POST", "/api/group", json.dumps({"sex": 1, "dx": ["I10.x00"]}).encode()),  # no age column
            ("POST", "/api/group", json.dumps({"sex": 1, "age_years": 3, "年龄": 4, "dx": ["I10.x00"]}, ensure_ascii=False).encode()),
            ("POST", "/api/group", json.dumps({"sex": 1, "age_years": 60, "其他诊断编码1": "I10.x00"}, ensure_ascii=False).encode())]
    for path in ("/api/codes?kind=zz&q=I21", "/api/codes?limit=abc&q=I", "/api/group?lang=fr", "/api/codes?lang=xx&q=I",
                 "/api/nothing", "/api/group/extra", "/etc/passwd", "/api/codes?q=" + "I" * 5000):
        out.append(("GET", path, None))
    for path in ("/api/codes", "/api/info", "/", "/docs"):
        out.append(("POST", path, b"{}"))
    for name, content in (("x.exe", b"MZ"), ("", b"a,b"), ("cases.txt", b"a"), ("cases.csv", b"\x00\x01\x02garbage"),
                          ("cases.csv", "性别,年龄\n1,60\n".encode()), ("cases.parquet", b"PAR1notparquet"),
                          ("cases.xlsx", b"PK\x03\x04broken"), ("cases.csv", b"")):
        out.append(("POST", "/api/group-file?filename=" + name, content))
    out.append(("PUT", "/api/group", b"{}"))
    out.append(("DELETE", "/api/group", None))
    return out


def test_two_hundred_malformed_requests_get_a_4xx_with_a_message(server):
    cases = _malformed()
    assert len(cases) >= 200
    statuses = []
    for method, path, raw in cases:
        status, payload, headers = server.ask(method, path, raw=raw, headers={"Content-Type": "application/json"})
        statuses.append(status)
        assert 400 <= status < 500, (method, path, raw[:80] if raw else raw, status, payload[:300])
        body = json.loads(payload)
        assert body["error"] and body["fix"], body
        assert b"Traceback" not in payload and b'File "' not in payload
    assert server.json("GET", "/api/info")[0] == 200  # still serving
    assert {413, 400, 404, 405} <= set(statuses)


def test_refusals_are_in_chinese_by_default_and_english_with_lang_en(server):
    """Every refusal of the malformed set (other than a missing route's) says its problem and fix in Chinese by
    default, as the command line does; with ?lang=en in English."""
    import re

    cjk = re.compile(r"[\u4e00-\u9fff]")
    for method, path, raw in _malformed():
        if "lang=" in path:
            continue
        status, payload, _ = server.ask(method, path, raw=raw, headers={"Content-Type": "application/json"})
        zh = json.loads(payload)
        assert cjk.search(zh["error"] + zh["fix"]), (path, zh)
        sep = "&" if "?" in path else "?"
        status, payload, _ = server.ask(method, path + sep + "lang=en", raw=raw, headers={"Content-Type": "application/json"})
        en = json.loads(payload)
        assert 400 <= status < 500 and en != zh and re.search(r"[A-Za-z]{2,}", en["error"]), (path, en)


def test_an_odd_code_of_code_characters_is_an_unknown_code_not_a_refusal(server):
    """A path-like or lower-case code is made of characters codes have: it groups as drg group groups it, with the
    warning naming the unknown code."""
    status, got = server.json("POST", "/api/group", {"sex": 1, "age_years": 60, "dx": ["I10.x00", "../../etc/passwd"]})
    assert status == 200 and "../../etc/passwd" in got["warnings"]


def test_nothing_of_a_case_reaches_the_log(scheme, capfd):
    """The server's log (uvicorn and ours, default options) holds no field of the records it grouped or refused."""
    from drg.serve.app import serving_app
    from drg.serve.service import Service

    srv = Server(serving_app(Service(scheme)))
    try:
        secret = "SECRETCASE12345"
        srv.json("POST", "/api/group", {"case_id": secret, "sex": 1, "age_years": 60, "dx": ["I10.x00"]})
        srv.json("POST", "/api/group", {"case_id": secret, "foo": secret})
        srv.json("POST", "/api/explain", {"case_id": secret, "sex": 1, "age_years": 60, "dx": ["I10.x00"]})
    finally:
        srv.stop()
    out, err = capfd.readouterr()
    assert secret not in out and secret not in err


def test_a_token_is_required_when_one_is_set(scheme):
    from drg.serve.app import serving_app
    from drg.serve.service import Service

    srv = Server(serving_app(Service(scheme), token="s3cret"))
    try:
        rec = {"sex": 1, "age_years": 60, "dx": ["I10.x00"]}
        assert srv.json("POST", "/api/group", rec)[0] == 401
        assert srv.json("POST", "/api/group", rec, headers={"Authorization": "Bearer wrong"})[0] == 401
        assert srv.json("POST", "/api/group", rec, headers={"Authorization": "Bearer s3cret"})[0] == 200
        assert srv.json("GET", "/api/codes?q=I10", headers={"X-DRG-Token": "s3cret"})[0] == 200
        assert srv.ask("GET", "/")[0] == 200  # the page itself holds no data; its API calls carry the token
    finally:
        srv.stop()


def test_a_worker_process_builds_the_same_application_from_its_environment(monkeypatch, weights, scheme):
    """`drg serve --workers N` hands each uvicorn worker its options in DRG_SERVE_OPTIONS: the application it builds
    groups, prices and checks the token as the one-process server does."""
    from grouper.scheme import DEFAULT_SCHEME
    from drg.serve.app import app_from_environment

    opts = {"scheme": DEFAULT_SCHEME, "weights": weights, "point_value": 12.5, "base_rate": None, "config": None,
            "coefficient": 1.0, "map_codes": False, "token": "t0k", "max_body": 2**20}
    monkeypatch.setenv("DRG_SERVE_OPTIONS", json.dumps(opts))
    srv = Server(app_from_environment())
    try:
        rec = {"sex": 2, "age_years": 30, "dx": ["O80.000"], "px": ["73.5900"]}
        assert srv.json("POST", "/api/group", rec)[0] == 401
        status, got = srv.json("POST", "/api/group", rec, headers={"Authorization": "Bearer t0k"})
        from grouper.single import group_one

        assert status == 200 and {k: got[k] for k in ("drg", "status", "reason")} == {
            k: v for k, v in group_one(rec, scheme).items() if k in ("drg", "status", "reason")}
        assert got["payment_estimate"]["point_value"] == 12.5 and got["payment_estimate"]["fen"] >= 0
    finally:
        srv.stop()


def test_serve_off_loopback_needs_a_token_and_a_taken_port_is_one_line(capsys):
    from drg.cli import main

    assert main(["serve", "--host", "0.0.0.0", "--port", str(_free_port())]) == 2
    assert "--token" in capsys.readouterr().err
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert main(["serve", "--port", str(s.getsockname()[1])]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("drg: error:") and "--port" in err[0]


def test_group_file_returns_what_drg_group_writes(server, tmp_path, public_records, scheme):
    """A GBK CSV with Chinese wide headers (as an office exports it) posted to /api/group-file comes back as the CSV
    drg group writes for it, byte for byte."""
    from drg.batch import group_file

    recs = public_records.slice(0, 300).to_pylist()
    rows = ["病案号,性别,年龄,住院天数,离院方式,主要诊断编码,其他诊断编码1,其他诊断编码2,主要手术操作编码"]
    for r in recs:
        dx = (r["dx"] + ["", "", ""])[:3]
        px = (r["px"] or [""])[0]
        rows.append(",".join([r["case_id"], "男" if r["sex"] == 1 else "女", str(r["age_years"] or ""), str(r["los_days"] or ""),
                              r["leaving_type"] or "", *dx, px]))
    src = tmp_path / "清单.csv"
    src.write_bytes(("\n".join(rows) + "\n").encode("gbk"))
    status, payload, headers = server.ask("POST", "/api/group-file?filename=" + __import__("urllib.parse").parse.quote("清单.csv"),
                                          raw=src.read_bytes(), headers={"Content-Type": "application/octet-stream"})
    assert status == 200, payload[:300]
    group_file(str(src), str(tmp_path / "want.csv"), scheme, quiet=True)
    assert payload == (tmp_path / "want.csv").read_bytes()
    assert "attachment" in headers.get("content-disposition", "")


def test_a_file_over_the_limit_is_refused_while_it_arrives(service):
    """/api/group-file writes the body to disk as it arrives and stops at the limit: 413, nothing grouped."""
    from drg.serve.app import serving_app

    srv = Server(serving_app(service, max_file=10_000))
    try:
        body = ("病案号,性别,年龄,主要诊断编码\n" + "A1,男,60,I10.x00\n" * 2000).encode("utf-8")
        status, payload, _ = srv.ask("POST", "/api/group-file?filename=big.csv", raw=body,
                                     headers={"Content-Type": "application/octet-stream"})
        assert status == 413 and json.loads(payload)["fix"]
        small = ("病案号,性别,年龄,主要诊断编码\n" + "A1,男,60,I10.x00\n" * 5).encode("utf-8")
        status, payload, _ = srv.ask("POST", "/api/group-file?filename=small.csv", raw=small,
                                     headers={"Content-Type": "application/octet-stream"})
        assert status == 200 and payload.count(b"\n") == 6
    finally:
        srv.stop()


def test_the_openapi_page_and_docs_are_served(server):
    status, spec = server.json("GET", "/openapi.json")
    assert status == 200 and set(spec["paths"]) >= {"/api/group", "/api/explain", "/api/simulate", "/api/codes", "/api/group-file"}
    status, page, headers = server.ask("GET", "/docs")
    assert status == 200 and b"/openapi.json" in page
    assert "default-src 'self'" in headers["content-security-policy"]
    assert b"http://" not in page.replace(b"http://127.0.0.1", b"") and b"https://" not in page


# -- the coder's page in a browser -------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_page_groups_a_typed_case_in_a_browser_offline(server, scheme):
    """Type a principal diagnosis by name, pick it from the search, fill the case, press 分组: the DRG the API gives
    is on the page, with the trace and the what-if table; switching to English; no request leaves the machine."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    drv = browser()
    try:
        wait = WebDriverWait(drv, 20)
        drv.get(f"http://127.0.0.1:{server.port}/")
        wait.until(lambda d: "chs-drg-1.1" in d.find_element(By.ID, "scheme").text)
        box = drv.find_element(By.ID, "dx-search")
        box.send_keys("肺炎")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#dx-suggest li .c"))
        first = drv.find_element(By.CSS_SELECTOR, "#dx-suggest li .c").text
        box.send_keys(Keys.ENTER)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#dx-list .chip"))
        assert drv.find_element(By.CSS_SELECTOR, "#dx-list .chip .c").text == first
        drv.find_element(By.ID, "age").send_keys("70")
        drv.find_element(By.ID, "los").send_keys("8")
        drv.find_element(By.ID, "group-btn").click()
        wait.until(lambda d: d.find_element(By.ID, "result-drg").text.strip())
        status, want = server.json("POST", "/api/group", {"sex": 1, "age_years": 70, "los_days": 8, "leaving_type": "1",
                                                         "dx": [first], "px": []})
        assert drv.find_element(By.ID, "result-drg").text == (want["drg"] or want["adrg"])
        assert drv.find_element(By.ID, "result-name").text == want["drg_name"]
        wait.until(lambda d: "MDC" in d.find_element(By.ID, "trace").text)
        status, qc = server.json("POST", "/api/check", {"sex": 1, "age_years": 70, "los_days": 8, "leaving_type": "1",
                                                         "dx": [first], "px": []})
        shown = [li.text for li in drv.find_elements(By.CSS_SELECTOR, "#qc-list li")]
        assert shown == ([f"{'错误' if i['severity'] == 'error' else '警告'} {i['rule_id']} {i['message']}" for i in qc["issues"]]
                         if qc["issues"] else ["未发现问题"]) or all(i["rule_id"] in " ".join(shown) for i in qc["issues"]), shown
        drv.find_element(By.ID, "lang-btn").click()
        assert drv.find_element(By.ID, "group-btn").text == "Group"
        errors = [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
        urls = [json.loads(e["message"])["message"].get("params", {}).get("request", {}).get("url", "")
                for e in drv.get_log("performance")]
        assert all(u.startswith(f"http://127.0.0.1:{server.port}/") or u.startswith(("data:", "blob:")) for u in urls if u), urls
    finally:
        drv.quit()


# -- settlement-list quality control -------------------------------------------------------------------------------
def test_check_one_by_one_and_as_a_batch_equals_drg_check(server, scheme):
    """/api/check on records made by tests/qc_world.py (planted errors of every kind, clean ones): the issues of
    each record, one by one and as one batch, are those `drg check`'s engine finds in the same records."""
    from drg.check.engine import Checker
    from drg.check.rules import load_rules
    from qc_world import World, records

    world = World(scheme, load_rules(), 4)
    frame, _ = records(world, clean=60, per_kind=2)
    recs = [{k: (None if v is None or v != v else v) for k, v in r.items()} for r in frame.astype(object).to_dict("records")]
    want = Checker(scheme, load_rules()).check(pa.Table.from_pylist(recs))[0].to_pylist()
    by_row: dict = {}
    for t in want:
        by_row.setdefault(t.pop("row") - 1, []).append({k: v for k, v in t.items() if k not in ("hospital_id", "dept")})
    status, batch = server.json("POST", "/api/check", {"records": recs})
    assert status == 200 and len(batch["results"]) == len(recs)
    for i, rec in enumerate(recs):
        got = batch["results"][i]["issues"]
        assert got == by_row.get(i, []), (i, rec)
        if not any(x["rule_id"] == "U101" for x in got):  # a duplicate is one only among the batch
            status, one = server.json("POST", "/api/check", rec)
            assert status == 200 and one["issues"] == got
            assert one["errors"] == sum(x["severity"] == "error" for x in got)
    status, en = server.json("POST", "/api/check?lang=en", {"sex": 1, "age_years": 30, "dx": ["N80.000"]})
    assert status == 200 and en["issues"][0]["rule_id"] == "C301" and "females only" in en["issues"][0]["message"]
    status, err = server.json("POST", "/api/check", {"sex": 1, "no_such_field": 1, "dx": ["I10.x00"]})
    assert status == 400 and "no_such_field" in err["error"]
