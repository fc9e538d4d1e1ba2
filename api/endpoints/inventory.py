"""Accounts and break-glass requests, read through the pages' own selectors and changed through the
lifecycle's own services. There is deliberately no endpoint to approve, deny, check out, hand over,
reveal, check in, confirm a rotation or revoke: those are done by people in the browser, with step-up.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from api import schemas
from api.auth import ApiRefusalError, caller
from api.choices import Scope
from api.paging import PageQuery, page_of
from breakglass import lifecycle, request_selectors, selectors
from breakglass.choices import RequestStatus
from breakglass.models import AccessRequest, AwsAccount, MfaDevice
from portal import policy
from portal.links import absolute_url

router = Router(tags=["inventory"])

READ_REQUESTS = (Scope.READ_INVENTORY, Scope.WRITE_REQUESTS)


def scopes(*wanted: Scope) -> dict[str, Any]:
    """The OpenAPI extension that names the scopes an operation accepts (any one of them)."""
    return {"x-scopes": [str(scope) for scope in wanted]}


# --- Accounts ------------------------------------------------------------------------------------


def _device(device: MfaDevice) -> dict[str, Any]:
    return {
        "uuid": device.uuid,
        "label": device.label,
        "kind": device.kind,
        "virtual": device.is_virtual,
        "serial_number": device.serial_number,
        "storage_location": device.storage_location,
        "custody_state": device.custody_state,
        "holder": device.holder.get_username() if device.holder is not None else None,
    }


def account_out(account: AwsAccount) -> dict[str, Any]:
    """What the account's page shows (from ``selectors.accounts_visible_to``'s prefetches)."""
    credential = account.root_credential_or_none
    return {
        "uuid": account.uuid,
        "account_id": account.account_id,
        "name": account.name,
        "environment": account.environment,
        "governance_mode": account.governance_mode,
        "root_email_masked": account.root_email_masked,
        "approvers": [person.get_username() for person in account.approvers.all()],
        "approval_quorum": account.approval_quorum,
        "custodians": [person.get_username() for person in account.custodians.all()],
        "max_session_minutes": account.max_session_minutes,
        "ticket_required": account.ticket_required,
        "separate_duties": account.separate_duties,
        "root_credential": None
        if credential is None
        else {
            "storage": credential.storage,
            "safe_location": credential.safe_location,
            "envelope_number": credential.envelope_number,
            "rotation_required": credential.rotation_required,
            "last_rotated_at": credential.last_rotated_at,
        },
        "mfa_devices": [_device(assignment.device) for assignment in account.mfa_assignments.all()],
        "live_grants": [
            {
                "username": grant.user.get_username(),
                "emergency": grant.emergency,
                "expires_at": grant.expires_at,
            }
            for grant in getattr(account, "live_grants", [])
        ],
        "posture": None,
        "web_url": absolute_url("breakglass:account_detail", kwargs={"uuid": account.uuid}),
    }


@router.get(
    "/accounts",
    response=schemas.answers(200, schemas.Page[schemas.Account]),
    summary="List the accounts you may see",
    openapi_extra=scopes(Scope.READ_INVENTORY),
)
def account_list(request: HttpRequest, page: Query[PageQuery]) -> dict[str, Any]:
    user = caller(request, Scope.READ_INVENTORY, allowed=policy.may_use_portal)
    return page_of(
        selectors.accounts_visible_to(user=user), ordering=("name", "id"), query=page, build=account_out
    )


@router.get(
    "/accounts/{uuid:uuid}",
    response=schemas.answers(200, schemas.Account),
    summary="One account, with its custody",
    openapi_extra=scopes(Scope.READ_INVENTORY),
)
def account_detail(request: HttpRequest, uuid: UUID) -> dict[str, Any]:
    user = caller(request, Scope.READ_INVENTORY, allowed=policy.may_use_portal)
    return account_out(selectors.account_for(user=user, uuid=uuid))


# --- Requests ------------------------------------------------------------------------------------


def request_out(request: AccessRequest) -> dict[str, Any]:
    approvals = getattr(request, "approval_count", None)
    if approvals is None:
        approvals = request_selectors.approvals_of(request)
    return {
        "uuid": request.uuid,
        "code": request.code,
        "status": request.status,
        "account": {
            "uuid": request.account.uuid,
            "account_id": request.account.account_id,
            "name": request.account.name,
        },
        "requester": request.requester.get_username(),
        "root_task": request.root_task,
        "other_task": request.other_task,
        "bucket_name": request.task_bucket_name,
        "queue_url": request.task_queue_url,
        "justification": request.justification,
        "ticket_reference": request.ticket_reference,
        "starts_at": request.starts_at,
        "duration_minutes": request.duration_minutes,
        "emergency": request.emergency,
        "approvals": approvals,
        "approved_at": request.approved_at,
        "checked_out_at": request.checked_out_at,
        "due_at": request.due_at,
        "checked_in_at": request.checked_in_at,
        "created_at": request.created_at,
        "web_url": absolute_url("breakglass:request_detail", kwargs={"uuid": request.uuid}),
    }


class RequestQuery(PageQuery):
    mine: bool = False
    status: str = ""


@router.get(
    "/requests",
    response=schemas.answers(200, schemas.Page[schemas.AccessRequest]),
    summary="List the requests you may open (mine=true: only your own)",
    openapi_extra=scopes(*READ_REQUESTS),
)
def request_list(request: HttpRequest, query: Query[RequestQuery]) -> dict[str, Any]:
    user = caller(request, *READ_REQUESTS)
    found = (
        request_selectors.requests_of(user=user)
        if query.mine
        else request_selectors.visible_requests(user=user)
    )
    if query.status:
        if query.status not in RequestStatus.values:
            raise ApiRefusalError(
                400,
                "The filters are not valid.",
                errors={"status": [f"One of {', '.join(RequestStatus.values)}."]},
            )
        found = found.filter(status=query.status)
    return page_of(found, ordering=("-created_at", "-id"), query=query, build=request_out)


@router.get(
    "/requests/{uuid:uuid}",
    response=schemas.answers(200, schemas.AccessRequest),
    summary="One request you may open",
    openapi_extra=scopes(*READ_REQUESTS),
)
def request_detail(request: HttpRequest, uuid: UUID) -> dict[str, Any]:
    user = caller(request, *READ_REQUESTS)
    return request_out(request_selectors.request_for(user=user, uuid=uuid))


@router.post(
    "/requests",
    response=schemas.answers(201, schemas.AccessRequest),
    summary="File a request for root (approved, checked out and revealed by people in the browser)",
    openapi_extra=scopes(Scope.WRITE_REQUESTS),
)
def request_create(request: HttpRequest, body: schemas.AccessRequestIn) -> Status[dict[str, Any]]:
    user = caller(request, Scope.WRITE_REQUESTS, writes=True)
    # The accounts the form offers (a live grant): any other id is refused the same way, whether or
    # not the account exists, as the form's choice list would.
    account = request_selectors.requestable_accounts(user=user).filter(account_id=body.account_id).first()
    if account is None:
        raise ApiRefusalError(
            409, "You hold no live grant for an account with this id; ask an administrator."
        )
    created = lifecycle.access_request_create(
        requester=user,
        account=account,
        root_task=body.root_task,
        justification=body.justification,
        starts_at=body.starts_at or timezone.now(),
        duration_minutes=body.duration_minutes,
        ticket_reference=body.ticket_reference,
        other_task=body.other_task,
        bucket_name=body.bucket_name,
        queue_url=body.queue_url,
    )
    return Status(201, request_out(request_selectors.request_for(user=user, uuid=created.uuid)))


@router.post(
    "/requests/{uuid:uuid}/cancel",
    response=schemas.answers(200, schemas.AccessRequest),
    summary="Cancel your own pending or approved request",
    openapi_extra=scopes(Scope.WRITE_REQUESTS),
)
def request_cancel(request: HttpRequest, uuid: UUID) -> dict[str, Any]:
    user = caller(request, Scope.WRITE_REQUESTS, writes=True)
    found = request_selectors.request_for(user=user, uuid=uuid)
    lifecycle.access_request_cancel(request=found, requester=user)
    return request_out(request_selectors.request_for(user=user, uuid=uuid))
