"""The daily beat entry runs the posture check; every check is scored by a control and every posture
kind has its one severity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from audits.choices import SEVERITY_BY_KIND, FindingKind, Severity, severity_of
from audits.models import Finding, PostureResult
from audits.posture import tasks
from audits.posture.aws import Answer, RootReading
from audits.posture.checks import AccountFacts, Registered, root_outcomes
from audits.posture.controls import CONTROLS, KIND_BY_CHECK, POSTURE_KINDS, Check
from audits.tests.posture_support import RootPostureStore
from portal.celery import app as celery_app


def test_beat_runs_the_posture_check_daily() -> None:
    entry = celery_app.conf.beat_schedule["check-root-posture"]
    assert entry["task"] == "audits.posture.tasks.check_posture"
    assert entry["schedule"] == 86400.0
    assert entry["task"] in celery_app.tasks


@pytest.mark.django_db
def test_the_task_checks_every_account(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    make_account("222222222222")
    posture_aws.root("222222222222").mfa = False
    summary = tasks.check_posture.apply().get()
    assert summary["accounts"] == 1
    assert summary["errors"] == 0
    assert Finding.objects.filter(kind=FindingKind.ROOT_MFA_MISSING, aws_account_id="222222222222").exists()
    assert PostureResult.objects.filter(
        account__isnull=True, check_name=Check.CENTRAL_ROOT_MANAGEMENT
    ).exists()


def test_every_check_is_scored_by_a_control_and_every_kind_has_a_severity() -> None:
    scored = {check for control in CONTROLS for check in control.checks}
    assert scored == set(Check.values)
    assert set(KIND_BY_CHECK) == set(Check.values)
    assert set(SEVERITY_BY_KIND) >= POSTURE_KINDS
    assert severity_of(FindingKind.ROOT_MFA_VIRTUAL, environment="production") == Severity.HIGH
    assert severity_of(FindingKind.ROOT_MFA_VIRTUAL, environment="development") == Severity.MEDIUM
    assert severity_of(FindingKind.ROOT_ACCESS_KEYS_PRESENT, environment="sandbox") == Severity.CRITICAL


def _reading(**flags: int) -> RootReading:
    summary = {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0, "AccountPasswordPresent": 1} | flags
    return RootReading(
        via="test",
        summary=Answer(summary),
        report_row=Answer({"user": "<root_account>", "cert_1_active": "false", "cert_2_active": "false"}),
        virtual_mfa_serials=Answer([]),
    )


def _status(outcomes: list[Any], check: str) -> str:
    return next(outcome.status for outcome in outcomes if outcome.check == check)


def test_a_summary_without_a_flag_is_an_error_not_a_pass() -> None:
    facts = AccountFacts("222222222222", "a", "production", centralised=True)
    reading = _reading()
    assert reading.summary.value is not None
    del reading.summary.value["AccountPasswordPresent"]
    outcomes = root_outcomes(facts, reading)
    assert _status(outcomes, Check.ROOT_PASSWORD) == "error"


def test_hardware_mfa_is_not_applicable_without_any_mfa_and_the_registry_agrees_with_no_device() -> None:
    facts = AccountFacts("222222222222", "a", "production", centralised=False)
    outcomes = root_outcomes(facts, _reading(AccountMFAEnabled=0))
    assert _status(outcomes, Check.ROOT_HARDWARE_MFA) == "not_applicable"
    assert _status(outcomes, Check.ROOT_MFA) == "fail"
    assert _status(outcomes, Check.MFA_REGISTRY) == "not_applicable"


def test_a_registered_virtual_device_is_no_registry_mismatch() -> None:
    serial = "arn:aws:iam::222222222222:mfa/root-account-mfa-device"
    facts = AccountFacts(
        "222222222222", "a", "sandbox", centralised=False, devices=(Registered("virtual", serial),)
    )
    reading = _reading()
    reading.virtual_mfa_serials = Answer([serial])
    outcomes = root_outcomes(facts, reading)
    assert _status(outcomes, Check.MFA_REGISTRY) == "pass"
    assert _status(outcomes, Check.ROOT_HARDWARE_MFA) == "fail"
