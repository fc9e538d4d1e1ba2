"""What people type into a request is bounded and plain in the services themselves, not only in the
forms: a hand-made POST or another caller of the service meets the same rule (issue 8, item 10).

Each of these failed before the services called ``portal.validators``: a 1 MB justification was
stored and sent in every notification, and a right-to-left override was kept in the ticket."""

from __future__ import annotations

from typing import Any

import pytest

from breakglass import custody, lifecycle
from breakglass.models import AccessRequest
from breakglass.tests.lifecycle_helpers import active, approve, make_request, returned
from portal.errors import DomainError
from portal.validators import PROSE_MAX_CHARS, TICKET_MAX_CHARS

pytestmark = pytest.mark.django_db

TOO_LONG = "x" * (PROSE_MAX_CHARS + 1)


def errors_of(raised: pytest.ExceptionInfo[DomainError]) -> dict[str, Any]:
    return raised.value.message_dict


def test_a_justification_over_the_limit_is_refused_and_no_request_is_made(
    requester: Any, account: Any
) -> None:
    with pytest.raises(DomainError) as raised:
        make_request(requester, account, justification=TOO_LONG)

    assert "justification" in errors_of(raised)
    assert not AccessRequest.objects.exists()


def test_a_ticket_with_a_right_to_left_override_is_refused(requester: Any, account: Any) -> None:
    with pytest.raises(DomainError) as raised:
        make_request(requester, account, ticket_reference="CHG-\u202e4321")

    assert "ticket_reference" in errors_of(raised)
    assert "U+202E" in " ".join(errors_of(raised)["ticket_reference"])


def test_a_ticket_over_its_limit_is_refused(requester: Any, account: Any) -> None:
    with pytest.raises(DomainError) as raised:
        make_request(requester, account, ticket_reference="C" * (TICKET_MAX_CHARS + 1))

    assert "ticket_reference" in errors_of(raised)


def test_a_decision_comment_over_the_limit_is_refused(requester: Any, approver: Any, account: Any) -> None:
    request = make_request(requester, account)

    with pytest.raises(DomainError) as raised:
        lifecycle.access_request_decide(
            request=request, approver=approver, decision="approve", comment=TOO_LONG
        )

    assert "comment" in errors_of(raised)
    assert not request.approvals.exists()


def test_a_revocation_reason_over_the_limit_is_refused(
    requester: Any, administrator: Any, account: Any
) -> None:
    request = make_request(requester, account)

    with pytest.raises(DomainError) as raised:
        lifecycle.access_request_revoke(request=request, administrator=administrator, reason=TOO_LONG)

    assert "reason" in errors_of(raised)
    request.refresh_from_db()
    assert request.status == "pending"


def test_a_check_in_report_over_the_limit_is_refused(
    requester: Any, approver: Any, portal_account: Any
) -> None:
    session = active(make_request(requester, portal_account), approver)

    with pytest.raises(DomainError) as raised:
        custody.access_request_check_in(request=session, actor=requester, work_done=TOO_LONG)

    assert "work_done" in errors_of(raised)
    session.refresh_from_db()
    assert session.status == "active"


def test_a_review_with_an_invisible_character_in_the_envelope_number_is_refused(
    requester: Any, approver: Any, custodian: Any, account: Any
) -> None:
    session = returned(make_request(requester, account), approver)

    with pytest.raises(DomainError) as raised:
        custody.access_request_confirm_rotation(
            request=session,
            actor=custodian,
            review_note="The work stayed within the declared task.",
            new_envelope_number="ENV-\u200b3",
        )

    assert "new_envelope_number" in errors_of(raised)
    session.refresh_from_db()
    assert session.status == "returned"


def test_texts_within_the_limits_still_go_through(requester: Any, approver: Any, account: Any) -> None:
    request = approve(make_request(requester, account, justification="y" * PROSE_MAX_CHARS), approver)

    assert request.status == "approved"
