"""`drg serve`: load the scheme once, say where the service listens, run uvicorn until Ctrl-C."""

from __future__ import annotations

import gc
import ipaddress
import json
import os
import sys

LOOPBACK_NAMES = ("localhost",)


def _loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port_free(host: str, port: int) -> None:
    """One line now, instead of uvicorn's log after the scheme has loaded, when the address cannot be listened on."""
    import socket

    from ..arguments import UsageError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise UsageError(f"--host {host} --port {port}: cannot listen there ({e.strerror}); "
                             "choose another --port, or stop what listens on it") from None


def serve(a) -> int:
    import uvicorn

    import grouper

    from ..arguments import UsageError
    from grouper.scheme import DEFAULT_SCHEME
    from .app import MAX_FILE, serving_app
    from .service import Service

    zh = a.lang == "zh"
    if not _loopback(a.host) and not a.token:
        raise UsageError(f"--host {a.host} lets other machines in; give --token SECRET (every request must carry it) "
                         "or listen on 127.0.0.1")
    if (a.point_value is not None or a.base_rate is not None) and not a.weights:
        raise UsageError("--point-value/--base-rate price cases by weight; give --weights weights.csv too")
    if a.point_value is not None and a.base_rate is not None:
        raise UsageError("give one of --point-value (points method) or --base-rate (rate method), not both")
    _port_free(a.host, a.port)
    scheme_path = a.scheme or os.environ.get("DRG_SCHEME") or DEFAULT_SCHEME  # as every command
    opts = {"weights": a.weights, "point_value": a.point_value, "base_rate": a.base_rate, "config": a.config,
            "coefficient": a.coefficient, "map_codes": a.map_codes, "rules": a.rules}
    max_body = int(a.max_body_mb * 2**20)
    scheme = grouper.load_scheme(scheme_path)
    service = Service(scheme, **opts)  # a bad weights file or option stops here, before the port is taken
    gc.freeze()  # the scheme's millions of objects out of the collector's sight: a big batch no longer pays to walk them
    url = f"http://{a.host if ':' not in a.host else '[' + a.host + ']'}:{a.port}/"
    info = service.info()["scheme"]
    lines = [f"drg serve: {url}  ({'方案' if zh else 'scheme'} {info['id']} {info['name']}, DRG {info['drg']}"
             + (f", {'权重' if zh else 'weights'} {a.weights}" if a.weights else "") + f", workers {a.workers})",
             (f"  编码员页面 {url}   接口说明 {url}docs   按 Ctrl-C 停止" if zh else
              f"  coder's page {url}   API {url}docs   Ctrl-C stops")]
    if a.token:
        lines.append(f"  {'接口请求须带口令' if zh else 'API requests must carry the token'}: Authorization: Bearer <--token>;"
                     f" {'页面地址加' if zh else 'open the page as'} {url}?token=<--token>")
    if not _loopback(a.host):
        lines.append(f"  {'注意：其他机器可以访问此服务' if zh else 'note: other machines can reach this service'} ({a.host})")
    if not a.quiet:
        print("\n".join(lines), file=sys.stderr, flush=True)
    log_level = "info" if a.log_requests else "warning"
    if a.workers == 1:
        app = serving_app(service, token=a.token, max_body=max_body, max_file=MAX_FILE)
        uvicorn.run(app, host=a.host, port=a.port, log_level=log_level, access_log=a.log_requests,
                    server_header=False, date_header=False)
        return 0
    os.environ["DRG_SERVE_OPTIONS"] = json.dumps({**opts, "scheme": scheme_path, "token": a.token, "max_body": max_body})
    uvicorn.run("drg.serve.app:app_from_environment", factory=True, host=a.host, port=a.port, workers=a.workers,
                log_level=log_level, access_log=a.log_requests, server_header=False, date_header=False)
    return 0
