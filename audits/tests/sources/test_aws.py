"""Session and client construction shared by the AWS sources."""

from __future__ import annotations

import pytest

from audits.sources import aws


def test_a_role_is_assumed_with_the_portals_session_name(mocked_aws: None) -> None:
    settings = aws.aws_settings(
        {"region": "eu-west-1", "role_arn": "arn:aws:iam::222222222222:role/audit", "external_id": "x-1"}
    )

    identity = aws.client("sts", settings).get_caller_identity()

    assert identity["Account"] == "222222222222"
    assert identity["Arn"].endswith(":assumed-role/audit/breakglass-portal-ingest")


def test_without_a_role_the_default_credentials_are_used(mocked_aws: None) -> None:
    identity = aws.client("sts", aws.aws_settings({"region": "eu-west-1"})).get_caller_identity()

    assert identity["Account"] == "123456789012"


def test_sts_is_called_on_its_regional_endpoint_whatever_the_environment(
    aws_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")

    sts = aws.client("sts", aws.aws_settings({"region": "us-east-1"}))

    assert sts.meta.endpoint_url == "https://sts.us-east-1.amazonaws.com"


def test_retries_and_endpoint_come_from_the_config(aws_credentials: None) -> None:
    settings = aws.aws_settings(
        {
            "region": "eu-west-1",
            "endpoint_url": "http://127.0.0.1:9",
            "retry_mode": "adaptive",
            "max_attempts": 4,
        }
    )

    s3 = aws.client("s3", settings)

    assert s3.meta.endpoint_url == "http://127.0.0.1:9"
    assert s3.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 4}
    assert s3.meta.config.s3 == {"addressing_style": "path"}


def test_a_bad_retry_mode_is_refused() -> None:
    with pytest.raises(aws.ConfigError, match="retry_mode"):
        aws.aws_settings({"retry_mode": "eventually"})
