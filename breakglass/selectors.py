"""Every permission-aware read of the inventory. List pages, detail pages and exports share these,
so what a person sees on a page is exactly what they may export."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from breakglass.choices import CustodyState, MfaDeviceKind
from breakglass.models import AwsAccount, Grant, MfaDevice, MfaDeviceAssignment, live_grant_q
from portal import policy
from portal.policy import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

    AnyUser = AbstractBaseUser | AnonymousUser


def _live_grants() -> QuerySet[Grant]:
    return Grant.objects.live().select_related("user").order_by("user__username")


def visible_accounts_filter(user: AnyUser) -> Q:
    """A filter on ``AwsAccount`` for the accounts a person may see.

    Administrators and auditors see all; everyone else sees the accounts they hold a live grant
    for, approve for or are custodian of. Nobody else sees anything.
    """
    if not policy.may_use_portal(user):
        return Q(pk__in=[])
    if policy.sees_every_account(user):
        return Q()
    # Three subqueries on the person's own rows rather than joins from every account to its grants,
    # approvers and custodians: the same set (a live grant of the person, or a link to the account),
    # without rows repeated per grant and link, and read through the person's indexes.
    live_grants = Grant.objects.filter(live_grant_q(), user=user.pk).values("account_id")
    approves = AwsAccount.approvers.through.objects.filter(user=user.pk).values("awsaccount_id")
    keeps = AwsAccount.custodians.through.objects.filter(user=user.pk).values("awsaccount_id")
    return Q(pk__in=live_grants) | Q(pk__in=approves) | Q(pk__in=keeps)


def account_id_prefix(text: str) -> str | None:
    """The digits of an account id as people type it (``1234-5678-9012``, ``1234 5678``), or None when
    the text is not one: only ASCII digits, since ids are stored as such."""
    digits = "".join(ch for ch in text if ch not in "- ")
    return digits if digits.isascii() and digits.isdigit() else None


def account_search_q(text: str, *, prefix: str = "") -> Q:
    """What a search for accounts matches: the name, or the account id typed as the console shows it
    or as a prefix of its digits. ``prefix`` names the account from another model (``account__``)."""
    found = Q(**{f"{prefix}name__icontains": text})
    digits = account_id_prefix(text)
    if digits:
        found |= Q(**{f"{prefix}account_id__startswith": digits})
    return found


def account_id_named(text: str) -> str | None:
    """The id of the one account a name (exact, any case) or else a search picks out; None when it
    picks none or several."""
    exact = list(
        AwsAccount.objects.filter(name__iexact=text.strip()).values_list("account_id", flat=True)[:2]
    )
    if len(exact) == 1:
        return exact[0]
    found = list(
        AwsAccount.objects.filter(account_search_q(text.strip())).values_list("account_id", flat=True)[:2]
    )
    return found[0] if len(found) == 1 else None


def accounts_visible_to(*, user: AnyUser, search: str = "", environment: str = "") -> QuerySet[AwsAccount]:
    """The accounts a person may see, with everything the list page shows prefetched, optionally
    narrowed by a search and an environment.

    The number of queries does not grow with the number of accounts, devices or grants.
    """
    ids = AwsAccount.objects.filter(visible_accounts_filter(user))
    if search:
        ids = ids.filter(account_search_q(search))
    if environment:
        ids = ids.filter(environment=environment)
    return (
        AwsAccount.objects.filter(pk__in=ids.values("pk"))
        .select_related("root_credential")
        .prefetch_related(
            "approvers",
            "custodians",
            Prefetch(
                "mfa_assignments",
                queryset=MfaDeviceAssignment.objects.select_related("device", "device__holder").order_by(
                    "device__label"
                ),
            ),
            Prefetch("grants", queryset=_live_grants(), to_attr="live_grants"),
        )
        .order_by("name")
    )


def account_for(*, user: AnyUser, uuid: UUID) -> AwsAccount:
    """One account the person may see, or 404 (whether it exists is not disclosed)."""
    try:
        return accounts_visible_to(user=user).get(uuid=uuid)
    except AwsAccount.DoesNotExist:
        raise Http404("No such account.") from None


def account_grants(*, user: AnyUser, account: AwsAccount) -> QuerySet[Grant]:
    """All grants of the account, live and past, for those who manage or audit; else none."""
    if not policy.sees_every_account(user):
        return Grant.objects.none()
    return account.grants.select_related("user", "granted_by", "last_reviewed_by").order_by(
        "revoked_at", "user__username"
    )


def device_search_q(text: str, *, among: QuerySet[AwsAccount] | None = None) -> Q:
    """What a search for devices matches: label, serial, or the name of an account it protects, among
    ``among`` only when given (a custodian's search must not tell which other accounts a key protects)."""
    protected = MfaDeviceAssignment.objects.filter(account__name__icontains=text)
    if among is not None:
        protected = protected.filter(account__in=among)
    return Q(label__icontains=text) | Q(serial_number__icontains=text) | Q(pk__in=protected.values("device"))


def devices_visible_to(*, user: AnyUser, search: str = "", custody: str = "") -> QuerySet[MfaDevice]:
    """The devices a person may see: administrators and auditors every device (assigned or not);
    a custodian only the devices on accounts he keeps, as on his custody board."""
    if not policy.may_view_devices(user):
        return MfaDevice.objects.none()
    devices = MfaDevice.objects.all()
    assignments = MfaDeviceAssignment.objects.select_related("account")
    kept: QuerySet[AwsAccount] | None = None
    if not policy.sees_every_account(user):
        kept = AwsAccount.objects.filter(custodians=user.pk)
        devices = devices.filter(pk__in=MfaDevice.objects.filter(assignments__account__in=kept).values("pk"))
        # Only the accounts he keeps: a custodian need not learn what else a shared FIDO key protects.
        assignments = assignments.filter(account__in=kept)
    if search:
        devices = devices.filter(device_search_q(search, among=kept))
    if custody:
        devices = devices.filter(custody_state=custody)
    return (
        devices.select_related("holder")
        .prefetch_related(Prefetch("assignments", queryset=assignments))
        .annotate(account_count=Count("assignments"))
        .order_by("label")
    )


def device_for(*, user: AnyUser, uuid: UUID) -> MfaDevice:
    try:
        return devices_visible_to(user=user).get(uuid=uuid)
    except MfaDevice.DoesNotExist:
        raise Http404("No such MFA device.") from None


def grant_for(*, user: AnyUser, uuid: UUID) -> Grant:
    if not policy.may_manage_inventory(user):
        raise Http404("No such grant.")
    try:
        return Grant.objects.select_related("user", "account").get(uuid=uuid)
    except Grant.DoesNotExist:
        raise Http404("No such grant.") from None


def people_in_role(role: Role) -> QuerySet[User]:
    """Active people holding ``role``, for choosing approvers, custodians and grantees."""
    return get_user_model().objects.filter(is_active=True, groups__name=role.value).order_by("username")


def assignable_devices(*, account: AwsAccount) -> QuerySet[MfaDevice]:
    """Devices that could be added to the account (the service still checks every rule)."""
    return (
        MfaDevice.objects.exclude(assignments__account=account)
        .exclude(custody_state__in=[CustodyState.LOST, CustodyState.RETIRED])
        .exclude(kind=MfaDeviceKind.HARDWARE_TOTP, assignments__isnull=False)
        .order_by("label")
    )
