"""The contract check itself, with openapi-core (a development dependency, imported only when
`HUBEE_SANDBOX_OPENAPI` is set). See `contract` for what is checked and why.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema.exceptions import ValidationError as SchemaError
from openapi_core import OpenAPI
from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import (
    MissingParameterError,
    MissingRequestBodyError,
    ParameterValidationError,
    RequestBodyValidationError,
)
from openapi_core.validation.response.exceptions import HeaderValidationError
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from werkzeug.datastructures import Headers, ImmutableMultiDict


@dataclass(frozen=True)
class Violation:
    """One `[ERROR]` line of the gateway: where (`query.maxResult`, `body`…) and what."""

    location: str
    detail: str

    def line(self, kind: str, method: str, path: str) -> str:
        where = f" @{self.location}" if self.location and kind == "REQUEST" else ""
        return f"[ERROR][{kind}][{method} {path}{where}] {self.detail}"


# Requests are matched against the contract's paths under this made-up host.
GATEWAY_ORIGIN = "https://gateway.hubee.invalid"
BINARY = "application/octet-stream"

# API.md §5.1: real HubEE, the official script and our client use it; SW does not list it.
EVENT_DETAILS_PARAMETER: dict[str, Any] = {
    "name": "eventDetails",
    "in": "query",
    "required": False,
    "description": "Not in SW: adds eventActionType and eventStatus (API.md §5.1, CI24, SC1).",
    "schema": {"type": "boolean"},
}
# API.md §4.2: only with ?eventDetails=true; SW does not list them.
NOTIFICATION_EXTRAS: dict[str, Any] = {
    "eventActionType": {"type": "string", "nullable": True, "maxLength": 100},
    "eventStatus": {"type": "string", "nullable": True, "maxLength": 12},
}
# The schemas of what an SI sends and receives: no property beyond the declared ones.
STRICT_SCHEMAS = (
    "Notification",
    "Case",
    "Event",
    "Attachment",
    "Applicant",
    "OrganizationIdentifier",
    "PartnerInfo",
    "Error",
)
# API.md §5 and §11: statuses any call may answer, in HubEE's Error format.
ERROR_STATUSES = frozenset({400, 401, 403, 404, 405, 429, 500, 502, 503, 504})

_PARAMETER_RE = re.compile(r"\{[^/{}]+\}")
_REQUIRED_RE = re.compile(r"^'(.*)' is a required property$")


# -- what openapi-core is given ------------------------------------------------------------------


@dataclass
class ContractRequest:
    """A request as openapi-core reads it (its `Request` protocol)."""

    method: str  # lowercase, as sent (POST for a method override)
    path: str  # e.g. /teledossiers/v1/notifications
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = ""
    body: bytes | None = None
    host_url: str = GATEWAY_ORIGIN
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        self.method = self.method.lower()
        self.content_type = self.content_type.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(self.query),
            header=Headers(list(self.headers.items())),
            cookie=ImmutableMultiDict(),
            path={},
        )


@dataclass
class ContractResponse:
    """An answer as openapi-core reads it (its `Response` protocol)."""

    status_code: int
    headers: Headers
    content_type: str
    data: bytes


# -- the contract --------------------------------------------------------------------------------


def _adapted(document: dict[str, Any]) -> dict[str, Any]:
    """The contract, with the documented extras and strictness (see the module docstring)."""
    doc = copy.deepcopy(document)
    base_path = doc.get("x-wso2-basePath", "/teledossiers/v1")
    doc["servers"] = [{"url": GATEWAY_ORIGIN + base_path}]
    doc.get("components", {}).pop("securitySchemes", None)
    doc.pop("security", None)
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
    listing = doc["paths"]["/notifications"]["get"]
    listing.setdefault("parameters", []).append(copy.deepcopy(EVENT_DETAILS_PARAMETER))
    schemas = doc["components"]["schemas"]
    schemas["Notification"]["properties"].update(copy.deepcopy(NOTIFICATION_EXTRAS))
    for name in STRICT_SCHEMAS:
        schemas[name]["additionalProperties"] = False
    schemas["Error"]["properties"]["errors"]["items"]["additionalProperties"] = False
    return doc


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = _adapted(document)
        self.api = OpenAPI.from_dict(self.document)
        self.base_path = self.document.get("x-wso2-basePath", "/teledossiers/v1")
        self._error_validator = OAS30ReadValidator(
            self.document["components"]["schemas"]["Error"], format_checker=oas30_format_checker
        )
        self._routes = self._compile_routes()
        # openapi-core keeps caches; one validation at a time is cheap enough for a sandbox.
        self._lock = threading.Lock()

    def _compile_routes(self) -> list[tuple[re.Pattern[str], str]]:
        routes = []
        for template in self.document.get("paths", {}):
            literals = _PARAMETER_RE.split(template)
            pattern = "[^/]+".join(re.escape(literal) for literal in literals)
            routes.append((re.compile(f"^{pattern}$"), template))
        # Literal paths first (/cases/migrate before /cases/{caseId}).
        routes.sort(key=lambda route: route[1].count("{"))
        return routes

    def template(self, path: str) -> str | None:
        """The contract's path template of an API path (`/teledossiers/v1/...`)."""
        relative = path.removeprefix(self.base_path) or "/"
        for pattern, template in self._routes:
            if pattern.match(relative):
                return template
        return None

    def _parameter(self, value: dict[str, Any]) -> dict[str, Any]:
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/parameters/"):
            return self.document["components"]["parameters"][ref.rsplit("/", 1)[1]]
        return value

    def query_names(self, template: str, method: str) -> set[str] | None:
        """The query parameters an operation declares; None when it does not exist."""
        item = self.document["paths"].get(template, {})
        operation = item.get(method.lower())
        if not isinstance(operation, dict):
            return None
        declared = [*item.get("parameters", []), *operation.get("parameters", [])]
        return {p["name"] for p in map(self._parameter, declared) if p.get("in") == "query"}

    # -- requests ------------------------------------------------------------------------------

    def request_violations(self, request: ContractRequest) -> list[Violation]:
        violations: list[Violation] = []
        template = self.template(request.path)
        if template is not None:
            declared = self.query_names(template, request.method)
            if declared is not None:
                for name in dict.fromkeys(name for name, _ in request.query):
                    if name not in declared:
                        violations.append(
                            Violation(
                                f"query.{name}",
                                f"Query parameter '{name}' is unexpected on path "
                                f'"{self.base_path}{template}"',
                            )
                        )
        with self._lock:
            errors = list(self.api.iter_request_errors(request))
        for error in errors:
            violations.extend(_request_error(error, request))
        return _unique(violations)

    # -- answers -------------------------------------------------------------------------------

    def response_violations(
        self, request: ContractRequest, response: ContractResponse
    ) -> list[Violation]:
        violations: list[Violation] = []
        with self._lock:
            errors = list(self.api.iter_response_errors(request, response))
        for error in errors:
            if isinstance(error, ResponseNotFound) and response.status_code in ERROR_STATUSES:
                continue  # checked below against the Error format
            violations.extend(_response_error(error, response.status_code))
        if response.status_code >= 400:
            violations.extend(self.error_body_violations(response))
        return _unique(violations)

    def error_body_violations(self, response: ContractResponse) -> list[Violation]:
        """An error answer must be HubEE's `{"errors":[{"code":…,"message":…}]}`."""
        if not response.data:
            return [Violation("body", "An error answer has no body (HubEE's Error expected)")]
        if not response.content_type.startswith("application/json"):
            return [
                Violation(
                    "body", f"Error answer of type {response.content_type!r}, not JSON (Error)"
                )
            ]
        try:
            data = json.loads(response.data)
        except ValueError as exc:
            return [Violation("body", f"Unable to parse JSON - {exc}")]
        return [
            Violation("body", _schema_detail(error, in_body=True))
            for error in self._error_validator.iter_errors(data)
        ]


def _unique(violations: list[Violation]) -> list[Violation]:
    return list(dict.fromkeys(violations))


# -- openapi-core errors as the gateway words them -------------------------------------------


def _request_error(error: Exception, request: ContractRequest) -> list[Violation]:
    cause = error.__cause__
    if isinstance(error, ParameterValidationError):
        location = f"{error.location}.{error.name}"
        if isinstance(error, MissingParameterError):
            return [
                Violation(
                    location,
                    f"{error.location.title()} parameter '{error.name}' is required but is missing",
                )
            ]
        if isinstance(cause, CastError):
            return [Violation(location, _cast_detail(cause))]
        if isinstance(cause, InvalidSchemaValue):
            return _schema_violations(location, cause.schema_errors, in_body=False)
        return [Violation(location, str(cause or error))]
    if isinstance(error, RequestBodyValidationError):
        if isinstance(error, MissingRequestBodyError):
            return [Violation("body", "A request body is required but none found")]
        if isinstance(cause, MediaTypeNotFound):
            allowed = ", ".join(cause.availableMimetypes)
            return [
                Violation(
                    "header.Content-Type",
                    f"Request Content-Type header '[{request.content_type}]' does not match any "
                    f"allowed types. Must be one of: [{allowed}]",
                )
            ]
        if isinstance(cause, MediaTypeDeserializeError):
            reason = cause.__cause__ or f"not {cause.mimetype}"
            return [Violation("body", f"Unable to parse JSON - {reason}")]
        if isinstance(cause, InvalidSchemaValue):
            return _schema_violations("body", cause.schema_errors, in_body=True)
        return [Violation("body", str(cause or error))]
    if isinstance(error, PathError):
        return [Violation("", f"No API path found that matches request '{request.path}'")]
    return [Violation("", str(error))]


def _response_error(error: Exception, status: int) -> list[Violation]:
    cause = error.__cause__
    if isinstance(error, ResponseNotFound):
        return [Violation("", f"Response status {status} is not defined for this operation")]
    if isinstance(error, HeaderValidationError):
        location = f"header.{error.name}"
        if isinstance(cause, InvalidSchemaValue):
            return _schema_violations(location, cause.schema_errors, in_body=False)
        return [Violation(location, f"[Header '{error.name}'] {cause or error}")]
    if isinstance(cause, InvalidSchemaValue):
        return _schema_violations("body", cause.schema_errors, in_body=True)
    if isinstance(cause, MediaTypeNotFound):
        return [
            Violation(
                "body",
                f"Response Content-Type '{cause.mimetype}' is not one of the contract's: "
                f"{', '.join(cause.availableMimetypes)}",
            )
        ]
    return [Violation("body", str(cause or error))]


def _schema_violations(
    location: str, errors: Iterable[SchemaError], *, in_body: bool
) -> list[Violation]:
    # jsonschema reports one error per missing property: the gateway lists them together.
    missing: dict[str, list[str]] = {}
    violations: list[Violation] = []
    for error in errors:
        name = _missing_property(error)
        if name is not None:
            missing.setdefault(_pointer(error), []).append(name)
            continue
        violations.append(Violation(location, _schema_detail(error, in_body=in_body)))
    for pointer, names in missing.items():
        listed = ",".join(json.dumps(name) for name in dict.fromkeys(names))
        prefix = f"[Path '{pointer}'] " if in_body else ""
        violations.append(
            Violation(location, f"{prefix}Object has missing required properties ([{listed}])")
        )
    return violations


def _missing_property(error: SchemaError) -> str | None:
    """The property a `required` error is about. One error per property, and read-only ones
    are not required in a request: the message says which one, `validator_value` lists all."""
    if error.validator != "required":
        return None
    match = _REQUIRED_RE.match(error.message)
    return match.group(1) if match else None


def _pointer(error: SchemaError) -> str:
    return "/" + "/".join(str(part) for part in error.absolute_path)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _allowed(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(types or [])
    if "number" in names and "integer" not in names:
        names.append("integer")
    return ",".join(json.dumps(name) for name in sorted(names))


def _cast_detail(error: CastError) -> str:
    return (
        f"Instance type ({_type_name(error.value)}) does not match any allowed primitive type "
        f"(allowed: [{_allowed(error.type)}])"
    )


def _schema_detail(error: SchemaError, *, in_body: bool) -> str:
    """A jsonschema error in the words of HubEE's gateway (API.md §3 and §11 examples)."""
    prefix = f"[Path '{_pointer(error)}'] " if in_body else ""
    kind, expected, instance = error.validator, error.validator_value, error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    if kind == "type" or (kind == "nullable" or error.message == "None for not nullable"):
        allowed = _allowed(schema.get("type", expected))
        detail = (
            f"Instance type ({_type_name(instance)}) does not match any allowed primitive type "
            f"(allowed: [{allowed}])"
        )
    elif kind == "maxLength":
        detail = f"String is too long (length: {len(instance)}, maximum allowed: {expected})"
    elif kind == "minLength":
        detail = f"String is too short (length: {len(instance)}, required minimum: {expected})"
    elif kind == "format" and expected == "uuid":
        detail = f'Input string "{instance}" is not a valid UUID'
    elif kind == "format":
        detail = f'String "{instance}" is invalid against requested format "{expected}"'
    elif kind == "enum":
        values = ",".join(json.dumps(v) for v in expected)
        detail = (
            f"Instance value ({json.dumps(instance)}) not found in enum "
            f"(possible values: [{values}])"
        )
    elif kind == "pattern":
        detail = f'ECMA 262 regex "{expected}" does not match input string "{instance}"'
    elif kind == "additionalProperties" and isinstance(instance, dict):
        declared = schema.get("properties", {})
        extras = ",".join(json.dumps(k) for k in instance if k not in declared)
        detail = f"Object instance has properties which are not allowed by the schema: [{extras}]"
    elif kind == "readOnly":
        detail = "Property is read-only: it must not be sent"
    elif kind in ("minimum", "maximum"):
        comparison = "lower" if kind == "minimum" else "greater"
        detail = f"Numeric instance is {comparison} than the required {kind} ({expected})"
    else:
        detail = error.message
    return prefix + detail


@functools.cache
def load(path: str) -> Contract:
    with Path(path).open(encoding="utf-8") as handle:
        return Contract(yaml.safe_load(handle))
