"""A broken audit ledger becomes a critical finding and an alert.

The ledger must not import ``audits``; it sends ``ledger.signals.chain_broken`` and this receiver
(connected in ``AuditsConfig.ready``) raises the finding ``ledger_chain_broken`` once per break
(dedupe key ``ledger_chain_broken:<sequence>``) and queues the alert the way reconciliation does
for critical findings (``audits.alerts``): both in one transaction, with
``alerted_at`` set, so the alert goes out once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from audits import alerts
from audits.choices import SEVERITY_BY_KIND, FindingKind
from audits.models import Finding
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
        # No account: the alert goes to the global (security) channels, else the administrators.
        alerts.finding_alert(
            finding=finding, account=None, short_label="the audit ledger", event_ids=(), now=now
        )
    return finding


def _raise(key: str, summary: str, now: datetime) -> Finding:
    finding = alerts.finding_create(
        key=key, kind=KIND, severity=SEVERITY_BY_KIND[KIND], first_seen=now, last_seen=now, summary=summary
    )
    # Appending still works on a broken chain, and the raised finding is evidence like any other.
    ledger.record(
        actor=None,
        action="finding.raised",
        target=finding,
        data={"code": finding.code, "kind": finding.kind, "severity": finding.severity, "summary": summary},
    )
    return finding
