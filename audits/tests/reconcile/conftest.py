"""Fixtures of the reconciliation tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from audits.tests.findings_support import make_account
from portal.celery import app as celery_app


@pytest.fixture
def account(approver: Any, custodian: Any) -> Any:
    return make_account(approver, custodian)


@pytest.fixture
def eager_celery() -> Iterator[None]:
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous
