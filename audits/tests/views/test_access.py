"""Where the evidence pages live and who may enter which: requesters see none, approvers and custodians
see findings but not runs or the upload; the navigation follows.

Anonymous visitors and people without a role: ``portal/tests/test_url_guards.py``, for every URL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audits.tests.views.support import FINDINGS, RUNS, UPLOAD, make_finding

pytestmark = pytest.mark.django_db


def test_the_pages_live_under_audit() -> None:
    some = uuid.uuid4()
    assert FINDINGS == "/audit/findings/"
    assert reverse("audits:finding_detail", kwargs={"uuid": some}) == f"/audit/findings/{some}/"
    assert reverse("audits:finding_triage", kwargs={"uuid": some}) == f"/audit/findings/{some}/triage/"
    assert RUNS == "/audit/runs/"
    assert reverse("audits:run_detail", kwargs={"uuid": some}) == f"/audit/runs/{some}/"
    assert UPLOAD == "/audit/runs/upload/"


@pytest.mark.parametrize("url", [FINDINGS, RUNS, UPLOAD])
def test_requesters_are_refused(client: Client, requester: Any, url: str) -> None:
    make_finding(summary="secret summary")
    client.force_login(requester)

    response = client.get(url)

    assert response.status_code == 403
    assert b"secret summary" not in response.content


@pytest.mark.parametrize("persona", ["approver", "custodian"])
def test_approvers_and_custodians_may_not_see_runs_or_upload(
    client: Client, request: pytest.FixtureRequest, persona: str
) -> None:
    client.force_login(request.getfixturevalue(persona))

    assert client.get(RUNS).status_code == 403
    assert client.get(UPLOAD).status_code == 403


@pytest.mark.parametrize("persona", ["auditor", "administrator"])
def test_the_navigation_links_findings_and_runs(
    client: Client, request: pytest.FixtureRequest, persona: str
) -> None:
    client.force_login(request.getfixturevalue(persona))

    content = client.get(FINDINGS).content.decode()

    assert f'href="{FINDINGS}"' in content
    assert f'href="{RUNS}"' in content


def test_an_approver_is_shown_findings_but_not_runs_in_the_navigation(client: Client, approver: Any) -> None:
    client.force_login(approver)

    content = client.get(FINDINGS).content.decode()

    assert f'href="{FINDINGS}"' in content
    assert f'href="{RUNS}"' not in content
