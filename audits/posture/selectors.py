"""Reads of the posture pages, for the person asking: one account's checks, and the organization's
controls with a score each and the accounts failing them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import Q
from django.http import Http404

from audits.choices import FindingStatus, PostureStatus
from audits.models import Finding, RootAuditRun
from audits.posture.controls import CONTROLS, POSTURE_KINDS, Check, Control
from audits.posture.models import PostureResult
from breakglass import selectors as inventory
from breakglass.models import AwsAccount
from portal import policy

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from audits.selectors import AnyUser

#: The order of an account's verdict on a control: the worst of its checks wins.
_RANK = {
    PostureStatus.FAIL: 3,
    PostureStatus.ERROR: 2,
    PostureStatus.PASS: 1,
    PostureStatus.NOT_APPLICABLE: 0,
}


@dataclass(frozen=True)
class PostureFilter:
    environment: str = ""
    control: str = ""
    # "fail", "error": only controls with accounts in that state.
    state: str = ""


@dataclass
class AccountVerdict:
    account: AwsAccount | None
    status: str
    reasons: list[str]


@dataclass
class ControlScore:
    control: Control
    verdicts: list[AccountVerdict] = field(default_factory=list)

    def _count(self, status: str) -> int:
        return sum(1 for verdict in self.verdicts if verdict.status == status)

    @property
    def passed(self) -> int:
        return self._count(PostureStatus.PASS)

    @property
    def failed(self) -> int:
        return self._count(PostureStatus.FAIL)

    @property
    def errors(self) -> int:
        return self._count(PostureStatus.ERROR)

    @property
    def score(self) -> int | None:
        """Percent of the accounts it applies to that pass (None: nothing checked yet)."""
        judged = self.passed + self.failed
        return round(100 * self.passed / judged) if judged else None

    @property
    def failing(self) -> list[AccountVerdict]:
        return [verdict for verdict in self.verdicts if verdict.status == PostureStatus.FAIL]

    @property
    def unchecked(self) -> list[AccountVerdict]:
        return [verdict for verdict in self.verdicts if verdict.status == PostureStatus.ERROR]


def account_posture_for(*, user: AnyUser, uuid: UUID) -> AwsAccount:
    """An account the person may see (404 otherwise), for its posture page."""
    return inventory.account_for(user=user, uuid=uuid)


def account_results(*, account: AwsAccount) -> list[PostureResult]:
    """The account's latest check results, in the order of the checks; the organization's own last."""
    order = {check.value: index for index, check in enumerate(Check)}
    results = list(PostureResult.objects.filter(account=account))
    organization = PostureResult.objects.filter(account__isnull=True).first()
    if organization is not None:
        results.append(organization)
    return sorted(results, key=lambda result: order.get(result.check_name, len(order)))


def account_posture_findings(*, account: AwsAccount) -> QuerySet[Finding]:
    return Finding.objects.filter(
        account=account, kind__in=POSTURE_KINDS, status__in=(FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED)
    ).order_by("kind", "dedupe_key")


def last_checked(results: list[PostureResult]) -> datetime | None:
    return max((result.checked_at for result in results), default=None)


def organization_scores(*, user: AnyUser, filters: PostureFilter) -> list[ControlScore]:
    """Each control's verdict per account (the worst of its checks), for the organization's page."""
    if not policy.may_view_organization_posture(user):
        return []
    results = PostureResult.objects.select_related("account").order_by("account__name")
    if filters.environment:
        results = results.filter(account__environment=filters.environment) | PostureResult.objects.filter(
            account__isnull=True
        )
    by_account: dict[int | None, dict[str, PostureResult]] = defaultdict(dict)
    accounts: dict[int | None, AwsAccount | None] = {}
    for result in results:
        by_account[result.account_id][result.check_name] = result
        accounts[result.account_id] = result.account
    scores = []
    for control in CONTROLS:
        if filters.control and control.id != filters.control:
            continue
        score = ControlScore(control)
        for account_pk, checks in by_account.items():
            found = [checks[check] for check in control.checks if check in checks]
            if not found:
                continue
            worst = max(found, key=lambda result: _RANK[PostureStatus(result.status)])
            if worst.status == PostureStatus.NOT_APPLICABLE:
                continue
            reasons = [result.reason for result in found if result.status == worst.status]
            score.verdicts.append(AccountVerdict(accounts[account_pk], worst.status, reasons))
        if filters.state == "fail" and not score.failed:
            continue
        if filters.state == "error" and not score.errors:
            continue
        scores.append(score)
    return scores


def accounts_for_contacts(
    *, user: AnyUser, environment: str = "", uuid: UUID | None = None, ou: str = ""
) -> list[AwsAccount]:
    """The accounts a contacts fix applies to: one account, every account of an environment, or every
    account in an OU and the OUs under it (``Root/Workloads`` holds ``Root/Workloads/Prod``'s too)."""
    if not policy.may_set_alternate_contacts(user):
        return []
    accounts = AwsAccount.objects.order_by("name")
    if uuid is not None:
        return list(accounts.filter(uuid=uuid))
    if environment:
        return list(accounts.filter(environment=environment))
    if ou:
        path = ou.rstrip("/")
        return list(accounts.filter(Q(ou_path=path) | Q(ou_path__startswith=f"{path}/")))
    return []


def root_audit_for(*, user: AnyUser, uuid: UUID) -> RootAuditRun:
    """A root credentials audit run, for whoever sees the organization's posture (404 otherwise)."""
    if not policy.may_view_organization_posture(user):
        raise Http404("No such audit.")
    run = RootAuditRun.objects.select_related("requested_by").filter(uuid=uuid).first()
    if run is None:
        raise Http404("No such audit.")
    return run


def latest_root_audit() -> RootAuditRun | None:
    """The newest audit run, for the organization page (whoever may see that page may see it)."""
    return RootAuditRun.objects.select_related("requested_by").order_by("-created_at").first()
