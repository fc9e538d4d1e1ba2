"""The scopes a personal API token may carry."""

from __future__ import annotations

from django.db import models


class Scope(models.TextChoices):
    READ_INVENTORY = "read:inventory", "Read the accounts and requests you may see"
    READ_FINDINGS = "read:findings", "Read the findings, root events and ingestion runs you may see"
    WRITE_REQUESTS = "write:requests", "File and cancel your own break-glass requests"
    TRIAGE_FINDINGS = "triage:findings", "Acknowledge, resolve or dismiss findings"
    EXPORT_REPORTS = "export:reports", "Export the auditors' reports"


#: Scopes whose every use is a ledger entry (``api_token.used``), written before the call acts: the
#: ones that change something or send evidence out of the portal.
LEDGERED_SCOPES = frozenset({Scope.WRITE_REQUESTS, Scope.TRIAGE_FINDINGS, Scope.EXPORT_REPORTS})
