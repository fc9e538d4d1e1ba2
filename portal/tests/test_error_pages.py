"""The portal's own error pages and what an error leaves in the console: a GET on an action URL
gets the portal's 405 page (not the browser's bare one), and a refusal (403) is one log line, not
tracebacks."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_get_on_an_action_url_shows_the_portals_405_page(client: Client, approver: Any) -> None:
    client.force_login(approver)
    url = reverse("breakglass:request_decide", kwargs={"uuid": uuid.uuid4()})

    response = client.get(url)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    page = response.content.decode()
    assert "<nav" in page  # the portal's layout, with its navigation
    assert "This address only takes a form" in page
    assert "Content-Security-Policy" in response


def test_a_refusal_is_one_log_line_without_a_traceback(
    client: Client, outsider: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client.force_login(outsider)
    with caplog.at_level(logging.INFO):
        response = client.get(reverse("breakglass:request_list"))

    assert response.status_code == 403
    refusals = [record for record in caplog.records if "Forbidden" in record.getMessage()]
    assert len(refusals) == 1
    assert refusals[0].exc_info is None
    assert refusals[0].exc_text is None
    assert all(record.exc_info is None for record in caplog.records)
