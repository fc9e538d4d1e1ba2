"""A broken audit ledger becomes a critical finding and an alert.

The ledger must not import ``audits``; it sends ``ledger.signals.chain_broken`` and this receiver
(connected in ``AuditsConfig.ready``) raises the finding ``ledger_chain_broken`` once per break
(dedupe key ``ledger_chain_broken:<sequence>``) and queues the alert the way reconciliation does
for critical findings (``breakglass.notifications.queue_alert``): both in one transaction, with
``alerted_at`` set, so the alert goes out once.
"""

from __future__ import annotations

import hashlib
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from audits.choices import FindingKind, FindingStatus, Severity
from audits.models import Finding
from breakglass import notifications
from ledger import services as ledger
from ledger.signals import chain_broken

KIND = FindingKind.LEDGER_CHAIN_BROKEN


def dedupe_key(sequence: int) -> str:
    """One finding per place the chain breaks (0: the anchor or the checkpoints themselves)."""
    return f"{KIND.value}:{sequence}"


@receiver(chain_broken, dispatch_uid="audits.ledger_chain_broken")
def ledger_chain_broken(sender: Any, *, sequence: int, reason: str, **_: Any) -> Finding:
    """Raise (or refresh) the critical finding for a broken ledger, and alert once."""
    now = timezone.now()
    key = dedupe_key(sequence)
    summary = f"The audit ledger does not verify: {reason}"
    with transaction.atomic():
        finding = Finding.objects.select_for_update().filter(dedupe_key=key).first()
        if finding is None:
            finding = _raise(key, summary, now)
        else:
            finding.last_seen = now
            finding.save(update_fields=["last_seen", "updated_at"])
        if finding.status == FindingStatus.OPEN and finding.alerted_at is None:
            _alert(finding)
            finding.alerted_at = now
            finding.save(update_fields=["alerted_at", "updated_at"])
    return finding


def _raise(key: str, summary: str, now: Any) -> Finding:
    digest = hashlib.sha256(key.encode()).hexdigest().upper()
    # The code derives from the dedupe key, as reconciliation's codes do.
    for offset in range(0, len(digest) - 6, 6):
        code = f"F-{now.astimezone(UTC):%y%m%d}-{digest[offset : offset + 6]}"
        try:
            with transaction.atomic():
                finding = Finding.objects.create(
                    code=code,
                    kind=KIND,
                    severity=Severity.CRITICAL,
                    dedupe_key=key,
                    aws_account_id="",
                    first_seen=now,
                    last_seen=now,
                    summary=summary,
                )
        except IntegrityError:
            continue
        break
    else:  # pragma: no cover - 10 collisions in a row on a SHA-256
        raise RuntimeError(f"no free finding code for {key}")
    # Appending still works on a broken chain, and the raised finding is evidence like any other.
    ledger.record(
        actor=None,
        action="finding.raised",
        target=finding,
        data={"code": finding.code, "kind": finding.kind, "severity": finding.severity, "summary": summary},
    )
    return finding


def _alert(finding: Finding) -> None:
    base = str(getattr(settings, "PORTAL_BASE_URL", "")).rstrip("/")
    url = f"{base}{reverse('audits:finding_detail', args=[finding.uuid])}"
    notifications.queue_alert(
        finding_summary=finding.summary,
        subject=f"{finding.code} {KIND.label}",
        # No account: the alert goes to the global (security) channels, else the administrators.
        account=None,
        payload={
            "code": finding.code,
            "uuid": str(finding.uuid),
            "kind": finding.kind,
            "severity": finding.severity,
            "account_id": None,
            "account_name": None,
            "first_seen": finding.first_seen.astimezone(UTC).isoformat(),
            "last_seen": finding.last_seen.astimezone(UTC).isoformat(),
            "summary": finding.summary,
            "event_ids": [],
            "url": url,
        },
    )
