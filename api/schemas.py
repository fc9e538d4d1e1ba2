"""The shapes the API sends and takes (pydantic, through Django Ninja), which the OpenAPI schema
describes. Builders that fill them from model rows sit with each endpoint module."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from ninja import Field, Schema

Item = TypeVar("Item")


class Page(Schema, Generic[Item]):
    """One page of a list in the list's order; ``next`` (pass it as ``cursor``) is null on the last page."""

    items: list[Item]
    next: str | None = Field(description="The cursor of the next page; null on the last page.")


class Problem(Schema):
    """Problem details (RFC 9457), sent as ``application/problem+json``."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    request_id: str
    errors: dict[str, list[str]] | None = None


# --- Inventory ---------------------------------------------------------------------------------


class Person(Schema):
    username: str


class AccountRef(Schema):
    uuid: UUID
    account_id: str
    name: str


class Credential(Schema):
    storage: str = Field(description="portal, physical or none")
    safe_location: str
    envelope_number: str
    rotation_required: bool
    last_rotated_at: datetime | None


class Device(Schema):
    uuid: UUID
    label: str
    kind: str
    virtual: bool
    serial_number: str
    storage_location: str
    custody_state: str
    holder: str | None


class LiveGrant(Schema):
    username: str
    emergency: bool
    expires_at: datetime


class Account(Schema):
    uuid: UUID
    account_id: str
    name: str
    environment: str
    governance_mode: str
    root_email_masked: str
    approvers: list[str]
    approval_quorum: int
    custodians: list[str]
    max_session_minutes: int
    ticket_required: bool
    separate_duties: bool
    root_credential: Credential | None = Field(description="null: no credential recorded")
    mfa_devices: list[Device]
    live_grants: list[LiveGrant]
    posture: dict[str, Any] | None = Field(
        None, description="The account's root posture (posture checks); null until they report."
    )
    web_url: str


# --- Requests ----------------------------------------------------------------------------------


class AccessRequest(Schema):
    uuid: UUID
    code: str
    status: str
    account: AccountRef
    requester: str
    root_task: str
    other_task: str
    bucket_name: str = Field("", description="The bucket an AssumeRoot S3 unlock task acts on.")
    queue_url: str = Field("", description="The queue an AssumeRoot SQS unlock task acts on.")
    justification: str
    ticket_reference: str
    starts_at: datetime
    duration_minutes: int
    emergency: bool
    approvals: int
    approved_at: datetime | None
    checked_out_at: datetime | None
    due_at: datetime | None
    checked_in_at: datetime | None
    created_at: datetime
    web_url: str = Field(description="The request's page, where people approve, check out and reveal.")


class AccessRequestIn(Schema):
    account_id: str = Field(pattern=r"^[0-9]{12}$", description="The 12-digit AWS account id.")
    root_task: str = Field(max_length=40, description="A root task code, e.g. close_account.")
    justification: str
    duration_minutes: int
    starts_at: datetime | None = Field(None, description="Default: now.")
    ticket_reference: str = ""
    other_task: str = ""
    bucket_name: str = Field("", max_length=63, description="For assume_root_s3_unlock: the bucket's name.")
    queue_url: str = Field("", max_length=300, description="For assume_root_sqs_unlock: the queue's URL.")


# --- Evidence ----------------------------------------------------------------------------------


class FindingEvent(Schema):
    event_id: str
    event_time: datetime
    event_name: str
    event_source: str
    region: str
    source_ip: str
    mfa_used: bool | None


class Finding(Schema):
    uuid: UUID
    code: str
    kind: str
    severity: str
    status: str
    aws_account_id: str
    account: AccountRef | None
    session: str | None = Field(description="The code of the check-out it concerns, if any.")
    first_seen: datetime
    last_seen: datetime
    summary: str
    triage_note: str
    triaged_by: str | None
    triaged_at: datetime | None
    event_ids: list[str]
    web_url: str


class FindingDetail(Finding):
    events: list[FindingEvent] = Field(description="The first 100 root events, oldest first.")


class TriageIn(Schema):
    status: str = Field(description="acknowledged, resolved or false_positive")
    note: str


class RootEvent(Schema):
    event_id: str
    aws_account_id: str
    region: str
    event_time: datetime
    event_name: str
    event_source: str
    event_type: str
    is_service_event: bool
    mfa_used: bool | None
    login_success: bool | None
    succeeded: bool
    source_ip: str
    session: str | None
    in_scope: bool | None


class IngestionRun(Schema):
    uuid: UUID
    source: str | None
    kind: str
    unit: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    files_read: int
    files_rejected: int
    records_read: int
    root_records: int
    findings_raised: int
    errors: list[Any]


class ReportInfo(Schema):
    name: str
    title: str
    columns: list[str]
    filters: list[str]
    formats: list[str]


#: The refusals every operation may answer with, as problem details.
PROBLEM_STATUSES = frozenset({400, 401, 403, 404, 409, 429})


def answers(status: int, model: Any) -> dict[Any, Any]:
    """An operation's responses: ``model`` on success, problem details on every refusal."""
    return {status: model, PROBLEM_STATUSES: Problem}
