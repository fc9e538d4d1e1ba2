"""The ``session_root_events`` template tag on a check-out's page: the root events matched to the
check-out, shown only to those who may see the request."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse

from audits.models import RootEvent
from audits.tests.findings_support import checkout, hours_ago, ingest_records, root_call

pytestmark = pytest.mark.django_db


def test_the_session_page_lists_the_root_events_matched_to_the_check_out(
    client: Client, requester: Any, approver: Any, auditor: Any, account: Any, tmp_path: Path
) -> None:
    session = checkout(requester, account, approver, out_at=hours_ago(2), minutes=240)
    in_task = root_call(when=hours_ago(1), name="CloseAccount", source="account.amazonaws.com")
    outside_task = root_call(
        when=hours_ago(1) + timedelta(minutes=5), name="CreateUser", source="iam.amazonaws.com"
    )
    ingest_records(tmp_path, [in_task, outside_task])
    assert RootEvent.objects.filter(session=session).count() == 2
    url = reverse("breakglass:request_detail", kwargs={"uuid": session.uuid})

    for person in (requester, auditor):
        client.force_login(person)
        content = client.get(url).content.decode()

        assert "Root activity in CloudTrail" in content
        assert "CloseAccount" in content
        assert "CreateUser" in content
    in_scope = {event.event_name: event.in_scope for event in RootEvent.objects.filter(session=session)}
    assert in_scope == {"CloseAccount": True, "CreateUser": False}
    assert '<span class="badge badge-warn">no</span>' in content
    assert '<span class="badge badge-ok">yes</span>' in content


def test_a_check_out_without_matched_events_says_so(
    client: Client, requester: Any, approver: Any, account: Any
) -> None:
    session = checkout(requester, account, approver, out_at=hours_ago(1))
    client.force_login(requester)

    content = client.get(reverse("breakglass:request_detail", kwargs={"uuid": session.uuid})).content.decode()

    assert "No root events matched to this check-out yet." in content


def test_the_template_tag_gives_nothing_to_someone_who_may_not_see_the_request(
    requester: Any, approver: Any, outsider: Any, account: Any, tmp_path: Path
) -> None:
    session = checkout(requester, account, approver, out_at=hours_ago(2), minutes=240)
    ingest_records(tmp_path, [root_call(when=hours_ago(1), name="CloseAccount")])
    template = Template("{% load evidence %}{% session_root_events r as events %}{{ events|length }}")

    def shown_to(user: Any) -> str:
        http_request = RequestFactory().get("/")
        http_request.user = user
        return template.render(Context({"r": session, "request": http_request}))

    assert shown_to(requester) == "1"
    assert shown_to(outsider) == "0"
