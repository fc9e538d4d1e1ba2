"""Errors as problem details (RFC 9457, ``application/problem+json``).

Every refusal of the API has the same shape: ``type`` (``about:blank``: the status says what kind
of problem it is), ``title`` (the status's phrase), ``status``, ``detail`` (what to do, in words
meant for a person), the ``request_id`` that the ledger and logs carry, and for invalid input or a
domain rule, ``errors``: field -> messages.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from portal.middleware import current_request_id

CONTENT_TYPE = "application/problem+json"


def problem(
    request: HttpRequest, status: int, detail: str, *, errors: dict[str, list[str]] | None = None
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "request_id": current_request_id(),
    }
    if errors:
        body["errors"] = errors
    return HttpResponse(json.dumps(body), status=status, content_type=CONTENT_TYPE)


def validation_errors(error: ValidationError) -> dict[str, list[str]]:
    """A Django ``ValidationError`` (``DomainError`` included) as field -> messages; errors not about
    one field are under ``""``."""
    if hasattr(error, "error_dict"):
        return {
            ("" if field == "__all__" else field): [str(message) for message in ValidationError(messages)]
            for field, messages in error.error_dict.items()
        }
    return {"": [str(message) for message in error.messages]}


def pydantic_errors(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Ninja's request validation errors (pydantic's) as field -> messages; the field is the dotted
    location inside what was sent: ``("body", "body", "account_id")`` is ``account_id`` (every
    endpoint names its body parameter ``body``), ``("query", "limit")`` is ``limit``."""
    found: dict[str, list[str]] = {}
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        if location[:1] in (["body"], ["query"], ["path"]):
            location = location[1:]
        if location[:1] == ["body"] and len(location) > 1:
            location = location[1:]
        field = ".".join(location)
        # A whole body that is not an object of the expected shape has no field of its own.
        found.setdefault(field, []).append(str(error.get("msg", "invalid")))
    return found
