"""How the portal reaches the AWS organization itself (not a CloudTrail source): the management
account, or the delegated administrator, and each member account.

Used by the organization import, the root posture checks and (later) AssumeRoot tasks, so that all of
them assume the same roles, name their sessions the same way and honour the same endpoint
(``AWS_ENDPOINT_URL``, which boto3 reads itself: moto's server in tests, a VPC endpoint in production).

* ``PORTAL_AWS_MANAGEMENT_ROLE_ARN``: the role the portal assumes in the management account (or the
  delegated administrator). Unset: the portal's own credentials already are that account's.
* ``PORTAL_AWS_MEMBER_ROLE_NAME``: the read-only role in every member account (the StackSet in
  ``deploy/aws/`` creates it); its ARN is built per account.
* ``PORTAL_AWS_EXTERNAL_ID``: the external id both trust policies demand, if any.
* ``PORTAL_AWS_REGION``: the region for regional endpoints (STS, IAM is global).
"""

from __future__ import annotations

from django.conf import settings

from .sources.aws import AwsSettings

MANAGEMENT_SESSION_NAME = "breakglass-portal-organization"
MEMBER_SESSION_NAME = "breakglass-portal-posture"


def management_settings() -> AwsSettings:
    """How to reach the management account (organizations, account contacts, AssumeRoot)."""
    return AwsSettings(
        region=settings.PORTAL_AWS_REGION,
        role_arn=settings.PORTAL_AWS_MANAGEMENT_ROLE_ARN,
        session_name=MANAGEMENT_SESSION_NAME,
        external_id=settings.PORTAL_AWS_EXTERNAL_ID,
    )


def member_role_arn(account_id: str, role_name: str | None = None) -> str:
    return f"arn:aws:iam::{account_id}:role/{role_name or settings.PORTAL_AWS_MEMBER_ROLE_NAME}"


def member_settings(account_id: str, *, role_name: str | None = None) -> AwsSettings:
    """How to reach one member account: through its read-only role, or the role named (the one that
    files Security Hub findings, which must not be the read-only one)."""
    return AwsSettings(
        region=settings.PORTAL_AWS_REGION,
        role_arn=member_role_arn(account_id, role_name),
        session_name=MEMBER_SESSION_NAME,
        external_id=settings.PORTAL_AWS_EXTERNAL_ID,
    )
