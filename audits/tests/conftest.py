"""The AWS fixtures (moto in-process, moto's server, LookupEvents) for every evidence test.

What they build on (the LookupEvents store and its moto handler) is in ``aws_support.py``.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from audits.tests.aws_support import LookupEventsStore, install_lookup_events
from audits.tests.posture_support import RootPostureStore, install_root_posture


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Fake credentials, and no profile or config file of the machine's that could leak into a test."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    # No instance metadata lookups (they time out slowly when nothing answers).
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def mocked_aws(aws_credentials: None) -> Iterator[None]:
    """moto in-process: every boto3 call in the test is answered by moto, nothing leaves the process."""
    with mock_aws():
        yield


@pytest.fixture
def moto_server(aws_credentials: None) -> Iterator[str]:
    """moto's server in a thread on 127.0.0.1, a free port; yields its URL for ``endpoint_url``."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        yield url
    finally:
        # The server's state lives in moto's process-wide backends: leave nothing for the next test.
        request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass
        server.stop()


@pytest.fixture
def lookup_events() -> Iterator[LookupEventsStore]:
    """moto with ``cloudtrail:LookupEvents``; fill the store the fixture yields."""
    store = LookupEventsStore()
    uninstall = install_lookup_events(store)
    try:
        yield store
    finally:
        uninstall()


@pytest.fixture
def root_posture() -> Iterator[RootPostureStore]:
    """moto with root users (summary flags, the credential report's root row, root's virtual MFA),
    ``sts:AssumeRoot``, ``iam:ListOrganizationsFeatures`` and injected failures; fill the store."""
    store = RootPostureStore()
    uninstall = install_root_posture(store)
    try:
        yield store
    finally:
        uninstall()
