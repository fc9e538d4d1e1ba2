"""Raising a finding and alerting on it: the one home of both, for reconciliation and for the
evidence the portal gathers about itself (a broken ledger, sign-in bursts).

A finding's code derives from its dedupe key, so the same finding gets the same code in any
database (a re-ingestion elsewhere, a restore); another slice of the digest is used on the rare
collision. The alert is queued in the caller's transaction together with ``alerted_at``, so it goes
out once: both happen, or neither (and the next run alerts).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction

from audits.choices import FindingKind, FindingStatus, Severity
from audits.models import Finding
from breakglass.notifications import outbox
from ledger import services as ledger
from portal.links import absolute_url

if TYPE_CHECKING:
    from breakglass.models import AccessRequest, AwsAccount

#: Event ids named in a ledger entry or an alert; the count says how many there were in all.
EVENT_IDS_SHOWN = 100


def finding_create(
    *,
    key: str,
    kind: str,
    severity: str,
    first_seen: datetime,
    last_seen: datetime,
    summary: str,
    aws_account_id: str = "",
    account: AwsAccount | None = None,
    session: AccessRequest | None = None,
) -> Finding:
    """Insert a new finding under its stable code. The caller writes the ledger entry."""
    digest = hashlib.sha256(key.encode()).hexdigest().upper()
    for offset in range(0, len(digest) - 6, 6):
        code = f"F-{first_seen.astimezone(UTC):%y%m%d}-{digest[offset : offset + 6]}"
        if Finding.objects.filter(code=code).exists():
            continue
        try:
            with transaction.atomic():
                return Finding.objects.create(
                    code=code,
                    kind=kind,
                    severity=severity,
                    dedupe_key=key,
                    aws_account_id=aws_account_id,
                    account=account,
                    session=session,
                    first_seen=first_seen,
                    last_seen=last_seen,
                    summary=summary,
                )
        except IntegrityError:
            continue  # the same code taken a moment ago by another account's reconciliation
    raise RuntimeError(f"no free finding code for {key}")  # pragma: no cover - 10 SHA-256 collisions


def finding_raise(
    *,
    key: str,
    kind: str,
    severity: str,
    first_seen: datetime,
    last_seen: datetime,
    summary: str,
    account: AwsAccount | None = None,
    aws_account_id: str = "",
    session: AccessRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> Finding:
    """Insert a new finding and its ``finding.raised`` ledger entry (code, kind, severity, account,
    session, summary, and ``detail``): the one way the evidence side's own checks (drills, device
    returns, access reviews, posture) raise a finding. Call it inside the caller's transaction."""
    finding = finding_create(
        key=key,
        kind=kind,
        severity=severity,
        first_seen=first_seen,
        last_seen=last_seen,
        summary=summary,
        aws_account_id=aws_account_id or (account.account_id if account is not None else ""),
        account=account,
        session=session,
    )
    data: dict[str, Any] = {
        "code": finding.code,
        "kind": finding.kind,
        "severity": finding.severity,
        "account_id": finding.aws_account_id,
        "summary": summary,
    }
    if session is not None:
        data["session"] = session.code
    ledger.record(actor=None, action="finding.raised", target=finding, data={**data, **(detail or {})})
    return finding


def finding_link(finding: Finding) -> str:
    """The finding's page, absolute, for alerts read outside the portal."""
    return absolute_url("audits:finding_detail", kwargs={"uuid": finding.uuid})


def alert_subject(code: str, kind: str, short_label: str) -> str:
    return f"{code} {FindingKind(kind).label}: {short_label}"


def finding_alert(
    *,
    finding: Finding,
    account: AwsAccount | None,
    short_label: str,
    event_ids: Iterable[str],
    now: datetime,
) -> bool:
    """Queue the alert of an open critical finding not yet alerted on; say whether one was queued.

    ``account`` picks the channels (its own, else the global ones and the administrators)."""
    if (
        finding.severity != Severity.CRITICAL
        or finding.status != FindingStatus.OPEN
        or finding.alerted_at is not None
    ):
        return False
    payload = {
        "code": finding.code,
        "uuid": str(finding.uuid),
        "kind": finding.kind,
        "severity": finding.severity,
        "account_id": finding.aws_account_id or None,
        "account_name": account.name if account is not None else None,
        "first_seen": _iso(finding.first_seen),
        "last_seen": _iso(finding.last_seen),
        "summary": finding.summary,
        "event_ids": sorted(event_ids)[:EVENT_IDS_SHOWN],
        "url": finding_link(finding),
    }
    outbox.queue_alert(
        finding_summary=finding.summary,
        subject=alert_subject(finding.code, finding.kind, short_label),
        account=account,
        payload=payload,
    )
    finding.alerted_at = now
    finding.save(update_fields=["alerted_at", "updated_at"])
    return True


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
