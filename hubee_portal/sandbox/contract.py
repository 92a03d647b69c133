"""HubEE's gateway checks every request and every answer against the Folder API contract.

API.md §3: the gateway (WSO2) validates requests **and responses** against
`api_folder_v1.2.7.yaml`; a bad request gets a 400 `Bad Request : Validation failed.` and a bad
answer a 500 `Bad Response : Validation failed.`, both listing `[ERROR][…]` lines. When the
setting `HUBEE_SANDBOX_OPENAPI` names that file (the tests do), the sandbox does the same with
openapi-core (`openapi_contract`), so a client is checked against the real contract rather than
against our reading of it. The contract is public reference material: it is read where it lies,
never copied into the repository. With the setting empty (the default) nothing is checked and
openapi-core is not even imported.

What the contract does not say but real HubEE does is tolerated — exactly that, nothing more:
- the `eventDetails` query parameter of `GET /notifications` (API.md §5.1);
- the `eventActionType` and `eventStatus` fields of a listed notification (API.md §4.2);
- the error answers any call may give, in the `Error` format (API.md §5 and §11: 401 on every
  route, 403, 404 after a purge, the gateway's 405, 429 and 5xx), where an operation lists no
  such response.
Everything else is strict: an undeclared query parameter, or a property a schema does not
declare (in a request body or in an answer), is a violation.

The bearer token is checked before, by the sandbox itself (the 900901 answer), as the gateway
does; the contract's `security` requirements are left out of the check.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

if TYPE_CHECKING:
    from .openapi_contract import Contract, ContractRequest, Violation

SETTING = "HUBEE_SANDBOX_OPENAPI"
BINARY = "application/octet-stream"
MAX_RECORDED = 1000
STREAMED_PLACEHOLDER = b"(file content, streamed)"


def request_message(method: str, path: str, violations: Iterable[Violation]) -> str:
    lines = [violation.line("REQUEST", method, path) for violation in violations]
    return "Bad Request : Validation failed.\n" + "\n".join(lines)


def response_message(method: str, path: str, violations: Iterable[Violation]) -> str:
    lines = [violation.line("RESPONSE", method, path) for violation in violations]
    return "Bad Response : Validation failed.\n" + "\n".join(lines)


def configured_path() -> str:
    return str(getattr(settings, SETTING, "") or "")


def current() -> Contract | None:
    """The contract the sandbox checks against, or None when the setting is empty."""
    path = configured_path()
    if not path:
        return None
    from .openapi_contract import load

    return load(path)


# -- Django requests and answers ---------------------------------------------------------------


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def contract_request(
    contract: Contract, request: HttpRequest, api_path: str, *, binary_body: bool = False
) -> ContractRequest:
    """What the gateway sees of a request. The body of a file upload (`binary_body`) is never
    read here: it may weigh a gigabyte, and the handler streams it."""
    from .openapi_contract import ContractRequest

    content_type = request.META.get("CONTENT_TYPE", "")
    body: bytes | None
    if _media_type(content_type) == BINARY:
        body = None
    elif binary_body:
        body = b""  # enough for the media type check
    else:
        body = request.body
    return ContractRequest(
        method=request.method or "GET",
        path=api_path,
        query=[(name, value) for name, values in request.GET.lists() for value in values],
        headers=dict(request.headers),
        content_type=content_type,
        body=body,
    )


def response_violations(
    contract: Contract, request: ContractRequest, response: HttpResponseBase
) -> list[Violation]:
    """What the gateway finds wrong in an answer. File contents are not read (streamed)."""
    from werkzeug.datastructures import Headers

    from .openapi_contract import ContractResponse

    content_type = response.get("Content-Type", "")
    streamed = response.streaming or _media_type(content_type) == BINARY
    # A file is streamed, never read here: its schema (a binary string) accepts any bytes.
    data = STREAMED_PLACEHOLDER if streamed else response.content  # type: ignore[attr-defined]
    if not data and not streamed:
        content_type = ""  # e.g. a 204: Django's default text/html means nothing there
    answer = ContractResponse(
        status_code=response.status_code,
        headers=Headers(list(response.items())),
        content_type=_media_type(content_type),
        data=data,
    )
    return contract.response_violations(request, answer)


# -- answers that failed the check (for tests and the log) ------------------------------------

_recorded: list[str] = []
_recorded_lock = threading.Lock()


def record(message: str) -> None:
    with _recorded_lock:
        if len(_recorded) < MAX_RECORDED:
            _recorded.append(message)


def recorded() -> list[str]:
    """Answers the sandbox refused to send (500 Bad Response) since `clear_recorded()`."""
    with _recorded_lock:
        return list(_recorded)


def clear_recorded() -> None:
    with _recorded_lock:
        _recorded.clear()
