"""The OpenAPI 3.1 description of `drg serve`'s API (served at /openapi.json, shown at /docs)."""

from __future__ import annotations

import re

from grouper.columns import ALIASES, WIDE

from ..contract import ALIASES as CONTRACT_ALIASES
from .records import ASCII_CODE, COST_FIELDS, LIST_FIELDS, MAX_CODES, MAX_RECORDS, MAX_TEXT

_FILE = r"^[^/\\]*\.([cC][sS][vV]|[xX][lL][sS][xX]|[pP][aA][rR][qQ][uU][eE][tT])$"


def _pattern(chars) -> str:
    """A JSON-schema pattern of texts made of ``chars`` (drg.serve.records.code_characters: the scheme's own)."""
    return "^[" + "".join("\\" + c if c in "\\]^-[" else c for c in sorted(chars)) + "]*$"

def _canonical(code: str, codes: str) -> dict:
    return {
    "case_id": {"type": ["string", "integer", "null"], "maxLength": 200},
    "sex": {"type": ["integer", "number", "string", "null"], "maxLength": 200, "description": "1/2, 男/女, M/F"},
    "age_years": {"type": ["integer", "number", "string", "null"], "maxLength": 200},
    "age_days": {"type": ["integer", "number", "string", "null"], "maxLength": 200, "description": "age in days under one year"},
    "weight_g": {"type": ["integer", "number", "string", "null"], "maxLength": 200, "description": "birth weight in grams"},
    "dept": {"type": ["string", "integer", "number", "null"], "maxLength": 200},
    "los_days": {"type": ["integer", "number", "string", "null"], "maxLength": 200},
    "leaving_type": {"type": ["string", "integer", "number", "null"], "maxLength": 200, "description": "离院方式 1-9"},
    "icu_hours": {"type": ["integer", "number", "string", "null"], "maxLength": 200},
    "admission_weight_g": {"type": ["integer", "number", "string", "null"], "maxLength": 200,
                           "description": "入院体重 in grams (CHS-DRG 3.0 newborn groups)"},
    **{name: {"type": ["integer", "boolean", "string", "null"], "maxLength": 200, "description": f"{zh}: 1/0, 是/否"}
       for name, zh in (("new_technique", "新技术"), ("intensive_care", "重症监护"), ("day_surgery", "日间手术"))},
    "crrt_hours": {"type": ["integer", "number", "string", "null"], "maxLength": 200, "description": "CRRT时长 in hours"},
    "dx": {"type": ["array", "string", "null"], "items": {"type": ["string", "null"], "maxLength": MAX_TEXT, "pattern": code},
           "maxItems": MAX_CODES, "maxLength": 4 * MAX_TEXT, "pattern": codes,
           "description": "diagnoses, principal first: a list or one A|B text"},
    "px": {"type": ["array", "string", "null"], "items": {"type": ["string", "null"], "maxLength": MAX_TEXT, "pattern": code},
           "maxItems": MAX_CODES, "maxLength": 4 * MAX_TEXT, "pattern": codes, "description": "procedures, principal first"},
    }


def _record(chars) -> dict:
    """Every name a record may use: the canonical fields, each Chinese alias (same schema), the cost, and the wide
    code columns (主要诊断编码, 其他诊断编码1 ...) as patterns; nothing else. A record names its sex, age and
    diagnoses under one of their names."""
    code, codes = _pattern(chars), _pattern(set(chars) | set("|,;"))
    canonical = _canonical(code, codes)
    props = dict(canonical)
    for canon, names in ALIASES.items():
        for name in names:
            props.setdefault(name, {**canonical[canon], "description": f"= {canon}"})
    for name in COST_FIELDS:
        props[name] = {"type": ["number", "string", "null"], "maxLength": 200, "description": "total cost in yuan, for the estimate"}
    for canon in LIST_FIELDS:
        for name in CONTRACT_ALIASES[canon]:
            props.setdefault(name, {"type": ["number", "string", "null"], "maxLength": MAX_TEXT,
                                    "description": f"= {canon}: a settlement-list field /api/check reads (grouping does not)"})
    wide = {}
    for which, (mains, numbered) in WIDE.items():
        for name in mains:
            props.setdefault(name, {"type": ["string", "null"], "maxLength": MAX_TEXT, "pattern": code,
                                    "description": f"wide {which}: the principal code"})
        for stem in numbered:
            wide[f"^{re.escape(stem)}[0-9]+$"] = {"type": ["string", "null"], "maxLength": MAX_TEXT, "pattern": code}
    named = {f: [n for n in props if n == f or n in ALIASES[f]] for f in ("sex", "age_years", "dx")}
    named["dx"] += list(WIDE["dx"][0])
    return {
        "type": "object",
        "description": "One discharge record: the input columns of `drg group` (canonical names or their Chinese "
                       "aliases, or 主要诊断编码 + 其他诊断编码1..N), values as numbers or text (男/女, 70岁, 3500克); "
                       f"`total_cost` ({', '.join(COST_FIELDS[1:])}) prices the case. Any other field is refused, and so are two "
                       "names for one field that decides the group (sex and 性别) and numbered wide columns without "
                       "their principal one (其他诊断编码1 without 主要诊断编码), as `drg group` refuses such files.",
        "properties": props, "patternProperties": wide, "additionalProperties": False,
        "allOf": [{"anyOf": [{"required": [n]} for n in names]} for names in named.values()],
        "example": {"case_id": "A001", "sex": 1, "age_years": 67, "los_days": 9, "leaving_type": "1",
                    "dx": ["I21.000", "I10.x00"], "px": ["36.0600"]},
    }


_RESULT = {
    "type": "object",
    "required": ["status", "status_code", "mdc", "adrg", "drg", "drg_name", "reason", "warnings"],
    "properties": {k: {"type": ["string", "null"]} for k in
                   ("case_id", "status", "status_code", "mdc", "adrg", "drg", "drg_name", "reason", "warnings")}
    | {"rw": {"type": ["number", "null"], "description": "with --weights"},
       "payment_estimate": {"type": "object", "description": "with --weights and --point-value or --base-rate: class, "
                            "points or weight_units, fen, yuan"}},
}
_ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "fix": {"type": "string"}}}
_LANG = {"name": "lang", "in": "query", "schema": {"enum": ["zh", "en"], "default": "zh"},
         "description": "language of status, reason, warnings and texts"}


def _errors(*codes) -> dict:
    text = {400: "malformed JSON, a wrong field or value", 401: "missing or wrong token (servers not on 127.0.0.1)",
            413: "body over the limit"}
    return {str(c): {"description": text[c], "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            for c in codes}


def _post(summary: str, request: dict, response: dict, *codes) -> dict:
    return {"post": {"summary": summary, "parameters": [_LANG],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": request}}},
                     "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": response}}},
                                   **_errors(400, 401, 413, *codes)}}}


_ISSUES = {"type": "object", "required": ["issues", "errors", "warnings"], "properties": {
    "errors": {"type": "integer"}, "warnings": {"type": "integer"},
    "issues": {"type": "array", "items": {"type": "object", "properties": {
        "case_id": {"type": ["string", "null"]}, "rule_id": {"type": "string"}, "severity": {"enum": ["error", "warning"]},
        "field": {"type": "string"}, "value": {"type": ["string", "null"]}, "message": {"type": "string"},
        "affects_grouping": {"type": "boolean", "description": "fixing the issue can change the DRG (found by regrouping)"}}}}}}


def spec(chars=ASCII_CODE) -> dict:
    """The description; ``chars``: the characters the loaded scheme's codes are made of."""
    ref = {"$ref": "#/components/schemas/Record"}
    res = {"$ref": "#/components/schemas/Result"}
    batch = {"type": "object", "properties": {"records": {"type": "array", "items": ref, "maxItems": MAX_RECORDS}},
             "required": ["records"], "additionalProperties": False}
    results = {"type": "object", "properties": {"results": {"type": "array", "items": res}}, "required": ["results"],
               "additionalProperties": False}
    return {
        "openapi": "3.1.0",
        "info": {"title": "drg serve", "version": "1", "description":
                 "Pre-grouping (入组预测) while a case is coded: group, explain, simulate and price one record or many "
                 "with the scheme the server was started with. Results equal `drg group` on the same records."},
        "paths": {
            "/api/group": _post("Group one record, or {\"records\": [...]} (results in order)",
                                {"oneOf": [ref, batch]}, {"oneOf": [res, results]}),
            "/api/explain": _post("The result and every rule tried: as lines (trace), as data (steps) and in words (text)", ref,
                                  {"allOf": [res, {"type": "object", "properties": {
                                      "trace": {"type": "array", "items": {"type": "string"}},
                                      "steps": {"type": "array", "items": {"type": "object", "properties": {
                                          "level": {"enum": ["mdc", "step", "split", "retry"]}, "name": {"type": "string"},
                                          "kind": {"type": "string"}, "rule": {"type": "string"}, "holds": {"type": "boolean"},
                                          "notes": {"type": "array", "items": {"type": "string"}}}}},
                                      "text": {"type": "string"}}}]}),
            "/api/simulate": _post("What-if: each secondary code removed or taken as principal, each add_dx/add_px added; "
                                   "ranked by weight",
                                   {"type": "object", "properties": {
                                       "record": ref,
                                       "add_dx": {"type": "array", "maxItems": 50, "items": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": _pattern(chars)}},
                                       "add_px": {"type": "array", "maxItems": 50, "items": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": _pattern(chars)}}},
                                    "required": ["record"], "additionalProperties": False},
                                   {"type": "object", "properties": {"record": res, "variants": {"type": "array", "items": res}}}),
            "/api/check": _post("Settlement-list quality control (结算清单质控) of one record, or {\"records\": [...]}: every "
                                "issue the rules find, as `drg check` finds them (duplicates within the request)",
                                {"oneOf": [ref, batch]}, {"oneOf": [_ISSUES, {"type": "object", "properties": {
                                    "results": {"type": "array", "items": _ISSUES}}, "required": ["results"]}]}),
            "/api/group-file": {"post": {
                "summary": "A CSV, XLSX or Parquet file in the body: the grouped file back (as `drg group` writes it)",
                "parameters": [{"name": "filename", "in": "query", "required": True,
                                "schema": {"type": "string", "pattern": _FILE},
                                "description": "the file's name; its ending (.csv .xlsx .parquet) says its kind"}, _LANG],
                "requestBody": {"required": True, "content": {"application/octet-stream": {}}},
                "responses": {"200": {"description": "the grouped file"}, **_errors(400, 401, 413)}}},
            "/api/codes": {"get": {
                "summary": "Search diagnosis and procedure codes by code prefix or part of the name",
                "parameters": [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 64}},
                               {"name": "kind", "in": "query", "schema": {"enum": ["dx", "px"]}},
                               {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 20, "minimum": 1, "maximum": 100}},
                               _LANG],
                "responses": {"200": {"description": "{codes: [{code, name, kind}]}"}, **_errors(400, 401)}}},
            "/api/info": {"get": {"summary": "The scheme and options the server runs with",
                                  "responses": {"200": {"description": "scheme id, name, counts; weights and payment method"}}}},
        },
        "components": {"schemas": {"Record": _record(chars), "Result": _RESULT, "Error": _ERROR},
                       "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
    }
