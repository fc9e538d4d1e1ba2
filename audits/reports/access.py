"""The access report, as it stands when generated: per account who may request its root user (live
grants with their granter, expiry and last review), who approves and with what quorum, who keeps
custody, and which MFA devices guard it and where each one is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet

from audits.reports.base import Report, ReportFilter, Row, in_chunks, iso, may_read, username
from breakglass.models import AwsAccount, Grant, MfaDevice, live_grant_q

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from audits.reports.base import AnyUser

ACCESS_COLUMNS = (
    "account_id",
    "account_name",
    "environment",
    "approval_quorum",
    "kind",
    "person",
    "granted_by",
    "granted_at",
    "expires_at",
    "emergency",
    "last_reviewed_at",
    "last_reviewed_by",
    "device_serial",
    "device_kind",
    "custody_state",
    "holder",
    "storage_location",
)


def accounts_for_report(*, user: AnyUser | None, filters: ReportFilter | None = None) -> QuerySet[AwsAccount]:
    """Accounts by name with their live grants, approvers, custodians and devices loaded per chunk."""
    if not may_read(user):
        return AwsAccount.objects.none()
    q = Q()
    if filters is not None:
        if filters.account_id:
            q &= Q(account_id=filters.account_id)
        if filters.environment:
            q &= Q(environment=filters.environment)
    return (
        AwsAccount.objects.filter(q)
        .prefetch_related(
            Prefetch(
                "grants",
                queryset=Grant.objects.filter(live_grant_q())
                .select_related("user", "granted_by", "last_reviewed_by")
                .order_by("user__username"),
            ),
            "approvers",
            "custodians",
            Prefetch(
                "mfa_devices", queryset=MfaDevice.objects.select_related("holder").order_by("serial_number")
            ),
        )
        .order_by("name", "pk")
    )


def _blank(account: AwsAccount, kind: str) -> Row:
    row: Row = dict.fromkeys(ACCESS_COLUMNS)
    row.update(
        account_id=account.account_id,
        account_name=account.name,
        environment=account.environment,
        approval_quorum=account.approval_quorum,
        kind=kind,
    )
    return row


def account_rows(account: AwsAccount, person: str = "") -> Iterator[Row]:
    """One row per grant, approver, custodian and MFA device of the account (``person`` narrows the
    people rows to one username)."""

    def wanted(user: AbstractBaseUser | None) -> bool:
        return not person or (user is not None and user.get_username() == person)

    for grant in account.grants.all():
        if wanted(grant.user):
            yield _blank(account, "grant") | {
                "person": username(grant.user),
                "granted_by": username(grant.granted_by),
                "granted_at": iso(grant.created_at),
                "expires_at": iso(grant.expires_at),
                "emergency": grant.emergency,
                "last_reviewed_at": iso(grant.last_reviewed_at),
                "last_reviewed_by": username(grant.last_reviewed_by),
            }
    for kind, people in (("approver", account.approvers.all()), ("custodian", account.custodians.all())):
        for member in sorted(people, key=lambda member: member.get_username()):
            if wanted(member):
                yield _blank(account, kind) | {"person": username(member)}
    for device in account.mfa_devices.all():
        if wanted(device.holder) or not person:
            yield _blank(account, "mfa_device") | {
                "device_serial": device.serial_number,
                "device_kind": device.kind,
                "custody_state": device.custody_state,
                "holder": username(device.holder),
                "storage_location": device.storage_location,
            }


def access_rows(*, user: AnyUser | None, filters: ReportFilter | None = None) -> Iterator[Row]:
    person = filters.person if filters is not None else ""
    for chunk in in_chunks(accounts_for_report(user=user, filters=filters)):
        for account in chunk:
            yield from account_rows(account, person)


def access_count(*, user: AnyUser | None, filters: ReportFilter | None = None) -> int | None:
    return None  # rows per account vary; counted while written


REPORT = Report(
    name="access",
    title="Access to root users",
    columns=ACCESS_COLUMNS,
    rows=access_rows,
    count=access_count,
    filter_fields=("account", "environment", "person"),
)
