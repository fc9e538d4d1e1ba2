"""An organization in moto for the posture tests: the management account is moto's default
(``123456789012``), members are inventory accounts, each root user set in the ``root_posture`` store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from audits.posture import aws
from audits.tests.posture_support import RootPostureStore
from breakglass.choices import GovernanceMode
from breakglass.models import AwsAccount, MfaDeviceAssignment
from breakglass.tests.factories import AwsAccountFactory, MfaDeviceFactory


@pytest.fixture
def posture_aws(
    mocked_aws: None, root_posture: RootPostureStore, settings: Any, monkeypatch: Any
) -> RootPostureStore:
    """moto in-process with root posture; few retries and no waiting, so a throttled call fails fast."""
    settings.PORTAL_AWS_MANAGEMENT_ROLE_ARN = None
    settings.PORTAL_AWS_MEMBER_ROLE_NAME = "BreakGlassPortalPostureRead"
    settings.PORTAL_AWS_EXTERNAL_ID = None
    settings.PORTAL_AWS_REGION = "us-east-1"
    monkeypatch.setattr(aws, "MAX_ATTEMPTS", 1)
    monkeypatch.setattr(aws, "REPORT_POLL_SECONDS", 0.0)
    return root_posture


@pytest.fixture
def make_account(db: Any) -> Callable[..., AwsAccount]:
    """An inventory account; ``hardware=True`` registers a hardware MFA device on its root."""

    def make(
        account_id: str,
        *,
        name: str = "",
        environment: str = "production",
        centralised: bool = False,
        hardware: bool = True,
    ) -> AwsAccount:
        account = AwsAccountFactory(
            account_id=account_id,
            name=name or f"acct-{account_id[-4:]}",
            environment=environment,
            governance_mode=GovernanceMode.CENTRALISED if centralised else GovernanceMode.CLASSIC,
        )
        if hardware:
            device = MfaDeviceFactory(serial_number=f"YK-{account_id}")
            MfaDeviceAssignment.objects.create(device=device, account=account, device_kind=device.kind)
        return account

    return make
