"""The keyed chain's key ring (rotation, legacy entries), the checkpoints, their anchors and tasks."""

from __future__ import annotations

import base64
import json
import os
from io import StringIO
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from moto import mock_aws

from ledger import chain, checkpoints, services, tasks, verification
from ledger.anchor import AnchorError, FolderAnchor, S3Anchor, anchor_from, configured_anchor
from ledger.keys import chain_keys, signing_keys
from ledger.models import LedgerEntry, LedgerHead
from ledger.signals import chain_broken
from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db


def new_key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def test_entries_are_keyed_with_the_newest_key_and_record_its_id() -> None:
    entry = services.record(actor=None, action="test.keyed")

    assert entry.key_id == chain_keys().primary_key_id
    assert LedgerEntry.objects.get(pk=entry.pk).key_id == entry.key_id


def test_after_a_rotation_old_entries_verify_with_the_key_they_name(settings: Any) -> None:
    old = services.record(actor=None, action="test.before")
    settings.PORTAL_LEDGER_KEYS = f"{new_key('l-new')},{settings.PORTAL_LEDGER_KEYS}"

    new = services.record(actor=None, action="test.after")

    assert (old.key_id, new.key_id) == (old.key_id, "l-new")
    assert chain.verify().intact


def test_an_entry_whose_key_was_removed_is_named(settings: Any) -> None:
    entry = services.record(actor=None, action="test.before")
    settings.PORTAL_LEDGER_KEYS = new_key("l-other")

    result = chain.verify()

    assert result.first_break is not None
    assert result.first_break.sequence == 1
    assert f"key {entry.key_id!r} is not in PORTAL_LEDGER_KEYS" in result.first_break.reason


def test_legacy_unkeyed_entries_still_verify_at_the_start_of_the_chain() -> None:
    # Entries as the unkeyed chain wrote them, before the key_id column existed.
    previous = chain.GENESIS_HASH
    for sequence in (1, 2):
        entry = LedgerEntry(
            sequence=sequence,
            created_at=timezone.now(),
            actor_name="system",
            request_id="-",
            action="test.legacy",
            data={"n": sequence},
            previous_hash=previous,
        )
        entry.hash = chain.hash_of(entry)
        entry.save(force_insert=True)
        previous = entry.hash
    LedgerHead.objects.create(id=1, last_sequence=2, last_hash=previous)

    services.record(actor=None, action="test.keyed")

    result = chain.verify()
    assert result.intact
    assert list(LedgerEntry.objects.values_list("key_id", flat=True)) == ["", "", chain_keys().primary_key_id]


def test_a_missing_ledger_key_fails_the_action_naming_the_variable(settings: Any) -> None:
    settings.PORTAL_LEDGER_KEYS = None

    with pytest.raises(Exception, match="PORTAL_LEDGER_KEYS is not set"):
        services.record(actor=None, action="test.no_key")

    assert not LedgerEntry.objects.exists()


def test_a_checkpoint_holds_sequence_head_count_time_and_key_ids_signed(settings: Any) -> None:
    *_, last = [services.record(actor=None, action=f"test.{n}") for n in range(3)]
    out = StringIO()

    call_command("checkpoint_ledger", stdout=out)

    [name] = os.listdir(settings.PORTAL_LEDGER_ANCHOR)
    document = json.loads((Path(settings.PORTAL_LEDGER_ANCHOR) / name).read_text())
    assert document["sequence"] == document["entry_count"] == 3
    assert document["head_hash"] == last.hash
    assert document["key_id"] == last.key_id
    assert document["signing_key_id"] == signing_keys().primary_key_id
    assert "written to" in out.getvalue()
    # Anyone with the printed public key can check the signature, without the portal.
    keys = StringIO()
    call_command("ledger_public_key", stdout=keys)
    key_id, _, public = keys.getvalue().strip().partition(":")
    assert key_id == document["signing_key_id"]
    checkpoint = checkpoints.parse((Path(settings.PORTAL_LEDGER_ANCHOR) / name).read_bytes())
    Ed25519PublicKey.from_public_bytes(base64.b64decode(public)).verify(
        base64.b64decode(document["signature"]), checkpoint.signed_fields()
    )


def test_nothing_new_means_no_new_checkpoint(settings: Any) -> None:
    services.record(actor=None, action="test.once")
    call_command("checkpoint_ledger", stdout=StringIO())
    out = StringIO()

    call_command("checkpoint_ledger", stdout=out)

    assert "Nothing appended" in out.getvalue()
    assert len(os.listdir(settings.PORTAL_LEDGER_ANCHOR)) == 1


def test_checkpoints_are_never_replaced(tmp_path: Path) -> None:
    anchor = FolderAnchor(tmp_path)
    anchor.put("checkpoint-1.json", b"{}")

    with pytest.raises(AnchorError, match="never replaced"):
        anchor.put("checkpoint-1.json", b"{}")


def test_the_default_anchor_is_a_folder_under_the_var_dir() -> None:
    from django.conf import settings as django_settings

    assert isinstance(anchor_from(str(django_settings.VAR_DIR / "ledger-anchor")), FolderAnchor)


@pytest.fixture
def object_lock_bucket(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(
            Bucket="ledger-anchor",
            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
            ObjectLockEnabledForBucket=True,
        )
        yield client


def test_checkpoints_go_to_s3_with_object_lock_and_verify_from_there(
    settings: Any, object_lock_bucket: Any
) -> None:
    settings.PORTAL_LEDGER_ANCHOR = "s3://ledger-anchor/portal/checkpoints"
    settings.PORTAL_LEDGER_ANCHOR_OBJECT_LOCK = "COMPLIANCE"
    settings.PORTAL_LEDGER_ANCHOR_RETAIN_DAYS = 30
    services.record(actor=None, action="test.s3")

    written = tasks.checkpoint_ledger()

    assert written == 1
    anchor = configured_anchor()
    assert isinstance(anchor, S3Anchor)
    [name] = list(anchor.names())
    head = object_lock_bucket.head_object(Bucket="ledger-anchor", Key=f"portal/checkpoints/{name}")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"]
    with pytest.raises(Exception, match=r"PreconditionFailed|412"):
        anchor.put(name, b"{}")
    report = verification.verify_ledger()
    assert report.intact
    assert report.checkpoints_checked == 1


def test_the_tasks_have_stable_names_and_beat_runs_the_checkpoint_every_ten_minutes() -> None:
    schedule = {entry["task"]: entry["schedule"] for entry in celery_app.conf.beat_schedule.values()}

    assert tasks.checkpoint_ledger.name == "ledger.tasks.checkpoint_ledger"
    assert schedule[tasks.checkpoint_ledger.name] == checkpoints.CHECKPOINT_INTERVAL_SECONDS
    assert tasks.checkpoint_ledger.name in celery_app.tasks


def test_the_periodic_verification_sends_chain_broken_for_a_broken_chain() -> None:
    services.record(actor=None, action="test.one")
    checkpoints.write(configured_anchor())
    LedgerHead.objects.update(last_sequence=0)  # the head alone is not protected by the triggers
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(f"DELETE FROM {LedgerEntry._meta.db_table}")
        cursor.execute("RESET session_replication_role")
    received: list[dict[str, Any]] = []

    def listener(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    chain_broken.connect(listener, dispatch_uid="test-listener")
    try:
        assert tasks.verify_ledger() is False
    finally:
        chain_broken.disconnect(dispatch_uid="test-listener")

    assert len(received) == 1
    assert received[0]["sequence"] == 1
    assert "emptied" in received[0]["reason"]
