"""Reads of the posture pages, for the person asking: one account's checks, and the organization's
controls with a score each and the accounts failing them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from django.db import connection
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404

from audits.choices import FindingStatus, PostureStatus
from audits.models import Finding, RootAuditRun
from audits.posture.controls import CONTROLS, KIND_BY_CHECK, POSTURE_KINDS, Check, Control
from audits.posture.models import PostureResult
from breakglass import selectors as inventory
from breakglass.models import AwsAccount
from portal import policy

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from audits.selectors import AnyUser

#: Accounts named per control on the organization's page.
ACCOUNTS_SHOWN = 20

#: The order of an account's verdict on a control: the worst of its checks wins.
_RANK = {
    PostureStatus.FAIL: 3,
    PostureStatus.ERROR: 2,
    PostureStatus.PASS: 1,
    PostureStatus.NOT_APPLICABLE: 0,
}
_STATUS_BY_RANK = {rank: status for status, rank in _RANK.items()}
_RANK_SQL = Case(
    *(When(status=status, then=Value(rank)) for status, rank in _RANK.items()),
    default=Value(0),
    output_field=IntegerField(),
)


@dataclass(frozen=True)
class PostureFilter:
    environment: str = ""
    control: str = ""
    # "fail", "error": only controls with accounts in that state.
    state: str = ""


@dataclass
class AccountVerdict:
    account_pk: int | None
    status: str
    reasons: list[str] = field(default_factory=list)
    # None: the organization's own check (centralised root access).
    account: AwsAccount | None = None


@dataclass
class ControlScore:
    """One control over the accounts: how many pass, fail or could not be checked (the worst of the
    control's checks per account), and the first ``ACCOUNTS_SHOWN`` failing or unchecked accounts by
    name (5,000 failing accounts would make a page of megabytes; the rest are the control's findings,
    which the findings page pages)."""

    control: Control
    counts: dict[str, int] = field(default_factory=dict)
    failing_shown: list[AccountVerdict] = field(default_factory=list)
    unchecked_shown: list[AccountVerdict] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return self.counts.get(PostureStatus.PASS, 0)

    @property
    def failed(self) -> int:
        return self.counts.get(PostureStatus.FAIL, 0)

    @property
    def errors(self) -> int:
        return self.counts.get(PostureStatus.ERROR, 0)

    @property
    def score(self) -> int | None:
        """Percent of the accounts it applies to that pass (None: nothing checked yet)."""
        judged = self.passed + self.failed
        return round(100 * self.passed / judged) if judged else None

    @property
    def not_shown(self) -> int:
        return self.failed + self.errors - len(self.failing_shown) - len(self.unchecked_shown)

    @property
    def finding_kind(self) -> str:
        """The finding kind a failing check of this control raises (the findings page's filter)."""
        return next((KIND_BY_CHECK[check] for check in self.control.checks if check in KIND_BY_CHECK), "")


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


@dataclass
class _Verdicts:
    """Per control (by its place in the list asked for): how many accounts have each verdict, and the
    first ``ACCOUNTS_SHOWN`` failing and unchecked accounts by name."""

    counts: list[dict[str, int]]
    shown: dict[tuple[int, str], list[int | None]]


def _verdicts(results: QuerySet[PostureResult], controls: list[Control]) -> _Verdicts:
    """Every control's verdicts in one query: an account's verdict on a control is the worst of the
    control's checks. It was two or three queries per control, each reading every result again (8
    controls: 16-24 aggregates, 90 ms of SQL at 5,000 accounts); the controls are constants, so they
    reach SQL as a ``VALUES`` list of (control, check) pairs and the results are grouped by control
    and account at once. A check may score several controls (the security contact: Account.1 and
    CIS 1.1)."""
    pairs = [(number, check) for number, control in enumerate(controls) for check in control.checks]
    # Django compiles the results (the environment filter, the rank); the wrapping SQL groups, counts
    # and ranks them, which Django cannot express over an aggregate.
    ranked = (
        results.filter(check_name__in=sorted({check for _number, check in pairs}))
        .order_by()
        .annotate(rank=_RANK_SQL)
        .values("account_id", "check_name", "rank")
    )
    sql, params = ranked.query.sql_with_params()
    fail, error = _RANK[PostureStatus.FAIL], _RANK[PostureStatus.ERROR]
    # Rows: per control and verdict, (control, rank, accounts, NULL, 0); then per failing or unchecked
    # account shown, (control, rank, NULL, account, position). The accounts shown are ordered by
    # ``place``, each account's position by (name, id) among all accounts: sorting 5,000 names once
    # is cheaper than sorting every failing verdict by name. The organization's own check has no
    # account, so a NULL place, which sorts where the database sorts a NULL name, as
    # ``order_by("account__name", "account")`` did.
    # Every value is a parameter; the inner SQL is Django's own compilation.
    wrapped = f"""
        WITH control_checks (control, check_name) AS (VALUES {", ".join(["(%s, %s)"] * len(pairs))}),
        per_account AS (
            SELECT control_checks.control, result.account_id, MAX(result.rank) AS worst
            FROM ({sql}) AS result
            JOIN control_checks ON control_checks.check_name = result.check_name
            GROUP BY control_checks.control, result.account_id
        ),
        places AS (
            SELECT id, ROW_NUMBER() OVER (ORDER BY name, id) AS place FROM {AwsAccount._meta.db_table}
        ),
        shown AS (
            SELECT per_account.control, per_account.worst, per_account.account_id,
                ROW_NUMBER() OVER (
                    PARTITION BY per_account.control, per_account.worst
                    ORDER BY places.place, per_account.account_id
                ) AS position
            FROM per_account LEFT JOIN places ON places.id = per_account.account_id
            WHERE per_account.worst IN (%s, %s)
        )
        SELECT control, worst, COUNT(*), NULL, 0 FROM per_account GROUP BY control, worst
        UNION ALL
        SELECT control, worst, NULL, account_id, position FROM shown WHERE position <= %s
        ORDER BY 5
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            wrapped, [value for pair in pairs for value in pair] + [*params, fail, error, ACCOUNTS_SHOWN]
        )
        rows = cursor.fetchall()
    verdicts = _Verdicts(counts=[{} for _control in controls], shown={})
    for number, rank, accounts, account_pk, _position in rows:
        if accounts is not None:
            verdicts.counts[number][_STATUS_BY_RANK[rank]] = accounts
        else:
            verdicts.shown.setdefault((number, _STATUS_BY_RANK[rank]), []).append(account_pk)
    return verdicts


def organization_scores(*, user: AnyUser, filters: PostureFilter) -> list[ControlScore]:
    """Each control's counts over the accounts (the worst of its checks per account) and the first
    failing and unchecked accounts by name, for the organization's page. Computed in the database: a
    fixed number of queries whatever the number of controls and accounts, none of them reading every
    result into Python (building 30,000 results with their accounts took the page 10 s at 5,000
    accounts)."""
    if not policy.may_view_organization_posture(user):
        return []
    results = PostureResult.objects.all()
    if filters.environment:
        results = results.filter(Q(account__environment=filters.environment) | Q(account__isnull=True))
    controls = [control for control in CONTROLS if not filters.control or control.id == filters.control]
    if not controls:
        return []
    verdicts = _verdicts(results, controls)
    scores = []
    for number, control in enumerate(controls):
        score = ControlScore(control, counts=verdicts.counts[number])
        if filters.state == "fail" and not score.failed:
            continue
        if filters.state == "error" and not score.errors:
            continue
        score.failing_shown = [
            AccountVerdict(pk, PostureStatus.FAIL)
            for pk in verdicts.shown.get((number, PostureStatus.FAIL), [])
        ]
        room = ACCOUNTS_SHOWN - len(score.failing_shown)
        score.unchecked_shown = [
            AccountVerdict(pk, PostureStatus.ERROR)
            for pk in verdicts.shown.get((number, PostureStatus.ERROR), [])[:room]
        ]
        scores.append(score)
    _name_accounts_and_reasons(scores)
    return scores


def _name_accounts_and_reasons(scores: list[ControlScore]) -> None:
    """The accounts and the reasons of the verdicts the page names, in two queries."""
    named = [(score, v) for score in scores for v in score.failing_shown + score.unchecked_shown]
    pks = {verdict.account_pk for _score, verdict in named if verdict.account_pk is not None}
    accounts = AwsAccount.objects.in_bulk(pks)
    reasons: dict[tuple[int | None, str], tuple[str, str]] = {
        (account_pk, check): (status, reason)
        for account_pk, check, status, reason in PostureResult.objects.filter(
            Q(account__in=pks) | Q(account__isnull=True)
        ).values_list("account_id", "check_name", "status", "reason")
    }
    for score, verdict in named:
        verdict.account = accounts.get(verdict.account_pk) if verdict.account_pk is not None else None
        for check in score.control.checks:
            status, reason = reasons.get((verdict.account_pk, check), ("", ""))
            if status == verdict.status:
                verdict.reasons.append(reason)


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
