"""The OpenAPI 3.1 description of `drg serve`'s API (served at /openapi.json, shown at /docs)."""

from __future__ import annotations

from .records import COST_FIELDS, MAX_CODES, MAX_RECORDS

_RECORD = {
    "type": "object",
    "description": "One discharge record: the input columns of `drg group` (canonical names or their Chinese aliases, "
                   "e.g. 性别, 年龄, 主要诊断编码 + 其他诊断编码1..N), values as numbers or text (男/女, 70岁, 3500克). "
                   f"Optional `total_cost` ({', '.join(COST_FIELDS[1:])}) prices the case. Unknown fields are refused.",
    "properties": {
        "case_id": {"type": ["string", "integer", "null"]},
        "sex": {"type": ["integer", "string", "null"], "description": "1/2, 男/女, M/F"},
        "age_years": {"type": ["integer", "number", "string", "null"]},
        "age_days": {"type": ["integer", "number", "string", "null"], "description": "age in days under one year"},
        "weight_g": {"type": ["integer", "number", "string", "null"], "description": "birth weight in grams"},
        "dept": {"type": ["string", "integer", "null"]},
        "los_days": {"type": ["integer", "number", "string", "null"]},
        "leaving_type": {"type": ["string", "integer", "null"], "description": "离院方式 1-9"},
        "icu_hours": {"type": ["integer", "number", "string", "null"]},
        "dx": {"type": ["array", "string", "null"], "items": {"type": ["string", "null"]}, "maxItems": MAX_CODES,
               "description": "diagnoses, principal first: a list or one A|B text"},
        "px": {"type": ["array", "string", "null"], "items": {"type": ["string", "null"]}, "maxItems": MAX_CODES,
               "description": "procedures, principal first"},
        "total_cost": {"type": ["number", "string", "null"], "description": "yuan, for the payment estimate"},
    },
    "required": ["sex", "age_years", "dx"],
    "example": {"case_id": "A001", "sex": 1, "age_years": 67, "los_days": 9, "leaving_type": "1",
                "dx": ["I21.000", "I10.x00"], "px": ["36.0600"]},
}
_RESULT = {
    "type": "object",
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


def spec() -> dict:
    ref = {"$ref": "#/components/schemas/Record"}
    res = {"$ref": "#/components/schemas/Result"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "drg serve", "version": "1", "description":
                 "Pre-grouping (入组预测) while a case is coded: group, explain, simulate and price one record or many "
                 "with the scheme the server was started with. Results equal `drg group` on the same records."},
        "paths": {
            "/api/group": _post("Group one record, or {\"records\": [...]} (results in order)",
                                {"oneOf": [ref, {"type": "object", "properties": {"records": {"type": "array", "items": ref,
                                                                                             "maxItems": MAX_RECORDS}}}]},
                                {"oneOf": [res, {"type": "object", "properties": {"results": {"type": "array", "items": res}}}]}),
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
                                   {"type": "object", "properties": {"record": ref, "add_dx": {"type": "array", "items": {"type": "string"}},
                                                                     "add_px": {"type": "array", "items": {"type": "string"}}},
                                    "required": ["record"]},
                                   {"type": "object", "properties": {"record": res, "variants": {"type": "array", "items": res}}}),
            "/api/group-file": {"post": {
                "summary": "A CSV, XLSX or Parquet file in the body: the grouped file back (as `drg group` writes it)",
                "parameters": [{"name": "filename", "in": "query", "required": True, "schema": {"type": "string"},
                                "description": "the file's name; its ending (.csv .xlsx .parquet) says its kind"}, _LANG],
                "requestBody": {"required": True, "content": {"application/octet-stream": {}}},
                "responses": {"200": {"description": "the grouped file"}, **_errors(400, 401, 413)}}},
            "/api/codes": {"get": {
                "summary": "Search diagnosis and procedure codes by code prefix or part of the name",
                "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}},
                               {"name": "kind", "in": "query", "schema": {"enum": ["dx", "px"]}},
                               {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 20, "maximum": 100}}],
                "responses": {"200": {"description": "{codes: [{code, name, kind}]}"}, **_errors(400, 401)}}},
            "/api/info": {"get": {"summary": "The scheme and options the server runs with",
                                  "responses": {"200": {"description": "scheme id, name, counts; weights and payment method"}}}},
        },
        "components": {"schemas": {"Record": _RECORD, "Result": _RESULT, "Error": _ERROR},
                       "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
    }
