"""The OpenAPI document, completed in one place: what every route shares is added here, not per route.

- Every error response is RFC 9457 problem details: `application/problem+json` with the `Problem`
  schema (api/errors.py), whatever model a route declared for it.
- Statuses any operation can answer are documented on every operation they apply to: 400 (a body
  that is not JSON) and 413 (a body over ESG_MAX_BODY_BYTES) where there is a body, 422 where there
  are parameters or a body, 401 and 403 where there is security, 429 with `Retry-After` (rate
  limits cover every route) and 503 (the chain node or the database is unavailable).
- The prepare body is a `oneOf` discriminated by `kind`, one member per registered action kind with
  the kind's own payload model (ledger/kinds), so a generated client sends exactly what is parsed.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from ledger.kinds import KINDS

from .errors import PROBLEM_MEDIA_TYPE
from .schemas import Problem

__all__ = ["complete", "install"]

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_ERROR_MODELS = {"Problem", "ProblemError", "ErrorResponse", "ErrorDetail", "HTTPValidationError"}

_COMMON: dict[str, str] = {
    "400": "The body is not valid JSON (`malformed_json`).",
    "413": "The request body is over the size limit, ESG_MAX_BODY_BYTES (`payload_too_large`).",
    "422": "A parameter or body field is missing, malformed or out of range (`invalid_request`); "
    "`field` names the first, `errors` lists every field with the rule it broke.",
    "401": "No credentials, or invalid, expired or revoked ones (`not_authenticated`).",
    "403": "The credentials do not allow this (`forbidden`).",
    "429": "Too many requests (`rate_limited`): wait `Retry-After` seconds.",
    "503": "The chain node or the database is unavailable (`chain_unavailable`, …); try again later.",
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    }
}


def install(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = complete(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _add_models(schemas, Problem)
    _prepare_union(schemas)
    for path_item in schema.get("paths", {}).values():
        for method in _METHODS:
            operation = path_item.get(method)
            if operation is not None:
                _complete_operation(operation, schema)
    for unused in ("HTTPValidationError", "ValidationError", "ErrorResponse", "ErrorDetail"):
        schemas.pop(unused, None)
    return schema


def _add_models(schemas: dict[str, Any], model: type[BaseModel]) -> None:
    generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in generated.pop("$defs", {}).items():
        schemas[name] = sub
    schemas[model.__name__] = generated


def _is_error_content(content: dict[str, Any] | None) -> bool:
    """A response whose declared body is an error model, or no particular body at all."""
    if not content:
        return True
    for media in content.values():
        ref = str(media.get("schema", {}).get("$ref", ""))
        if ref and ref.rsplit("/", 1)[-1] not in _ERROR_MODELS:
            return False
        if not ref and media.get("schema"):
            return False
    return True


def _complete_operation(operation: dict[str, Any], schema: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    has_body = "requestBody" in operation
    has_params = bool(operation.get("parameters"))
    security: list[dict[str, Any]] = operation.get("security", schema.get("security")) or []
    secured = any(security)  # `[{}]` and `[]`: no credentials needed
    wanted = ["429", "503"]
    if has_body:
        wanted += ["400", "413", "422"]
    elif has_params:
        wanted.append("422")
    if secured:
        wanted += ["401", "403"]
    for status in wanted:
        responses.setdefault(status, {"description": _COMMON[status]})
    for status, response in responses.items():
        if not (status.startswith(("4", "5")) or status == "default"):
            continue
        if not response.get("description") or response["description"] in (
            "Validation Error",
            "Additional Response",
        ):
            response["description"] = _COMMON.get(status, "An error.")
        if _is_error_content(response.get("content")):
            response["content"] = copy.deepcopy(_PROBLEM_CONTENT)
        if status == "429":
            response.setdefault("headers", {}).update(copy.deepcopy(_RETRY_AFTER))
    operation["responses"] = dict(sorted(responses.items()))


# --- the prepare body: one member per action kind


_ADDRESS = {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$", "format": "address"}  # ledger.kinds._fields
_EXAMPLES: dict[str, dict[str, Any]] = {
    "plogging": {
        "distanceMeters": 2400,
        "durationSeconds": 1800,
        "trashGrams": 850,
        "areaCode": 11680,
        "startedAt": 1767225600,
        "evidenceHash": "0x" + "ab" * 32,
    },
    "feedback": {"category": "environment", "content": "More bins by the Han river path, please."},
    "support": {"itemId": 1},
    "redemption": {"partner": "0x" + "12" * 20, "amount": 100, "offerHash": "0x" + "cd" * 32},
    "donation": {"causeId": 1, "amount": 50},
    "claim": {"campaignId": 1},
}


def _inline(model: type[BaseModel]) -> dict[str, Any]:
    generated = model.model_json_schema()
    generated.pop("$defs", None)
    return generated


def _prepare_union(schemas: dict[str, Any]) -> None:
    if "PrepareRequest" not in schemas:
        return
    members: list[dict[str, Any]] = []
    mapping: dict[str, str] = {}
    for name, spec in sorted(KINDS.items()):
        title = name.capitalize() + "Prepare"
        payload = _inline(spec.payload)
        payload["title"] = spec.payload.__name__
        member: dict[str, Any] = {
            "title": title,
            "type": "object",
            "additionalProperties": False,
            "required": ["kind", "resident", "payload"],
            "properties": {
                "kind": {"type": "string", "enum": [name], "description": f"`{name}`"},
                "resident": {**_ADDRESS, "description": "The resident's address: 0x and 40 hex digits."},
                "payload": payload,
            },
        }
        if name in _EXAMPLES:
            member["example"] = {"kind": name, "resident": "0x" + "a1" * 20, "payload": _EXAMPLES[name]}
        schemas[title] = member
        mapping[name] = f"#/components/schemas/{title}"
        members.append({"$ref": mapping[name]})
    schemas["PrepareRequest"] = {
        "title": "PrepareRequest",
        "description": "An action to prepare: `kind` selects the payload (docs/api.md).",
        "oneOf": members,
        "discriminator": {"propertyName": "kind", "mapping": mapping},
    }
