"""Every write of the AssumeRoot layer about issued keys: each with its ledger entry, in one
transaction."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction

from audits.assume_root.models import IssuedRootKey
from ledger import services as ledger

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def issued_key_record(
    *,
    access_key_id: str,
    account_id: str,
    task_code: str,
    task_policy_arn: str,
    purpose: str,
    reference: str,
    issued_at: datetime,
    expires_at: datetime | None,
    actor: AbstractBaseUser | None = None,
) -> IssuedRootKey:
    """Record a key the portal obtained, before the key is used (``assume_root.key_issued``): the
    reconciliation then knows every member-account record made with it is the portal's."""
    with transaction.atomic():
        key = IssuedRootKey.objects.create(
            access_key_id=access_key_id,
            account_id=account_id,
            task_code=task_code,
            task_policy_arn=task_policy_arn,
            purpose=purpose,
            reference=reference[:100],
            issued_at=issued_at,
            expires_at=expires_at,
        )
        ledger.record(
            actor=actor,
            action="assume_root.key_issued",
            target=key,
            data={
                "account_id": account_id,
                "task": task_code,
                "task_policy_arn": task_policy_arn,
                "purpose": purpose,
                "reference": reference[:100],
                "access_key_id": access_key_id,
                "expires_at": expires_at.isoformat() if expires_at else "",
            },
        )
    return key
