"""The shapes the AssumeRoot layer hands out (the contract with the request workflow): plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TaskTarget:
    """What a task acts on, beyond the account: only the two unlock tasks need one."""

    bucket_name: str = ""  # assume_root_s3_unlock
    queue_url: str = ""  # assume_root_sqs_unlock


@dataclass
class TaskOutcome:
    """What one AssumeRoot task did. ``found`` is JSON-safe and holds no secret: what was found, what
    was deleted, the removed policy's text; ``error`` is for people (never a credential)."""

    task_code: str
    account_id: str
    ok: bool
    error: str
    access_key_id: str
    found: dict[str, Any]
    started_at: datetime
    finished_at: datetime
    # The task policy the session carried and the seconds it was asked for (for the evidence).
    task_policy_arn: str = ""
    duration_seconds: int = 0
    # The AWS calls made with the credentials, in order (``iam:ListAccessKeys`` ...).
    calls: list[str] = field(default_factory=list)
