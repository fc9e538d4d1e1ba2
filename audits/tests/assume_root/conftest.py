"""moto in-process with the AssumeRoot extension: the management account is moto's default
(``123456789012``), ``MEMBER`` a member account whose root the store describes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest

from audits.assume_root import policies
from audits.tests.posture_support import RootPostureStore

MEMBER = "222222222222"
OTHER = "333333333333"


@pytest.fixture
def root_aws(
    mocked_aws: None, root_posture: RootPostureStore, settings: Any, monkeypatch: Any
) -> RootPostureStore:
    settings.PORTAL_AWS_MANAGEMENT_ROLE_ARN = None
    settings.PORTAL_AWS_EXTERNAL_ID = None
    settings.PORTAL_AWS_REGION = "us-east-1"
    monkeypatch.setattr(policies, "CALL_ATTEMPTS", 1)
    return root_posture


@contextmanager
def as_account(account_id: str) -> Iterator[None]:
    """boto3 calls inside act as ``account_id`` (moto's ``MOTO_ACCOUNT_ID``): to set up a member's
    buckets and queues the way its own administrators would."""
    with mock.patch.dict(os.environ, {"MOTO_ACCOUNT_ID": account_id}):
        yield
