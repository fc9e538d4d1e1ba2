"""The organization's roles are built from the settings, one way for every caller."""

from __future__ import annotations

from typing import Any

from audits import aws_access


def test_member_settings_assume_the_configured_role_in_that_account(settings: Any) -> None:
    settings.PORTAL_AWS_MEMBER_ROLE_NAME = "PostureRead"
    settings.PORTAL_AWS_EXTERNAL_ID = "ext-1"
    member = aws_access.member_settings("123456789012")
    assert member.role_arn == "arn:aws:iam::123456789012:role/PostureRead"
    assert member.external_id == "ext-1"
    assert member.session_name == aws_access.MEMBER_SESSION_NAME


def test_management_settings_use_own_credentials_when_no_role_is_set(settings: Any) -> None:
    settings.PORTAL_AWS_MANAGEMENT_ROLE_ARN = None
    settings.PORTAL_AWS_REGION = "eu-west-1"
    management = aws_access.management_settings()
    assert management.role_arn is None
    assert management.region == "eu-west-1"
