"""``account_edit``: an administrator changes an account's governance after re-authenticating; the
ledger records ``account.updated``."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.tests.factories import AwsAccountFactory
from breakglass.tests.views.support import ledger_entry
from portal.testing import step_up

pytestmark = pytest.mark.django_db


def test_an_administrator_renames_an_account_after_stepping_up(
    client: Client, administrator: Any, account: Any, account_form_data: dict[str, Any]
) -> None:
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(
        reverse("breakglass:account_edit", kwargs={"uuid": account.uuid}),
        {**account_form_data, "account_id": account.account_id, "name": "payments-production"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("breakglass:account_detail", kwargs={"uuid": account.uuid})
    account.refresh_from_db()
    assert account.name == "payments-production"
    entry = ledger_entry("account.updated", account)
    assert entry.actor == administrator
    assert "name" in entry.data["changes"]


def test_saving_an_imported_account_with_its_people_governs_it_and_says_so(
    client: Client, administrator: Any, account_form_data: dict[str, Any]
) -> None:
    imported = AwsAccountFactory(governed=False, organization_state="ACTIVE", ou_path="Root/Prod")
    client.force_login(administrator)
    step_up(client, administrator)
    url = reverse("breakglass:account_edit", kwargs={"uuid": imported.uuid})

    without_custodians = client.post(
        url, {**account_form_data, "account_id": imported.account_id, "custodians": []}, follow=True
    )
    assert "still ungoverned" in without_custodians.content.decode()
    imported.refresh_from_db()
    assert not imported.governed

    governed = client.post(url, {**account_form_data, "account_id": imported.account_id}, follow=True)
    assert "It is governed now" in governed.content.decode()
    imported.refresh_from_db()
    assert imported.governed
