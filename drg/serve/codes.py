"""Code search as a coder types: by code prefix (I21, i21.0, ＩＲ) or by any part of the Chinese name (心肌梗死).

The scheme's dictionaries (``dx_codes.csv``, ``px_codes.csv``; a scheme without them offers its known codes
without names) are held as one sorted list of upper-case codes per kind, searched by bisection, and one string of
all names per kind, searched with ``str.find`` (C speed: about 1 ms over 50,000 names).
"""

from __future__ import annotations

import bisect
import unicodedata


class CodeIndex:
    """Search ``{"dx": {code: name}, "px": {code: name}}``."""

    def __init__(self, names: dict):
        self.kinds = {}
        for kind, table in names.items():
            codes = sorted(table)
            keys = sorted((c.upper(), c) for c in codes)
            blob_parts, starts, pos = [], [], 0
            for c in codes:
                starts.append(pos)
                blob_parts.append(table[c])
                pos += len(table[c]) + 1
            self.kinds[kind] = {"keys": [k for k, _ in keys], "codes": [c for _, c in keys], "names": table,
                                "order": codes, "blob": "\n".join(blob_parts), "starts": starts}

    def search(self, q: str, kind: str | None = None, limit: int = 20) -> list[dict]:
        """Codes starting with ``q``, then codes whose name contains it, each once, at most ``limit``."""
        q = unicodedata.normalize("NFKC", q).strip()
        if not q:
            return []
        out, seen = [], set()
        kinds = [kind] if kind else list(self.kinds)
        up = q.upper()
        for k in kinds:
            ix = self.kinds[k]
            i = bisect.bisect_left(ix["keys"], up)
            while i < len(ix["keys"]) and ix["keys"][i].startswith(up) and len(out) < limit:
                c = ix["codes"][i]
                out.append({"code": c, "name": ix["names"][c], "kind": k})
                seen.add((k, c))
                i += 1
        for k in kinds:
            ix = self.kinds[k]
            blob, starts, pos = ix["blob"], ix["starts"], 0
            while len(out) < limit:
                pos = blob.find(q, pos)
                if pos < 0:
                    break
                c = ix["order"][bisect.bisect_right(starts, pos) - 1]
                if (k, c) not in seen:
                    out.append({"code": c, "name": ix["names"][c], "kind": k})
                    seen.add((k, c))
                pos += 1
        return out

    def name(self, code: str) -> str:
        for ix in self.kinds.values():
            if code in ix["names"]:
                return ix["names"][code]
        return ""
