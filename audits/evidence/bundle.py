"""Making an evidence bundle: one zip of the period's reports, the ledger slice with its chain hashes,
the controls they evidence, a manifest of every member's SHA-256 and size, and ``manifest.sig``
(Ed25519 over the exact manifest bytes, ``PORTAL_EVIDENCE_SIGNING_KEY``).

Members are written into the zip piece by piece as the reports stream their rows, and hashed on the
way, so memory stays bounded whatever the period (the sessions PDF is laid out in parts, see
``audits.reports.pdf``). Making a bundle is a ledger entry (``evidence.bundle_made``, with the
manifest's SHA-256), written before the bundle is handed to anyone: no entry, no bundle.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audits.evidence.controls import COLUMNS as CONTROL_COLUMNS
from audits.evidence.controls import CONTROLS, controls_csv, controls_json
from audits.evidence.signing import SIGNATURE_MEMBER, evidence_keys, sign
from audits.evidence.summary import MONTH_COLUMNS, SUMMARY_COLUMNS, month_rows, summary_rows
from audits.reports import REPORTS, ReportFilter
from audits.reports.base import Report, iso
from audits.reports.export import period_text, text_pieces, write_pdf
from audits.reports.formats import csv_pieces, json_pieces, pdf_document
from ledger import services as ledger_services
from ledger.models import LedgerEntry
from ledger.services import SYSTEM_ACTOR_NAME
from portal.people import person_label

if TYPE_CHECKING:
    from audits.reports.base import AnyUser

FORMAT = "portal-evidence-bundle/1"
MANIFEST_MEMBER = "manifest.json"
LEDGER_SLICE_MEMBER = "ledger-slice.jsonl"
#: The reports of a bundle, each as CSV and JSON; the sessions report also as PDF.
BUNDLE_REPORTS = ("sessions", "activity", "findings", "access", "reviews", "ledger")
PDF_REPORTS = ("sessions",)
_LEDGER_CHUNK = 2000
COVER_MEMBER = "cover.pdf"
COVER_TEMPLATE = "audits/evidence/cover.html"
#: The activity summary (``summary``), as ``.csv`` and ``.json``.
SUMMARY_MEMBER = "reports/activity-summary"


@dataclass(frozen=True)
class MemberDigest:
    sha256: str
    size: int


class _ReportingDict(dict[str, MemberDigest]):
    """The manifest's files, telling ``on_member`` each time one is added."""

    def __init__(self, on_member: Callable[[int], None] | None) -> None:
        super().__init__()
        self.on_member = on_member

    def __setitem__(self, name: str, digest: MemberDigest) -> None:
        super().__setitem__(name, digest)
        if self.on_member is not None:
            self.on_member(len(self))


@dataclass(frozen=True)
class BundleMade:
    """A bundle written and recorded: where, the manifest's SHA-256, and its ledger entry."""

    path: Path | None
    manifest_sha256: str
    ledger_sequence: int
    files: int


def _encoded(pieces: Iterable[str]) -> Iterator[bytes]:
    for piece in pieces:
        yield piece.encode("utf-8")


def _write_member(archive: zipfile.ZipFile, name: str, chunks: Iterable[bytes]) -> MemberDigest:
    digest = hashlib.sha256()
    size = 0
    # force_zip64: the size is not known before the member is streamed.
    with archive.open(name, "w", force_zip64=True) as member:
        for chunk in chunks:
            member.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return MemberDigest(digest.hexdigest(), size)


def _pdf_chunks(*, user: AnyUser | None, report: Report, filters: ReportFilter) -> Iterator[bytes]:
    """The report's PDF, laid out part by part into a temporary file and read back in chunks (a
    zip member cannot be written out of order, as pypdf's writer would)."""
    with tempfile.TemporaryFile() as spool:
        write_pdf(
            spool, user=user, report=report, filters=filters, count=report.count(user=user, filters=filters)
        )
        spool.seek(0)
        while chunk := spool.read(1 << 20):
            yield chunk


def ledger_slice_line(entry: LedgerEntry) -> dict[str, Any]:
    """One entry of the slice, with what chains it: sequence, previous hash, hash and key id."""
    return {
        "sequence": entry.sequence,
        "created_at": entry.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "request_id": entry.request_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target_repr": entry.target_repr,
        "data": entry.data,
        "key_id": entry.key_id,
        "previous_hash": entry.previous_hash,
        "hash": entry.hash,
    }


class _SliceWriter:
    """The ledger slice as JSON Lines, counting what it wrote for the manifest."""

    def __init__(self, filters: ReportFilter) -> None:
        self.filters = filters
        self.count = 0
        self.first_sequence: int | None = None
        self.last_sequence: int | None = None

    def chunks(self) -> Iterator[bytes]:
        # Every entry of the period, whatever the account filter: a slice with gaps could not be
        # checked for its chain.
        entries = LedgerEntry.objects.order_by("sequence")
        if self.filters.since is not None:
            entries = entries.filter(created_at__gte=self.filters.since)
        if self.filters.until is not None:
            entries = entries.filter(created_at__lte=self.filters.until)
        lines: list[str] = []
        for entry in entries.iterator(chunk_size=_LEDGER_CHUNK):
            lines.append(json.dumps(ledger_slice_line(entry), sort_keys=True, ensure_ascii=False) + "\n")
            self.count += 1
            self.first_sequence = self.first_sequence or entry.sequence
            self.last_sequence = entry.sequence
            if len(lines) >= _LEDGER_CHUNK:
                yield "".join(lines).encode("utf-8")
                lines = []
        yield "".join(lines).encode("utf-8")


def cover_pdf(
    *,
    filters: ReportFilter,
    generated_at: str,
    generated_by: str,
    key_id: str,
    public_key: str,
    ledger_slice: _SliceWriter,
    files: dict[str, MemberDigest],
    months: list[dict[str, Any]],
) -> bytes:
    """The bundle's cover for the auditor's file: period, who and when, the key, the controls table
    (as in controls.csv), the root activity per month (``summary``) and every other file with its
    digest. Its tables are bounded (controls, months of the period, files): it is laid out whole."""
    context = {
        "month_columns": [column.replace("_", " ") for column in MONTH_COLUMNS],
        "months": [[row[column] for column in MONTH_COLUMNS] for row in months],
        "organization": settings.PORTAL_ORGANIZATION_NAME,
        "period": period_text(filters),
        "filters": sorted((k, v) for k, v in filters.as_dict().items() if k not in ("since", "until")),
        "generated_at": generated_at,
        "generated_by": generated_by,
        "key_id": key_id,
        "public_key": public_key,
        "ledger_entries": ledger_slice.count,
        "first_sequence": ledger_slice.first_sequence,
        "last_sequence": ledger_slice.last_sequence,
        "control_columns": CONTROL_COLUMNS,
        "controls": [[getattr(control, column) for column in CONTROL_COLUMNS] for control in CONTROLS],
        "files": [(name, digest.size, digest.sha256) for name, digest in files.items()],
    }
    return pdf_document(template=COVER_TEMPLATE, context=context)


def manifest_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False).encode("utf-8") + b"\n"


#: The members ``write_bundle`` writes before its manifest and signature, for a progress count.
BUNDLE_MEMBERS = len(BUNDLE_REPORTS) * 2 + len(PDF_REPORTS) + 6


def write_bundle(
    target: IO[bytes],
    *,
    user: AnyUser | None,
    filters: ReportFilter,
    on_member: Callable[[int], None] | None = None,
) -> BundleMade:
    """Write the bundle into ``target`` (a seekable binary file) and record it in the ledger.

    The caller hands ``target`` to nobody until this returns: the ledger entry comes last, after the
    manifest is signed, because it records the manifest's digest. ``on_member`` hears how many of
    the ``BUNDLE_MEMBERS`` members are written so far.
    """
    keys = evidence_keys()  # before anything is read: no key, no bundle
    files = _ReportingDict(on_member)
    ledger_slice = _SliceWriter(filters)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in BUNDLE_REPORTS:
            report = REPORTS[name]
            for fmt in ("csv", "json"):
                member = f"reports/{name}.{fmt}"
                pieces = text_pieces(user=user, report=report, fmt=fmt, filters=filters)
                files[member] = _write_member(archive, member, _encoded(pieces))
            if name in PDF_REPORTS:
                member = f"reports/{name}.pdf"
                files[member] = _write_member(
                    archive, member, _pdf_chunks(user=user, report=report, filters=filters)
                )
        # What a person reads of the activity: per account and month, how each event is accounted for.
        files[f"{SUMMARY_MEMBER}.csv"] = _write_member(
            archive,
            f"{SUMMARY_MEMBER}.csv",
            _encoded(csv_pieces(SUMMARY_COLUMNS, summary_rows(user=user, filters=filters))),
        )
        files[f"{SUMMARY_MEMBER}.json"] = _write_member(
            archive, f"{SUMMARY_MEMBER}.json", _encoded(json_pieces(summary_rows(user=user, filters=filters)))
        )
        files[LEDGER_SLICE_MEMBER] = _write_member(archive, LEDGER_SLICE_MEMBER, ledger_slice.chunks())
        files["controls.csv"] = _write_member(archive, "controls.csv", _encoded(controls_csv()))
        files["controls.json"] = _write_member(archive, "controls.json", _encoded(controls_json()))
        generated_at = iso(timezone.now()) or ""
        generated_by = person_label(user) if user is not None else SYSTEM_ACTOR_NAME
        public_key = keys.public_keys()[keys.primary_key_id]
        cover = cover_pdf(
            filters=filters,
            months=month_rows(user=user, filters=filters),
            generated_at=generated_at,
            generated_by=generated_by,
            key_id=keys.primary_key_id,
            public_key=public_key,
            ledger_slice=ledger_slice,
            files=files,
        )
        files[COVER_MEMBER] = _write_member(archive, COVER_MEMBER, [cover])
        manifest = manifest_bytes(
            {
                "format": FORMAT,
                "organization": settings.PORTAL_ORGANIZATION_NAME,
                "period": {"since": iso(filters.since), "until": iso(filters.until)},
                "filters": filters.as_dict(),
                "generated_at": generated_at,
                "generated_by": generated_by,
                "signing_key_id": keys.primary_key_id,
                "public_key": public_key,
                "ledger_slice": {
                    "entries": ledger_slice.count,
                    "first_sequence": ledger_slice.first_sequence,
                    "last_sequence": ledger_slice.last_sequence,
                },
                "files": {name: {"sha256": d.sha256, "size": d.size} for name, d in files.items()},
            }
        )
        archive.writestr(MANIFEST_MEMBER, manifest)
        archive.writestr(SIGNATURE_MEMBER, sign(manifest, keys))
    manifest_sha256 = hashlib.sha256(manifest).hexdigest()
    with transaction.atomic():
        entry = ledger_services.record(
            actor=user,
            action="evidence.bundle_made",
            target_type="evidence_bundle",
            target_id=manifest_sha256[:64],
            target_repr=f"evidence bundle {period_text(filters)}",
            data={
                "manifest_sha256": manifest_sha256,
                "signing_key_id": keys.primary_key_id,
                "filters": filters.as_dict(),
                "files": len(files) + 2,
                "ledger_entries": ledger_slice.count,
            },
        )
    return BundleMade(
        path=None, manifest_sha256=manifest_sha256, ledger_sequence=entry.sequence, files=len(files) + 2
    )


def make_bundle(
    *,
    user: AnyUser | None,
    since: datetime | None,
    until: datetime | None,
    account: str | None = None,
    output: Path,
) -> BundleMade:
    """Write the bundle of the period (and account) to ``output``; None as ``user`` is the system.

    Written beside ``output`` and renamed once recorded: a reader never sees half a bundle, nor a
    bundle the ledger does not know.
    """
    filters = ReportFilter(since=since, until=until, account_id=account or "")
    handle, temporary = tempfile.mkstemp(
        dir=output.resolve().parent, prefix=f".{output.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w+b") as stream:
            made = write_bundle(stream, user=user, filters=filters)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return BundleMade(
        path=output,
        manifest_sha256=made.manifest_sha256,
        ledger_sequence=made.ledger_sequence,
        files=made.files,
    )
