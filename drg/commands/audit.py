"""`drg audit`: coding-quality and gaming surveillance."""

from __future__ import annotations

from .common import resolve_scheme_path


def cmd_audit(a) -> int:
    from ..audit import audit_summary, audit_to
    opts = {k: getattr(a, k) for k in ("hospitals", "weights", "folds", "seed", "batch_size", "review_limit", "lang", "columns", "dask")}
    print(audit_summary(audit_to(a.grouped, a.output, scheme_path=resolve_scheme_path(a.scheme), **opts), a.output, a.lang))
    return 0
