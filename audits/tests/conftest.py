"""The AWS fixtures (moto in-process, moto's server, LookupEvents) for every evidence test."""

from __future__ import annotations

from audits.tests.aws_support import (  # noqa: F401 - fixtures are found by name
    aws_credentials,
    lookup_events,
    mocked_aws,
    moto_server,
)
