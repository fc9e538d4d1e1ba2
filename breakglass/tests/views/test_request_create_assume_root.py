"""The request form for AssumeRoot tasks: the bucket and queue fields, their errors on the page, and
the steering of a password task to AssumeRoot where it reaches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from breakglass.choices import GovernanceMode
from breakglass.models import AccessRequest
from breakglass.tests.factories import AwsAccountFactory, GrantFactory
from breakglass.tests.views.support import page, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def centralised(requester: Any, approver: Any) -> Any:
    account = AwsAccountFactory(
        name="data-lake",
        account_id="222222222222",
        governance_mode=GovernanceMode.CENTRALISED,
        ticket_required=False,
    )
    account.approvers.set([approver])
    GrantFactory(user=requester, account=account)
    return account


def _post(client: Client, account: Any, **data: Any) -> Any:
    return client.post(
        url("request_create"),
        {
            "account": account.pk,
            "justification": "The orders bucket policy denies everyone, including the administrators.",
            "starts_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 30,
            **data,
        },
    )


def test_the_form_offers_the_target_fields_and_explains_assume_root(
    signed_in: Callable[..., Client], requester: Any, centralised: Any
) -> None:
    html = page(signed_in(requester).get(url("request_create")))
    assert 'name="bucket_name"' in html
    assert 'name="queue_url"' in html
    assert 'data-hint-for="assume_root_any"' in html
    assert 'data-assume-root="true"' in html


def test_a_bad_bucket_name_is_shown_on_its_field_and_nothing_is_filed(
    signed_in: Callable[..., Client], requester: Any, centralised: Any
) -> None:
    response = _post(
        signed_in(requester), centralised, root_task="assume_root_s3_unlock", bucket_name="Orders_Bucket"
    )
    assert response.status_code == 200
    html = page(response)
    assert "lower-case letters, digits, dots and hyphens" in html
    assert not AccessRequest.objects.exists()


def test_a_queue_of_another_account_is_refused_on_its_field(
    signed_in: Callable[..., Client], requester: Any, centralised: Any
) -> None:
    response = _post(
        signed_in(requester),
        centralised,
        root_task="assume_root_sqs_unlock",
        queue_url="https://sqs.eu-west-1.amazonaws.com/999999999999/orders",
    )
    assert "belongs to account 999999999999, not to 222222222222" in page(response)
    assert not AccessRequest.objects.exists()


def test_a_valid_unlock_request_is_filed_with_its_bucket_and_shown(
    signed_in: Callable[..., Client], requester: Any, centralised: Any
) -> None:
    client = signed_in(requester)
    response = _post(client, centralised, root_task="assume_root_s3_unlock", bucket_name="orders-archive")
    filed = AccessRequest.objects.get()
    assert response["Location"] == url("request_detail", filed)
    html = page(client.get(url("request_detail", filed)))
    assert "orders-archive" in html
    assert "carried out by the portal" in html


def test_a_password_task_is_steered_to_assume_root_where_it_reaches(
    signed_in: Callable[..., Client], requester: Any, account: Any
) -> None:
    account.root_sessions_enabled = True
    account.ticket_required = False
    account.save()
    GrantFactory(user=requester, account=account)
    client = signed_in(requester)

    steered = _post(client, account, root_task="unlock_bucket_policy")
    assert "AssumeRoot can do this on payments-prod without handing out the password" in page(steered)
    assert not AccessRequest.objects.exists()

    _post(client, account, root_task="unlock_bucket_policy", password_needed="on")
    assert AccessRequest.objects.get().root_task == "unlock_bucket_policy"
