"""Setting missing alternate contacts from the portal (``account:PutAlternateContact`` from the
management account with ``AccountId``), for one account or every account of an environment.

Only *missing* contacts are set: each account's contacts are read again just before, so a contact
someone set in the console since the last check is never overwritten. Each contact set is a ledger
entry (``posture.contact_set``) written in the transaction that makes the AWS call, before it: if the
ledger cannot be written AWS is not called (fail closed), and if AWS refuses, the entry rolls back and
a ``posture.contact_set_failed`` entry says so. The accounts changed are checked again at once (after
commit), so their ``alternate_contact_missing`` findings resolve without waiting for the next day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction

from audits.posture import aws
from audits.posture.aws import Contact
from audits.posture.controls import CONTACT_TYPES
from audits.posture.tasks import queue_check
from audits.sources.aws import describe_error
from ledger import services as ledger
from portal import policy
from portal.errors import DomainError
from portal.validators import check_plain_names

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from breakglass.models import AwsAccount


@dataclass
class ContactsFixed:
    """What happened to one account: contacts set, already there, and why any could not be set."""

    account_id: str
    name: str
    set: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def alternate_contacts_set(
    *,
    actor: AbstractBaseUser,
    accounts: Sequence[AwsAccount],
    contact_types: Sequence[str],
    contact: Contact,
) -> list[ContactsFixed]:
    """Set the missing ``contact_types`` of each account to ``contact``; one account's refusal does
    not stop the others. Queues a posture check of the accounts that changed."""
    if not policy.may_set_alternate_contacts(actor):
        raise DomainError("Only administrators with MFA can set alternate contacts.")
    if not accounts:
        raise DomainError("No account to set contacts on.")
    unknown = sorted(set(contact_types) - set(CONTACT_TYPES))
    if unknown or not contact_types:
        raise DomainError({"contact_types": "Choose billing, operations or security."})
    check_plain_names({"name": contact.name, "title": contact.title})
    organization = aws.Organization()
    results = [_fix_one(actor, organization, account, contact_types, contact) for account in accounts]
    changed = sorted(result.account_id for result in results if result.set)
    if changed:
        queue_check(changed)
    return results


def _fix_one(
    actor: AbstractBaseUser,
    organization: aws.Organization,
    account: AwsAccount,
    contact_types: Sequence[str],
    contact: Contact,
) -> ContactsFixed:
    result = ContactsFixed(account_id=account.account_id, name=account.name)
    current = organization.contacts(account.account_id)
    for kind in contact_types:
        answer = current[kind]
        if not answer.ok:
            result.errors.append(answer.error)
            continue
        if answer.value is not None:
            result.already.append(kind)
            continue
        data = {
            "account_id": account.account_id,
            "contact_type": kind,
            "name": contact.name,
            "title": contact.title,
            "email": contact.email,
        }
        try:
            with transaction.atomic():
                ledger.record(actor=actor, action="posture.contact_set", target=account, data=data)
                organization.put_contact(account.account_id, kind, contact)
        except aws.Failure as exc:
            reason = f"PutAlternateContact {kind}: {describe_error(exc)}"
            result.errors.append(reason)
            with transaction.atomic():
                ledger.record(
                    actor=actor,
                    action="posture.contact_set_failed",
                    target=account,
                    data={**data, "reason": reason},
                )
            continue
        result.set.append(kind)
    return result
