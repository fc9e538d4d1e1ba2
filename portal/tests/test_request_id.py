"""The request id: a client cannot choose what the ledger records as its request's id (issue 8, item 10).

A ``X-Request-ID`` header is kept only when a trusted reverse proxy stands in front of the portal
(``PORTAL_TRUSTED_PROXY_COUNT`` > 0), which sets the header itself; otherwise every request gets a
fresh id whatever the client sent.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from portal.middleware import RequestIdMiddleware, current_request_id

CLIENT_CHOSEN = "forged-id-0123456789"


def handle(request: HttpRequest) -> tuple[str, HttpResponse]:
    seen: dict[str, str] = {}

    def view(inner: HttpRequest) -> HttpResponse:
        seen["id"] = current_request_id()
        return HttpResponse("ok")

    response = RequestIdMiddleware(view)(request)
    return seen["id"], response


def test_a_client_chosen_request_id_is_replaced_without_a_trusted_proxy(settings: Any) -> None:
    settings.PORTAL_TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID=CLIENT_CHOSEN)

    request_id, response = handle(request)

    assert request_id != CLIENT_CHOSEN
    assert len(request_id) == 32
    assert response["X-Request-ID"] == request_id


def test_the_trusted_proxys_request_id_is_kept(settings: Any) -> None:
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID=CLIENT_CHOSEN)

    request_id, response = handle(request)

    assert request_id == CLIENT_CHOSEN
    assert response["X-Request-ID"] == CLIENT_CHOSEN


def test_a_malformed_id_from_the_trusted_proxy_is_replaced_too(settings: Any) -> None:
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="bad id\nwith a line break")

    request_id, _ = handle(request)

    assert request_id != "bad id\nwith a line break"
    assert len(request_id) == 32
