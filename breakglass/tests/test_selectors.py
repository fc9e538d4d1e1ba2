"""``breakglass.selectors.visible_accounts_filter``: exactly which accounts each person sees, once each.

The pages that show the rule (``views/test_account_list.py``) cover a requester and an auditor; this
pins the filter itself for every way of seeing an account and every way of not seeing one, so that
how the filter is written (joins or subqueries) cannot change the set.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from breakglass.models import AwsAccount
from breakglass.selectors import visible_accounts_filter
from breakglass.tests.factories import AwsAccountFactory, GrantFactory
from portal.policy import Role

pytestmark = pytest.mark.django_db


def _seen(user: Any) -> list[str]:
    """The names of the accounts the filter selects (every caller reads it as a set: through a
    ``pk__in`` subquery or ``distinct()``), sorted."""
    return sorted(
        AwsAccount.objects.filter(visible_accounts_filter(user)).distinct().values_list("name", flat=True)
    )


def test_each_person_sees_exactly_the_accounts_of_their_live_grants_approvals_and_custody(
    make_persona: Callable[..., Any],
    administrator: Any,
    auditor: Any,
    requester: Any,
    approver: Any,
    custodian: Any,
    outsider: Any,
) -> None:
    now = timezone.now()
    names = ["granted", "expired", "revoked", "approved", "kept", "both", "regranted", "nobodys"]
    accounts = {name: AwsAccountFactory(name=name) for name in names}
    expired = make_persona("eve.expired", Role.REQUESTER)
    revoked = make_persona("rob.revoked", Role.REQUESTER)
    two_roles = make_persona("tess.two", Role.REQUESTER, Role.APPROVER, Role.CUSTODIAN)
    nobody = make_persona("nora.norole", Role.REQUESTER)

    GrantFactory(user=requester, account=accounts["granted"])
    # A dead grant of one person and a live grant of another on the same account: the live grant's
    # holder sees it, the dead grant's does not (the conditions hold of one and the same grant).
    GrantFactory(user=expired, account=accounts["expired"], expires_at=now - timedelta(minutes=1))
    GrantFactory(user=revoked, account=accounts["revoked"], revoked_at=now)
    GrantFactory(user=requester, account=accounts["expired"])
    GrantFactory(user=requester, account=accounts["revoked"])
    # Expired for one person, revoked for the other: neither sees the account through these.
    GrantFactory(user=expired, account=accounts["nobodys"], revoked_at=now)
    GrantFactory(user=revoked, account=accounts["nobodys"], expires_at=now - timedelta(days=1))
    accounts["approved"].approvers.add(approver)
    accounts["kept"].custodians.add(custodian)
    # Every way at once on one account, with a past grant too: still one row.
    both = accounts["both"]
    both.approvers.add(two_roles, approver)
    both.custodians.add(two_roles, custodian)
    GrantFactory(user=two_roles, account=both, revoked_at=now)
    GrantFactory(user=two_roles, account=both)
    # Revoked and then granted again: seen, once.
    GrantFactory(user=revoked, account=accounts["regranted"], revoked_at=now)
    GrantFactory(user=revoked, account=accounts["regranted"])
    # Without a role in the portal a grant, an approval or custody shows nothing.
    GrantFactory(user=outsider, account=accounts["granted"])
    accounts["approved"].approvers.add(outsider)
    accounts["kept"].custodians.add(outsider)

    everything = sorted(names)
    assert _seen(administrator) == everything
    assert _seen(auditor) == everything
    assert _seen(requester) == ["expired", "granted", "revoked"]
    assert _seen(expired) == []
    assert _seen(revoked) == ["regranted"]
    assert _seen(approver) == ["approved", "both"]
    assert _seen(custodian) == ["both", "kept"]
    assert _seen(two_roles) == ["both"]
    assert _seen(nobody) == []
    assert _seen(outsider) == []


def test_the_filter_reads_the_persons_own_rows_without_joining_or_repeating_accounts(
    make_persona: Callable[..., Any], approver: Any, custodian: Any
) -> None:
    """Joins from every account to its grants, approvers and custodians cost tens of milliseconds
    at 5,000 accounts and repeat an account per grant and link; subqueries on the person do neither."""
    person = make_persona("tess.two", Role.REQUESTER, Role.APPROVER, Role.CUSTODIAN)
    account = AwsAccountFactory(name="both")
    account.approvers.add(person, approver)
    account.custodians.add(person, custodian)
    GrantFactory(user=person, account=account, revoked_at=timezone.now())
    GrantFactory(user=person, account=account)
    GrantFactory(account=account)
    seen = AwsAccount.objects.filter(visible_accounts_filter(person))
    assert list(seen.values_list("name", flat=True)) == ["both"]
    assert " JOIN " not in str(seen.values("pk").query)
