"""boto3 sessions and clients for the source adapters, built the same way for every source.

Config keys shared by the AWS sources (each source's docstring lists them again where they apply):

* ``region``: the region the clients talk to (S3: the bucket's region; SQS: the queue's).
* ``role_arn``: a role to assume through STS before calling the service (cross-account reading).
  Credentials refresh themselves before they expire, so a long read does not fail after an hour.
* ``session_name``: the role session name CloudTrail shows for our calls (default
  ``breakglass-portal-ingest``), so the portal's own reads are recognisable in the trail.
* ``external_id``: the external id the role's trust policy demands, if any.
* ``endpoint_url``: one endpoint for every service (moto's server in tests, or a VPC endpoint).
* ``retry_mode`` (``standard`` or ``adaptive``) and ``max_attempts`` (every request, the first
  included): botocore's retries.
* ``connect_timeout`` / ``read_timeout``: seconds.

Credentials are never part of the config: boto3 takes them from its usual chain (instance or task
role, environment, profile), and STS gives the assumed ones.

STS is always called on its *regional* endpoint (``sts_regional_endpoints=regional``, the behaviour of
``AWS_STS_REGIONAL_ENDPOINTS=regional``), whatever the environment says: the global endpoint is a
single point of failure in us-east-1 and is disabled in opt-in regions.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    DeferredRefreshableCredentials,
)

# Part of the adapter contract (the files adapter raises it without importing boto3); named here too
# because every AWS adapter's config is checked with this module's helpers.
from .base import ConfigError

__all__ = [
    "AwsSettings",
    "ConfigError",
    "SourceError",
    "aws_settings",
    "client",
    "describe_error",
    "error_code",
    "optional_text",
    "positive_float",
    "positive_int",
    "require_text",
    "session",
    "text_list",
]

DEFAULT_SESSION_NAME = "breakglass-portal-ingest"
RETRY_MODES = ("standard", "adaptive", "legacy")
# STS needs a region to pick its regional endpoint; the partition's first region is the safe default.
FALLBACK_REGION = "us-east-1"


class SourceError(RuntimeError):
    """A unit could not be read on (listing refused, throttled for too long, connection lost).

    Raised out of ``read`` after the chunks read so far, so their cursor positions are kept; the run
    fails with this message and the task may retry. Damage in one file, object, message or event is
    never this: it is a problem on its chunk and reading goes on.
    """

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True)
class AwsSettings:
    """How to reach AWS for one source (or one account of a source)."""

    region: str | None = None
    role_arn: str | None = None
    session_name: str = DEFAULT_SESSION_NAME
    external_id: str | None = None
    endpoint_url: str | None = None
    retry_mode: str = "standard"
    max_attempts: int = 5
    connect_timeout: float = 10.0
    read_timeout: float = 60.0

    def with_role(self, role_arn: str | None) -> AwsSettings:
        return replace(self, role_arn=role_arn)

    def in_region(self, region: str | None) -> AwsSettings:
        return replace(self, region=region)

    def botocore_config(self, **extra: Any) -> Config:
        return Config(
            # total_max_attempts counts the first request too (Config's max_attempts would not).
            retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            user_agent_appid="breakglass-portal",
            **extra,
        )


def aws_settings(
    config: Mapping[str, Any], *, retry_mode: str = "standard", max_attempts: int = 5
) -> AwsSettings:
    """``AwsSettings`` from a source's config; ``retry_mode``/``max_attempts`` are the source's defaults."""
    mode = str(config.get("retry_mode") or retry_mode)
    if mode not in RETRY_MODES:
        raise ConfigError(f"retry_mode must be one of {', '.join(RETRY_MODES)}, not {mode!r}")
    return AwsSettings(
        region=optional_text(config, "region"),
        role_arn=optional_text(config, "role_arn"),
        session_name=optional_text(config, "session_name") or DEFAULT_SESSION_NAME,
        external_id=optional_text(config, "external_id"),
        endpoint_url=optional_text(config, "endpoint_url"),
        retry_mode=mode,
        max_attempts=positive_int(config, "max_attempts", max_attempts),
        connect_timeout=positive_float(config, "connect_timeout", 10.0),
        read_timeout=positive_float(config, "read_timeout", 60.0),
    )


def session(settings: AwsSettings) -> boto3.session.Session:
    """A boto3 session in the settings' region, with the role assumed when one is configured."""
    region = settings.region
    base = _botocore_session()
    if settings.role_arn is None:
        return boto3.session.Session(botocore_session=base, region_name=region)

    source_credentials = base.get_credentials()
    if source_credentials is None:
        raise ConfigError("no AWS credentials found to assume the role with")
    extra: dict[str, Any] = {"RoleSessionName": settings.session_name}
    if settings.external_id:
        extra["ExternalId"] = settings.external_id
    sts_creator = functools.partial(
        base.create_client,
        region_name=region or FALLBACK_REGION,
        endpoint_url=settings.endpoint_url,
        config=settings.botocore_config(),
    )
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=sts_creator,
        source_credentials=source_credentials,
        role_arn=settings.role_arn,
        extra_args=extra,
    )
    # Deferred and refreshable: STS is called on first use and again shortly before expiry.
    credentials = DeferredRefreshableCredentials(
        refresh_using=fetcher.fetch_credentials, method="assume-role"
    )
    assumed = _botocore_session()
    resolver = assumed.get_component("credential_provider")
    resolver.insert_before("env", _FixedCredentials(credentials))
    return boto3.session.Session(botocore_session=assumed, region_name=region)


def client(
    service: str,
    settings: AwsSettings,
    *,
    boto_session: boto3.session.Session | None = None,
    **config: Any,
) -> Any:
    """A boto3 client for ``service``; ``config`` adds botocore ``Config`` options (``s3=...``)."""
    if settings.endpoint_url and service == "s3":
        # Local endpoints (moto, MinIO) have no per-bucket DNS names.
        config.setdefault("s3", {"addressing_style": "path"})
    boto_session = boto_session or session(settings)
    return boto_session.client(
        service,
        region_name=settings.region or boto_session.region_name or FALLBACK_REGION,
        endpoint_url=settings.endpoint_url,
        config=settings.botocore_config(**config),
    )


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError`` (``ThrottlingException``...), else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def describe_error(exc: BaseException) -> str:
    """``Code: message`` for an AWS error, the text of anything else: for problems on the run page."""
    code = error_code(exc)
    if code is not None:
        message = getattr(exc, "response", {}).get("Error", {}).get("Message") or ""
        return f"{code}: {message}" if message else code
    return str(exc) or type(exc).__name__


# botocore ships no type hints, so its base class is Any to mypy.
class _FixedCredentials(CredentialProvider):  # type: ignore[misc]
    """Hands the session credentials we built ourselves, ahead of the default chain."""

    METHOD = "breakglass-assume-role"
    CANONICAL_NAME = "breakglass-assume-role"

    def __init__(self, credentials: DeferredRefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> DeferredRefreshableCredentials:
        return self._credentials


def _botocore_session() -> botocore.session.Session:
    base = botocore.session.Session()
    # Set on the session, it wins over AWS_STS_REGIONAL_ENDPOINTS=legacy in the environment.
    base.set_config_variable("sts_regional_endpoints", "regional")
    return base


# --- config helpers shared by the sources ------------------------------------------------------------


def optional_text(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string")
    return value


def require_text(config: Mapping[str, Any], key: str) -> str:
    value = optional_text(config, key)
    if value is None:
        raise ConfigError(f"{key} is required")
    return value


def positive_int(config: Mapping[str, Any], key: str, default: int) -> int:
    value: object = config.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{key} must be a positive integer")
    return value


def positive_float(config: Mapping[str, Any], key: str, default: float) -> float:
    value = config.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{key} must be a positive number")
    return float(value)


def text_list(config: Mapping[str, Any], key: str) -> list[str] | None:
    """A list of non-empty strings, or None when the key is absent or empty (meaning: discover)."""
    value = config.get(key)
    if value is None or value == []:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(f"{key} must be a list of strings")
    return list(value)
