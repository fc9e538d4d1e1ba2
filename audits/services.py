"""Writes of the evidence side that people make: triage of findings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from audits.choices import FindingStatus
from audits.models import Finding
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
            },
        )
    return locked
