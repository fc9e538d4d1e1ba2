"""Evidence bundles: what a bundle holds, its ledger entry, and every kind of tampering caught and
named (a member, the manifest, the signature, a file added or removed, a re-chained ledger slice)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from audits.evidence import CONTROLS, make_bundle, verify_bundle
from audits.evidence.bundle import manifest_bytes
from audits.evidence.signing import evidence_keys, sign
from audits.tests.evidence.conftest import flip_one_byte, period, rewrite
from audits.tests.reports.conftest import World
from breakglass.models import AccessRequest
from ledger.keys import public_keys_from
from ledger.models import LedgerEntry

REPORT_MEMBERS = [
    f"reports/{name}.{fmt}"
    for name in ("sessions", "activity", "findings", "access", "reviews", "ledger")
    for fmt in ("csv", "json")
]


def members(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def read(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def test_a_bundle_holds_the_reports_the_slice_the_controls_and_a_signed_manifest(bundle: Path) -> None:
    names = members(bundle)

    others = {
        "reports/sessions.pdf",
        "reports/activity-summary.csv",
        "reports/activity-summary.json",
        "ledger-slice.jsonl",
        "controls.csv",
        "controls.json",
        "cover.pdf",
    }
    assert {*REPORT_MEMBERS, *others} <= set(names)
    assert names[-2:] == ["manifest.json", "manifest.sig"]
    manifest = json.loads(read(bundle, "manifest.json"))
    assert set(manifest["files"]) == set(names) - {"manifest.json", "manifest.sig"}
    for name, recorded in manifest["files"].items():
        data = read(bundle, name)
        assert recorded == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    keys = evidence_keys()
    assert manifest["signing_key_id"] == keys.primary_key_id
    assert manifest["public_key"] == keys.public_keys()[keys.primary_key_id]
    assert manifest["period"]["since"]
    assert manifest["period"]["until"]
    assert read(bundle, "reports/sessions.pdf").startswith(b"%PDF")
    controls = json.loads(read(bundle, "controls.json"))
    assert [row["control"] for row in controls] == [control.control for control in CONTROLS]
    assert {
        "8.2.2",
        "7.2.4",
        "8.4.1",
        "10.2.1.2",
        "10.5.1",
        "1.4",
        "1.5",
        "1.6",
        "1.7",
        "CC6.1",
        "CC6.2",
    } <= {row["control"] for row in controls}
    lines = [json.loads(line) for line in read(bundle, "ledger-slice.jsonl").splitlines()]
    assert lines, "the world's actions are in the period's ledger"
    for entry in lines:
        stored = LedgerEntry.objects.get(sequence=entry["sequence"])
        assert (entry["previous_hash"], entry["hash"]) == (stored.previous_hash, stored.hash)


def test_making_a_bundle_is_a_ledger_entry_with_the_manifest_digest(bundle: Path) -> None:
    entry = LedgerEntry.objects.get(action="evidence.bundle_made")

    assert entry.data["manifest_sha256"] == hashlib.sha256(read(bundle, "manifest.json")).hexdigest()
    assert entry.data["signing_key_id"] == evidence_keys().primary_key_id


def test_an_untouched_bundle_is_valid(bundle: Path) -> None:
    result = verify_bundle(bundle)

    assert result.valid, result.problem
    assert result.files_checked == len(members(bundle)) - 2
    assert result.entries_checked > 0
    assert str(result).startswith("Evidence bundle valid")


@pytest.mark.parametrize(
    "member",
    [
        "reports/activity.csv",
        "reports/findings.json",
        "reports/sessions.pdf",
        "ledger-slice.jsonl",
        "controls.csv",
        "controls.json",
        "cover.pdf",
    ],
)
def test_one_byte_changed_in_a_member_is_caught_and_named(tmp_path: Path, bundle: Path, member: str) -> None:
    changed = rewrite(bundle, tmp_path / "changed.zip", change={member: flip_one_byte})

    result = verify_bundle(changed)

    assert not result.valid
    assert result.where == member
    assert result.problem == f"{member} was changed: its SHA-256 is not the one the manifest records"


@pytest.mark.parametrize("member", ["manifest.json", "manifest.sig"])
def test_one_byte_changed_in_the_manifest_or_the_signature_is_a_bad_signature(
    tmp_path: Path, bundle: Path, member: str
) -> None:
    changed = rewrite(bundle, tmp_path / "changed.zip", change={member: flip_one_byte})

    result = verify_bundle(changed)

    assert not result.valid
    assert result.where == "manifest.sig"
    assert "manifest.sig" in result.problem


def test_a_file_added_is_named(tmp_path: Path, bundle: Path) -> None:
    changed = rewrite(bundle, tmp_path / "added.zip", add={"reports/extra.csv": b"a,b\r\n"})

    result = verify_bundle(changed)

    assert (result.where, result.problem) == (
        "reports/extra.csv",
        "reports/extra.csv was added: the manifest does not list it",
    )


@pytest.mark.parametrize("member", ["reports/access.json", "ledger-slice.jsonl", "manifest.sig"])
def test_a_file_removed_is_named(tmp_path: Path, bundle: Path, member: str) -> None:
    changed = rewrite(bundle, tmp_path / "removed.zip", drop=(member,))

    result = verify_bundle(changed)

    assert not result.valid
    assert result.where == member
    assert f"{member} was removed" in result.problem


def test_not_a_zip_is_named(tmp_path: Path) -> None:
    path = tmp_path / "not.zip"
    path.write_bytes(b"not a zip")

    assert "not a zip archive" in verify_bundle(path).problem


def _rechained(lines: list[dict[str, Any]]) -> bytes:
    """The slice with the first entry's content edited and every hash after it re-computed."""
    lines[0]["target_repr"] = "nothing happened"
    previous = lines[0]["previous_hash"]
    for entry in lines:
        entry["previous_hash"] = previous
        entry["hash"] = hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()
        previous = entry["hash"]
    return "".join(json.dumps(entry, sort_keys=True) + "\n" for entry in lines).encode()


def _with_manifest_for(bundle: Path, slice_bytes: bytes) -> bytes:
    manifest = json.loads(read(bundle, "manifest.json"))
    manifest["files"]["ledger-slice.jsonl"] = {
        "sha256": hashlib.sha256(slice_bytes).hexdigest(),
        "size": len(slice_bytes),
    }
    return manifest_bytes(manifest)


def test_a_slice_edited_and_rechained_with_its_manifest_updated_is_caught_by_the_signature(
    tmp_path: Path, bundle: Path
) -> None:
    lines = [json.loads(line) for line in read(bundle, "ledger-slice.jsonl").splitlines()]
    forged = _rechained(lines)
    changed = rewrite(
        bundle,
        tmp_path / "rechained.zip",
        change={
            "ledger-slice.jsonl": lambda _: forged,
            "manifest.json": lambda _: _with_manifest_for(bundle, forged),
        },
    )

    result = verify_bundle(changed)

    assert result.where == "manifest.sig"
    assert result.problem.startswith("bad signature")


def test_a_bundle_re_signed_with_another_key_is_an_unknown_key(
    tmp_path: Path, bundle: Path, settings: Any
) -> None:
    lines = [json.loads(line) for line in read(bundle, "ledger-slice.jsonl").splitlines()]
    forged = _rechained(lines)
    manifest = json.loads(_with_manifest_for(bundle, forged))
    real = settings.PORTAL_EVIDENCE_SIGNING_KEY
    settings.PORTAL_EVIDENCE_SIGNING_KEY = f"forger:{base64.b64encode(os.urandom(32)).decode()}"
    manifest["signing_key_id"] = "forger"
    forged_manifest = manifest_bytes(manifest)
    signature = sign(forged_manifest, evidence_keys())
    settings.PORTAL_EVIDENCE_SIGNING_KEY = real
    changed = rewrite(
        bundle,
        tmp_path / "resigned.zip",
        change={
            "ledger-slice.jsonl": lambda _: forged,
            "manifest.json": lambda _: forged_manifest,
            "manifest.sig": lambda _: signature,
        },
    )

    result = verify_bundle(changed)

    assert result.where == "manifest.sig"
    assert result.problem.startswith("unknown key: the manifest is signed with key 'forger'")


def test_a_signed_slice_whose_chain_breaks_names_the_first_entry(tmp_path: Path, bundle: Path) -> None:
    # The portal itself signed a slice that does not chain (say, its ledger was already rewritten).
    lines = [json.loads(line) for line in read(bundle, "ledger-slice.jsonl").splitlines()]
    assert len(lines) >= 2
    lines[1]["previous_hash"] = "f" * 64
    broken = "".join(json.dumps(entry, sort_keys=True) + "\n" for entry in lines).encode()
    manifest = _with_manifest_for(bundle, broken)
    changed = rewrite(
        bundle,
        tmp_path / "broken.zip",
        change={
            "ledger-slice.jsonl": lambda _: broken,
            "manifest.json": lambda _: manifest,
            "manifest.sig": lambda _: sign(manifest, evidence_keys()),
        },
    )

    result = verify_bundle(changed)

    sequence = lines[1]["sequence"]
    assert result.where == f"ledger entry #{sequence}"
    assert (
        result.problem
        == f"ledger entry #{sequence} does not chain: its previous hash is not the hash of #{sequence - 1}"
    )


def test_public_keys_given_instead_of_the_configured_ones(bundle: Path) -> None:
    keys = evidence_keys()
    given = public_keys_from([f"{key_id}:{key}" for key_id, key in keys.public_keys().items()])
    other = public_keys_from([f"other:{base64.b64encode(bytes(32)).decode()}"])

    assert verify_bundle(bundle, public_keys=given).valid
    assert verify_bundle(bundle, public_keys=other).problem.startswith("unknown key")


def test_the_cover_prints_the_controls_table_and_the_key(bundle: Path) -> None:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(read(bundle, "cover.pdf"))).pages)

    assert "Evidence bundle" in text
    assert evidence_keys().primary_key_id in text
    for control in CONTROLS:
        assert control.control in text
    assert "reports/sessions.csv" in text


def _csv_rows(path: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(read(path, name).decode())))


def _pdf_text(path: Path, name: str) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(read(path, name))).pages)


def test_the_activity_summary_accounts_for_every_event_of_the_activity_report(bundle: Path) -> None:
    events = _csv_rows(bundle, "reports/activity.csv")
    summary = json.loads(read(bundle, "reports/activity-summary.json"))
    in_csv = _csv_rows(bundle, "reports/activity-summary.csv")

    assert len(in_csv) == len(summary)
    assert sum(row["events"] for row in summary) == len(events) == 2
    (row,) = summary  # one account, one month (the world's two events are hours apart)
    assert row["account_id"] == events[0]["account_id"]
    assert row["month"] == events[0]["event_time"][:7]
    # "inside-window" in the world's session; "outside-window" in none, named by its finding.
    assert (row["in_session"], row["unmatched"], row["unmatched_without_finding"]) == (1, 1, 0)
    cover = _pdf_text(bundle, "cover.pdf")
    assert "Root activity per month" in cover
    assert row["month"] in cover
    summary_controls = [c.control for c in CONTROLS if "reports/activity-summary.csv" in c.files]
    assert "10.2.1.2" in summary_controls


def test_every_session_of_the_period_is_in_the_bundle_csv_json_and_pdf(tmp_path: Path, world: World) -> None:
    for number in range(4):
        AccessRequest.objects.create(
            code=f"BG-BUNDLE-{number}", requester=world.session.requester, account=world.account,
            root_task="other", other_task="Unlock a bucket", justification="INC-7 bucket policy",
            ticket_reference="INC-7", starts_at=world.session.starts_at, duration_minutes=30, status="denied",
        )  # fmt: skip
    since, until = period()
    output = tmp_path / "sessions.zip"
    make_bundle(user=None, since=since, until=until, output=output)

    codes = set(AccessRequest.objects.values_list("code", flat=True))
    in_csv = {row["code"] for row in _csv_rows(output, "reports/sessions.csv")}
    in_json = {row["code"] for row in json.loads(read(output, "reports/sessions.json"))}
    pdf = _pdf_text(output, "reports/sessions.pdf")
    assert len(codes) == 5
    assert in_csv == in_json == codes
    for code in codes:
        assert " ".join(pdf.split()).count(f"{code} · {world.account.account_id}") == 1, code
    assert verify_bundle(output).valid
