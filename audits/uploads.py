"""The upload form's service: a CloudTrail log file from a person's browser into an ingestion run.

Kept apart from ``audits.services`` (triage) because it owns a temporary file and the ledger entry
of the upload, and from ``audits.ingest`` because that module knows nothing of HTTP uploads.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from audits.choices import SourceKind
from audits.ingest import ingest_paths
from ledger import services as ledger
from portal import policy
from portal.errors import DomainError

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import UploadedFile

    from audits.models import IngestionRun


def display_name(uploaded: UploadedFile) -> str:
    """The file's own name without any folders the browser sent, for the run page and the ledger."""
    # Browsers send a bare name, but a hand-made request may send a path (even a Windows one).
    name = PurePath(str(uploaded.name or "").replace("\\", "/")).name
    return name[:200] or "uploaded file"


def logs_upload(*, actor: User, uploaded: UploadedFile) -> IngestionRun:
    """Store the upload in a private temporary folder, ingest it as an ``upload`` run, and record who
    uploaded which bytes (name, size, SHA-256) in the ledger.

    The temporary file is named by the portal, never by the client (no path from outside reaches the
    file system), and removed afterwards: the evidence kept is the stored root events and the digest.
    """
    if not policy.may_upload_logs(actor):
        raise DomainError("Only auditors and administrators can upload CloudTrail logs.")
    name = display_name(uploaded)
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryDirectory(prefix="portal-upload-") as folder:
        path = Path(folder) / "log"
        with path.open("wb") as out:
            for block in uploaded.chunks():
                digest.update(block)
                size += len(block)
                out.write(block)
        run = ingest_paths(paths=[path], triggered_by=actor, kind=SourceKind.UPLOAD, names={path: name})
    ledger.record(
        actor=actor,
        action="logs.uploaded",
        target=run,
        data={
            "file": name,
            "bytes": size,
            "sha256": digest.hexdigest(),
            "status": run.status,
            "records_read": run.records_read,
            "root_records": run.root_records,
            "findings_raised": run.findings_raised,
            "files_rejected": run.files_rejected,
        },
    )
    return run
