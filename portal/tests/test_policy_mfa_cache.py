"""The MFA check asked by every guard runs once per request, not once per question (issue 13)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal import policy
from portal.testing import enrol_totp

pytestmark = pytest.mark.django_db


def _mfa_queries(queries: list[dict[str, Any]]) -> int:
    return sum(1 for query in queries if "mfa_authenticator" in query["sql"])


def test_a_yes_is_asked_once_per_user_object(requester: Any) -> None:
    with CaptureQueriesContext(connection) as captured:
        assert all(policy.has_mfa(requester) for _ in range(5))
    assert _mfa_queries(captured.captured_queries) == 1


def test_a_no_is_asked_again_so_an_enrolment_counts_at_once(make_persona: Any) -> None:
    person = make_persona("no.factor", mfa=False)
    assert policy.has_mfa(person) is False
    enrol_totp(person)
    assert policy.has_mfa(person) is True


def test_a_removed_factor_counts_from_the_next_request(requester: Any) -> None:
    assert policy.has_mfa(requester) is True
    requester.authenticator_set.all().delete()
    fresh = get_user_model().objects.get(pk=requester.pk)
    assert policy.has_mfa(fresh) is False


def test_a_page_asks_the_mfa_table_once(client: Any, administrator: Any) -> None:
    client.force_login(administrator)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("breakglass:account_list"))
    assert response.status_code == 200
    assert _mfa_queries(captured.captured_queries) == 1
