"""Writes of the evidence side that people make: triage of findings, one by one or as an incident."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from audits.choices import FindingStatus
from audits.models import Finding, RootEvent
from ledger import services as ledger
from portal import policy
from portal.errors import DomainError
from portal.validators import check_text_lengths

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

#: The outcomes a person can give a finding (``open`` is where reconciliation puts it).
TRIAGE_STATUSES = frozenset(
    {FindingStatus.ACKNOWLEDGED, FindingStatus.RESOLVED, FindingStatus.FALSE_POSITIVE}
)
MIN_TRIAGE_NOTE = 10


def finding_triage(*, finding: Finding, actor: AbstractBaseUser, status: str, note: str) -> Finding:
    """An auditor or administrator acknowledges, resolves or dismisses a finding, saying why.

    The note is the evidence of the decision and goes into the ledger with it. Reconciliation may
    reopen a resolved or dismissed finding when new root events join it.
    """
    note = _checked_decision(actor=actor, status=status, note=note)
    return _triage_locked(finding=finding, actor=actor, status=status, note=note)


def incident_triage(
    *, event: RootEvent, findings: list[Finding], actor: AbstractBaseUser, status: str, note: str
) -> list[Finding]:
    """Triage every finding one root event raised with one decision and note: all or none, and each
    its own ledger entry naming the incident (a reader of one finding's history sees the decision)."""
    note = _checked_decision(actor=actor, status=status, note=note)
    with transaction.atomic():
        return [
            _triage_locked(finding=finding, actor=actor, status=status, note=note, incident=event.event_id)
            for finding in findings
        ]


def _checked_decision(*, actor: AbstractBaseUser, status: str, note: str) -> str:
    """Who may triage, and that the decision and its note are evidence enough; the note, stripped."""
    if not policy.may_triage_findings(actor):
        raise DomainError("Only auditors and administrators with MFA can triage findings.")
    if status not in TRIAGE_STATUSES:
        raise DomainError({"status": "Choose acknowledged, resolved or false positive."})
    note = note.strip()
    check_text_lengths({"note": note})
    if len(note) < MIN_TRIAGE_NOTE:
        raise DomainError(
            {"note": f"Say what was found and done (at least {MIN_TRIAGE_NOTE} characters); it is evidence."}
        )
    return note


def _triage_locked(
    *, finding: Finding, actor: AbstractBaseUser, status: str, note: str, incident: str = ""
) -> Finding:
    with transaction.atomic():
        locked = Finding.objects.select_for_update(of=("self",)).get(pk=finding.pk)
        previous = locked.status
        locked.status = status
        locked.triage_note = note
        locked.triaged_by = actor  # type: ignore[assignment]
        locked.triaged_at = timezone.now()
        locked.save(update_fields=["status", "triage_note", "triaged_by", "triaged_at", "updated_at"])
        ledger.record(
            actor=actor,
            action="finding.triaged",
            target=locked,
            data={
                "code": locked.code,
                "kind": locked.kind,
                "account_id": locked.aws_account_id,
                "from": previous,
                "to": status,
                "note": note,
                **({"incident_event_id": incident} if incident else {}),
            },
        )
    return locked
