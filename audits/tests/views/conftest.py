"""Fixtures of the evidence page tests."""

from __future__ import annotations

from typing import Any

import pytest

from audits.tests.findings_support import make_account


@pytest.fixture
def account(approver: Any, custodian: Any) -> Any:
    return make_account(approver, custodian)
