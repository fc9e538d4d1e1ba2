from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from breakglass import secrets, services
from breakglass.models import Grant, RootCredential
from breakglass.tests.factories import AwsAccountFactory
from ledger.models import LedgerEntry
from portal.errors import DomainError

pytestmark = pytest.mark.django_db

PASSWORD = "Very-Long-Root-Password-4711!"


def raw_ciphertext(credential: RootCredential) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ciphertext FROM {RootCredential._meta.db_table} WHERE id = %s", [credential.pk]
        )
        return bytes(cursor.fetchone()[0])


def test_a_password_stored_in_the_portal_is_encrypted_and_readable_back(
    administrator: Any, account: Any
) -> None:
    credential = services.root_credential_store_in_portal(
        actor=administrator, account=account, password=PASSWORD
    )

    stored = RootCredential.objects.get(pk=credential.pk)
    assert PASSWORD.encode() not in raw_ciphertext(stored)
    assert secrets.reveal_root_password(credential=stored) == PASSWORD
    entry = LedgerEntry.objects.get(action="root_credential.stored_in_portal")
    assert PASSWORD not in str(entry.data)
    assert entry.data["key_id"] == stored.encryption_key_id


def test_it_refuses_a_short_root_password(administrator: Any, account: Any) -> None:
    with pytest.raises(DomainError) as caught:
        services.root_credential_store_in_portal(actor=administrator, account=account, password="short")
    assert "at least 20 characters" in caught.value.message_dict["password"][0]
    assert not RootCredential.objects.exists()


def test_a_centralised_account_has_no_root_password(administrator: Any) -> None:
    account = AwsAccountFactory(governance_mode="centralised")
    with pytest.raises(DomainError, match="centralised"):
        services.root_credential_store_in_portal(actor=administrator, account=account, password=PASSWORD)
    credential = services.root_credential_record_none(actor=administrator, account=account)
    assert credential.storage == "none"


def test_moving_a_password_to_the_safe_destroys_the_portal_copy(administrator: Any, account: Any) -> None:
    services.root_credential_store_in_portal(actor=administrator, account=account, password=PASSWORD)
    credential = services.root_credential_record_physical(
        actor=administrator, account=account, safe_location="Safe A", envelope_number="ENV-1"
    )
    credential.refresh_from_db()
    assert credential.ciphertext is None
    assert credential.storage == "physical"
    entry = LedgerEntry.objects.get(action="root_credential.recorded_physical")
    assert entry.data["previous_storage"] == "portal"
    assert entry.data["envelope_number"] == "ENV-1"


def test_a_physical_credential_needs_a_safe_and_an_envelope(administrator: Any, account: Any) -> None:
    with pytest.raises(DomainError) as caught:
        services.root_credential_record_physical(
            actor=administrator, account=account, safe_location=" ", envelope_number=""
        )
    assert set(caught.value.message_dict) == {"safe_location", "envelope_number"}


def test_a_grant_makes_a_requester_eligible_until_it_expires(
    administrator: Any, requester: Any, account: Any
) -> None:
    expires = timezone.now() + timedelta(days=30)
    grant = services.grant_create(actor=administrator, user=requester, account=account, expires_at=expires)
    assert grant.granted_by == administrator
    assert grant.last_reviewed_at is not None
    assert LedgerEntry.objects.get(action="grant.created").data["user"] == "rita.requester"


def test_it_refuses_a_grant_to_someone_without_the_requester_role(
    administrator: Any, auditor: Any, account: Any
) -> None:
    with pytest.raises(DomainError) as caught:
        services.grant_create(
            actor=administrator, user=auditor, account=account, expires_at=timezone.now() + timedelta(days=1)
        )
    assert "Requester role" in caught.value.message_dict["user"][0]


def test_it_refuses_a_grant_that_has_already_expired(
    administrator: Any, requester: Any, account: Any
) -> None:
    with pytest.raises(DomainError) as caught:
        services.grant_create(
            actor=administrator,
            user=requester,
            account=account,
            expires_at=timezone.now() - timedelta(minutes=1),
        )
    assert "future" in caught.value.message_dict["expires_at"][0]


def test_it_refuses_a_second_live_grant_but_allows_one_after_revocation(
    administrator: Any, requester: Any, account: Any
) -> None:
    expires = timezone.now() + timedelta(days=30)
    grant = services.grant_create(actor=administrator, user=requester, account=account, expires_at=expires)
    with pytest.raises(DomainError, match="already holds a grant"):
        services.grant_create(actor=administrator, user=requester, account=account, expires_at=expires)

    services.grant_revoke(actor=administrator, grant=grant)
    services.grant_create(actor=administrator, user=requester, account=account, expires_at=expires)
    assert Grant.objects.filter(user=requester, account=account).count() == 2


def test_revoking_twice_is_refused(administrator: Any, requester: Any, account: Any) -> None:
    grant = services.grant_create(
        actor=administrator, user=requester, account=account, expires_at=timezone.now() + timedelta(days=1)
    )
    services.grant_revoke(actor=administrator, grant=grant)
    with pytest.raises(DomainError, match="already revoked"):
        services.grant_revoke(actor=administrator, grant=grant)


def test_a_review_moves_the_expiry_and_records_the_reviewer(
    administrator: Any, requester: Any, account: Any
) -> None:
    grant = services.grant_create(
        actor=administrator, user=requester, account=account, expires_at=timezone.now() + timedelta(days=1)
    )
    later = timezone.now() + timedelta(days=60)
    services.grant_review(actor=administrator, grant=grant, expires_at=later)
    grant.refresh_from_db()
    assert grant.expires_at == later
    assert grant.last_reviewed_by == administrator
    assert LedgerEntry.objects.filter(action="grant.reviewed").exists()


# --- Bounds on a grant's expiry (issue 8, item 8) -----------------------------------------------


def test_a_grant_cannot_be_created_for_longer_than_the_configured_maximum(
    administrator: Any, requester: Any, account: Any, settings: Any
) -> None:
    settings.PORTAL_GRANT_MAX_DAYS = 30
    with pytest.raises(DomainError, match="at most 30 days") as refused:
        services.grant_create(
            actor=administrator,
            user=requester,
            account=account,
            expires_at=timezone.now() + timedelta(days=31),
        )
    assert "expires_at" in refused.value.message_dict
    assert not Grant.objects.exists()
    services.grant_create(
        actor=administrator, user=requester, account=account, expires_at=timezone.now() + timedelta(days=29)
    )


def test_a_review_cannot_move_the_expiry_to_the_year_9999(
    administrator: Any, requester: Any, account: Any
) -> None:
    grant = services.grant_create(
        actor=administrator, user=requester, account=account, expires_at=timezone.now() + timedelta(days=1)
    )
    before = Grant.objects.get(pk=grant.pk).expires_at
    with pytest.raises(DomainError, match="at most 365 days"):
        services.grant_review(
            actor=administrator,
            grant=grant,
            expires_at=timezone.now().replace(year=9999),
        )
    assert Grant.objects.get(pk=grant.pk).expires_at == before
    assert not LedgerEntry.objects.filter(action="grant.reviewed").exists()


def test_a_physical_envelope_number_with_a_bidi_control_is_refused(administrator: Any, account: Any) -> None:
    with pytest.raises(DomainError, match="U\\+2066") as refused:
        services.root_credential_record_physical(
            actor=administrator, account=account, safe_location="Safe A", envelope_number="E-\u20661234"
        )
    assert "envelope_number" in refused.value.message_dict
