"""The HTTP side of `drg serve`: a Starlette application on uvicorn.

JSON is read and written by orjson (the records of a 10,000-record batch parse in a fifth of the time of the standard
library's, and results are written ten times faster). Starlette was chosen by measurement (benchmarks/serve_scale.py's note): a JSON echo endpoint on one uvicorn worker
answered 17,100 requests/s (p99 1.0 ms) against FastAPI's 6,900 (p99 2.7 ms) on 2 cores with 8 clients; the request
checks live in :mod:`drg.serve.records` either way, with messages that say what to send instead.

Every answer is JSON (or the page, or a grouped file); a request the server will not take is a 4xx
``{"error", "fix"}``; nothing a request carries is logged (uvicorn's access log is off unless ``--log-requests``).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import shutil
import tempfile
from importlib import resources

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from .records import RequestError

MAX_BODY = 8 * 2**20  # JSON requests
MAX_FILE = 512 * 2**20  # files posted to /api/group-file
FILE_KINDS = (".csv", ".xlsx", ".parquet")
log = logging.getLogger("drg.serve")
_ENGLISH = re.compile(r"[A-Za-z]{3,}")


def _json(obj, status: int = 200) -> Response:
    return Response(orjson.dumps(obj), status, media_type="application/json")


def _error(status: int, error: str, fix: str, lang: str = "zh") -> Response:
    """``{"error", "fix"}`` in ``lang``: Chinese by default (drg.messages_zh, as the command line's refusals)."""
    if lang == "zh":
        from ..messages_zh import translate

        zh_error, zh_fix = translate(error), translate(fix)
        whole = translate(f"{error}; {fix}")  # a refusal of the engine is one "problem; fix" message
        if "; " in whole and len(_ENGLISH.findall(whole)) < len(_ENGLISH.findall(zh_error + " " + zh_fix)):
            zh_error, _, zh_fix = whole.partition("; ")
        error, fix = zh_error, zh_fix
    return _json({"error": error, "fix": fix}, status)


def _error_lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "zh"


async def _chunks(request: Request, limit: int):
    """The body's chunks as they arrive; 413 when the declared or the received size passes ``limit``."""
    size = request.headers.get("content-length")
    if size is not None and (not size.isdigit() or int(size) > limit):
        raise RequestError(f"the request body is {size} bytes", f"send at most {limit:,} bytes", 413)
    n = 0
    async for chunk in request.stream():
        n += len(chunk)
        if n > limit:
            raise RequestError(f"the request body is over {limit:,} bytes", f"send at most {limit:,} bytes", 413)
        yield chunk


async def _body(request: Request, limit: int) -> bytes:
    return b"".join([chunk async for chunk in _chunks(request, limit)])


async def _body_to_file(request: Request, path: str, limit: int) -> None:
    """The body written to ``path`` as it arrives (memory: one network chunk, whatever the file's size)."""
    with open(path, "wb") as f:
        async for chunk in _chunks(request, limit):
            f.write(chunk)


async def _json_body(request: Request):
    raw = await _body(request, request.app.state.max_body)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise RequestError(f"malformed JSON: {e.msg} (line {e.lineno}, column {e.colno})",
                           'send one JSON object (UTF-8, no NaN), e.g. {"sex": 1, "age_years": 60, "dx": ["I21.000"]}') from None
    if not isinstance(body, dict):
        raise RequestError(f"the body is a JSON {type(body).__name__}, not an object", 'send {"sex": ..., "dx": [...]} or {"records": [...]}')
    return body


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang", "zh")
    if lang not in ("zh", "en"):
        raise RequestError(f"lang={lang[:20]!r}", "lang is zh (default) or en")
    return lang


def endpoint(fn):
    """Token check, the service's errors as 4xx JSON, anything unexpected as a 500 without a trace or data."""
    async def run(request: Request) -> Response:
        token = request.app.state.token
        if token:
            given = request.headers.get("x-drg-token") or request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), token.encode()):
                return _error(401, "missing or wrong token", "send the token drg serve was started with: header Authorization: Bearer TOKEN",
                              _error_lang(request))
        try:
            return await fn(request)
        except RequestError as e:
            return _error(e.status, e.error, e.fix, _error_lang(request))
        except Exception as e:  # a bug: say so without the record or the trace
            log.error("internal error in %s: %s", request.url.path, type(e).__name__)
            return _error(500, "internal error", "this is a bug in drg serve; please report it with the request that caused it",
                          _error_lang(request))
    run.__name__ = fn.__name__
    return run


@endpoint
async def api_group(request: Request) -> Response:
    body, lang = await _json_body(request), _lang(request)
    svc = request.app.state.service
    if "records" in body and len(body) == 1:
        big = isinstance(body["records"], list) and len(body["records"]) > 64  # off the event loop
        return _json({"results": await run_in_threadpool(svc.group_many, body, lang) if big else svc.group_many(body, lang)})
    return _json(svc.group(body, lang))


@endpoint
async def api_explain(request: Request) -> Response:
    body, lang = await _json_body(request), _lang(request)
    return _json(request.app.state.service.explain(body, lang))


@endpoint
async def api_simulate(request: Request) -> Response:
    body, lang = await _json_body(request), _lang(request)
    return _json(await run_in_threadpool(request.app.state.service.simulate, body, lang))


@endpoint
async def api_check(request: Request) -> Response:
    body, lang = await _json_body(request), _lang(request)
    svc = request.app.state.service
    big = "records" in body and isinstance(body["records"], list) and len(body["records"]) > 64  # off the event loop
    return _json(await run_in_threadpool(svc.check, body, lang) if big else svc.check(body, lang))


@endpoint
async def api_codes(request: Request) -> Response:
    q = request.query_params
    _lang(request)  # checked: the names are the scheme's (Chinese) in either language
    try:
        limit = int(q.get("limit", "20"))
    except ValueError:
        raise RequestError("limit is not a number", "limit is a whole number from 1 to 100") from None
    return _json({"codes": request.app.state.service.search(q.get("q", ""), q.get("kind"), limit)})


@endpoint
async def api_info(request: Request) -> Response:
    return _json(request.app.state.service.info())


@endpoint
async def api_group_file(request: Request) -> Response:
    """A CSV, XLSX or Parquet file in the body (``?filename=`` names its kind): the grouped file back, as `drg group`
    writes it."""
    name = os.path.basename(request.query_params.get("filename", ""))
    ext = next((k for k in FILE_KINDS if name.lower().endswith(k)), "")  # ".csv" alone is a CSV too
    if not ext:
        raise RequestError(f"filename={name[:60]!r}", "name the file's kind: ?filename=cases.csv, .xlsx or .parquet")
    lang = _lang(request)
    folder = tempfile.mkdtemp(prefix="drg-serve-")  # 0700, this process's user only
    try:
        src, dst = os.path.join(folder, "input" + ext), os.path.join(folder, "grouped" + ext)
        await _body_to_file(request, src, request.app.state.max_file)
        await run_in_threadpool(_group_file, request.app.state.service, src, dst, lang, name)
    except BaseException:
        shutil.rmtree(folder, True)
        raise
    stem = name[:-len(ext)] or "cases"
    from starlette.background import BackgroundTask

    return FileResponse(dst, filename=f"{stem}_分组结果{ext}" if lang == "zh" else f"{stem}_grouped{ext}",
                        background=BackgroundTask(shutil.rmtree, folder, True))


def _group_file(svc, src: str, dst: str, lang: str, name: str) -> None:
    from grouper.columns import ColumnError

    from ..batch import group_file
    from ..io import InputError

    try:
        group_file(src, dst, svc.scheme, map_codes=svc.map_codes, lang=lang, quiet=True)
    except (InputError, ColumnError) as e:
        text = str(e).replace(src, name)  # the user's name for the file, not the server's temporary path
        head, _, fix = text.partition(";")
        raise RequestError(head.strip(), fix.strip() or "check the file's columns (README 'Input columns')") from None


def _static(name: str) -> str:
    return resources.files("drg.serve").joinpath(name).read_text(encoding="utf-8")


# the page loads nothing but this server's own addresses, and no other site may frame it
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
}


async def page(request: Request) -> Response:
    return HTMLResponse(request.app.state.page, headers=PAGE_HEADERS)


async def docs(request: Request) -> Response:
    return HTMLResponse(request.app.state.docs, headers=PAGE_HEADERS)


async def font(request: Request) -> Response:
    """The packaged Chinese font (Noto Sans CJK, GB2312 glyphs; OFL): the page reads Chinese on a machine without a
    Chinese font, and nothing is fetched from the internet."""
    path = resources.files("drg").joinpath("data/fonts/cjk-sans-gb2312.woff")
    return FileResponse(str(path), media_type="font/woff", headers={"Cache-Control": "public, max-age=86400"})


async def openapi(request: Request) -> Response:
    from .openapi import spec

    return _json(spec(request.app.state.service.chars))


async def _http_error(request: Request, exc: HTTPException) -> Response:
    fix = {404: "see GET /openapi.json for the endpoints", 405: "see GET /openapi.json for each endpoint's method"}
    out = _error(exc.status_code, exc.detail or "error", fix.get(exc.status_code, "see GET /openapi.json"), _error_lang(request))
    for k, v in (exc.headers or {}).items():  # 405's Allow (RFC 9110)
        out.headers[k] = v
    return out


class OneRecordFastPath:
    """POST /api/group with one record, straight on ASGI: the coder's hot path skips Starlette's request object,
    router and middleware (measured: a third of a one-record request's time). Whatever is not a plain success -- a
    token to check, a query, a batch, any refusal -- is replayed, body and all, into the application, which answers
    it as it answers every request."""

    def __init__(self, app: Starlette):
        self.app = app

    async def __call__(self, scope, receive, send):
        state = self.app.state
        if (scope["type"] != "http" or scope["path"] != "/api/group" or scope["method"] != "POST" or scope["query_string"]
                or state.token):
            return await self.app(scope, receive, send)
        chunks, size, more = [], 0, True
        while more:
            msg = await receive()
            if msg["type"] != "http.request":
                return
            chunks.append(msg.get("body", b""))
            size += len(chunks[-1])
            more = msg.get("more_body", False)
            if size > state.max_body:
                break
        body = b"".join(chunks)
        out = None
        if not more and size <= state.max_body:
            try:
                rec = orjson.loads(body)
                if type(rec) is dict and "records" not in rec:
                    out = orjson.dumps(state.service.group(rec))
            except Exception:  # the application says what is wrong
                out = None
        if out is None:
            replayed = False

            async def replay():
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": more}
                return await receive()
            return await self.app(scope, replay, send)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]})
        await send({"type": "http.response.body", "body": out})


def create_app(service, *, token: str | None = None, max_body: int = MAX_BODY, max_file: int = MAX_FILE) -> Starlette:
    """The application serving ``service`` (a :class:`drg.serve.service.Service`)."""
    routes = [
        Route("/", page), Route("/docs", docs), Route("/openapi.json", openapi), Route("/font.woff", font),
        Route("/api/info", api_info), Route("/api/codes", api_codes),
        Route("/api/group", api_group, methods=["POST"]), Route("/api/explain", api_explain, methods=["POST"]),
        Route("/api/simulate", api_simulate, methods=["POST"]), Route("/api/check", api_check, methods=["POST"]), Route("/api/group-file", api_group_file, methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.service, app.state.token = service, token
    app.state.max_body, app.state.max_file = max_body, max_file
    app.state.page, app.state.docs = _static("page.html"), _static("docs.html")
    return app


def serving_app(service, **options):
    """:func:`create_app` behind :class:`OneRecordFastPath`: what `drg serve` runs."""
    return OneRecordFastPath(create_app(service, **options))


def app_from_environment():
    """The application of a uvicorn worker process (``--workers N``): options from ``DRG_SERVE_OPTIONS``."""
    import grouper

    opts = json.loads(os.environ["DRG_SERVE_OPTIONS"])
    from .service import Service

    scheme = grouper.load_scheme(opts.pop("scheme"))
    token, max_body = opts.pop("token"), opts.pop("max_body")
    app = serving_app(Service(scheme, **opts), token=token, max_body=max_body)
    import gc

    gc.freeze()  # as drg.serve.command
    return app
