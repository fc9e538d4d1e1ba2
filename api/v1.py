"""The REST API, version 1 (Django Ninja): its one ``NinjaAPI``, its authentication and how every
error becomes problem details. The endpoints are in :mod:`api.endpoints`.

The schema (``/api/v1/openapi.json``) is public: it describes the shape of the API, the same for
every installation and readable in the source; it holds no data. Ninja's own documentation page is
off (it loads scripts the CSP refuses); ``api.views.api_docs`` renders the schema on the server.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation

from api.auth import ApiRefusalError, TokenAuth
from api.endpoints import evidence, exports, inventory, reports, siem
from api.problems import CONTENT_TYPE, problem, pydantic_errors, validation_errors
from api.schemas import PROBLEM_STATUSES

logger = logging.getLogger(__name__)

DESCRIPTION = """\
The break-glass portal's API for automation: read the accounts, requests, findings, root events and
ingestion runs you may see on the pages, file and cancel your own requests, triage findings and
export reports.

Authenticate with a personal token (`Authorization: Bearer bgp_...`), made on the portal's
*API tokens* page. A token acts as its person with that person's roles at the time of each call,
within its scopes (each operation names the ones it accepts under `x-scopes`).

No token can approve, check out, hand over, reveal or rotate: a request filed here is approved,
checked out and revealed by people in the browser, with a fresh second factor.

Lists come in pages: `{"items": [...], "next": "..."}`. Pass `next` back as `cursor` for the
following page (`limit` rows, at most 200); `next` is null on the last page. A cursor is opaque and
marks the last row seen (keyset paging): every page costs the same however deep, and rows added
while a client walks a list are neither repeated nor skipped. There is no page number and no total.
The findings' `account` takes an account's name (or part of it) or its id (or the start of it), as
on the findings page.

Errors are problem details (RFC 9457, `application/problem+json`).
"""


class PortalApi(NinjaAPI):
    """Ninja, with short operation ids (the endpoint's name) and refusals described as what they are
    on the wire: ``application/problem+json``."""

    def get_openapi_operation_id(self, operation: Operation) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> OpenAPISchema:
        schema = super().get_openapi_schema(*args, **kwargs)
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(status) in PROBLEM_STATUSES and "application/json" in content:
                        response["content"] = {CONTENT_TYPE: content["application/json"]}
        return schema


api = PortalApi(
    title="Root break-glass portal API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api_v1",
    openapi_url="/openapi.json",
    docs_url=None,
    auth=TokenAuth(),
)


@api.exception_handler(ApiRefusalError)
def _refused(request: HttpRequest, exc: ApiRefusalError) -> HttpResponse:
    response = problem(request, exc.status, exc.message, errors=exc.errors)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = problem(
        request, 401, "Send a personal API token: 'Authorization: Bearer <token>'. Sessions are not accepted."
    )
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: list[dict[str, Any]] = list(exc.errors)
    return problem(request, 400, "The request is not valid; see errors.", errors=pydantic_errors(errors))


@api.exception_handler(DjangoValidationError)
def _domain(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    """``DomainError`` (a rule refused the action, in the services' own words): 409."""
    errors = validation_errors(exc)
    detail = " ".join(message for messages in errors.values() for message in messages)
    return problem(request, 409, detail, errors=errors)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(request, 404, str(exc) or "Not found.")


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem(request, 403, str(exc) or "Not allowed.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem(request, exc.status_code, str(exc))


@api.exception_handler(Exception)
def _crashed(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Logged with the request id, never with the request's headers (the token is in one).
    logger.error("API call %s %s failed", request.method, request.path, exc_info=exc)
    return problem(request, 500, "The portal failed to answer; the request id names it in the logs.")


api.add_router("/", inventory.router)
api.add_router("/", evidence.router)
api.add_router("/", reports.router)
api.add_router("/", exports.router)
api.add_router("/", siem.router)
