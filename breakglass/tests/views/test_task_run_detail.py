"""A run's result page: who may read it, and how a result reads (``task_run_views.found_rows``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from breakglass import custody, task_runs
from breakglass.choices import GovernanceMode
from breakglass.task_run_views import found_rows
from breakglass.tests.factories import AwsAccountFactory
from breakglass.tests.lifecycle_helpers import approve, make_request

pytestmark = pytest.mark.django_db

POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*"}]}'


def test_a_result_reads_as_labelled_lines_and_a_policy_as_a_block() -> None:
    rows = found_rows(
        {
            "mfa_devices_deactivated": ["GAHT1"],
            "policy_deleted": True,
            "removed_policy": POLICY,
            "access_keys": [],
        }
    )
    assert [(row.label, row.text, row.block) for row in rows[:2]] == [
        ("MFA devices deactivated", "GAHT1", False),
        ("Policy deleted", "yes", False),
    ]
    assert rows[2].block
    assert '"Effect": "Deny"' in rows[2].text  # laid out, not one long line
    assert rows[3].text == "none"


def test_the_result_page_is_for_those_who_see_the_request(
    requester: Any,
    approver: Any,
    second_approver: Any,
    outsider: Any,
    signed_in: Callable[..., Client],
) -> None:
    account = AwsAccountFactory(account_id="222222222222", governance_mode=GovernanceMode.CENTRALISED)
    account.approvers.set([approver])
    session = approve(make_request(requester, account, root_task="assume_root_audit_credentials"), approver)
    custody.access_request_check_out(request=session, requester=requester)
    run = task_runs.task_run_start(request=session, holder=requester)
    task_runs.task_run_finish(
        run=run,
        ok=False,
        error="RegionDisabledException: STS is not activated in this region.",
        access_key_id="",
        found={},
        finished_at=timezone.now(),
    )
    page = reverse("breakglass:task_run_detail", kwargs={"uuid": session.uuid, "run_uuid": run.uuid})

    html = signed_in(approver).get(page).content.decode()
    assert "RegionDisabledException: STS is not activated in this region." in html
    assert signed_in(outsider).get(page).status_code == 403  # no role in the portal
    assert signed_in(second_approver).get(page).status_code == 404  # no part in this request
    other = reverse("breakglass:task_run_detail", kwargs={"uuid": session.uuid, "run_uuid": session.uuid})
    assert signed_in(requester).get(other).status_code == 404
