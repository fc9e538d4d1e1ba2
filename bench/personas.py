"""One signed-in person per role over a generated organization, and the pages each of them reads.

Shared by ``load_benchmark.py`` (the load) and ``portal/tests/test_list_query_counts.py`` (query counts
that must not grow with the data), so both look at the same pages. A page is ``(name, path, is_list)``:
list pages are the ones whose rows grow without bound.
"""

from __future__ import annotations

from typing import Any

Page = tuple[str, str, bool]


def pages_by_role(generated: dict[str, Any], people: dict[Any, Any]) -> dict[Any, list[Page]]:
    from django.urls import reverse

    from audits.models import Finding
    from breakglass.models import AccessRequest, AwsAccount
    from portal.policy import Role

    own = AccessRequest.objects.filter(requester=people[Role.REQUESTER]).order_by("-pk").first()
    decided = AccessRequest.objects.filter(account__approvers=people[Role.APPROVER]).order_by("-pk").first()
    account = AwsAccount.objects.order_by("pk")[len(generated["by_role"]["approvers"]) // 2]
    finding = Finding.objects.order_by("-last_seen", "-pk").first()
    if own is None or decided is None or finding is None:
        raise ValueError("the generated organization lacks a request or a finding")

    def url(view: str, query: str = "", **kwargs: Any) -> str:
        return reverse(view, kwargs=kwargs or None) + (f"?{query}" if query else "")

    home: Page = ("home", url("home"), False)
    return {
        Role.REQUESTER: [
            home,
            ("my requests", url("breakglass:request_list"), True),
            ("my requests, page 2", url("breakglass:request_list", "page=2"), True),
            ("a request", url("breakglass:request_detail", uuid=own.uuid), False),
            ("new request form", url("breakglass:request_create"), False),
        ],
        Role.APPROVER: [
            home,
            ("approvals", url("breakglass:request_approvals"), True),
            ("accounts", url("breakglass:account_list"), True),
            ("a request", url("breakglass:request_detail", uuid=decided.uuid), False),
        ],
        Role.CUSTODIAN: [
            home,
            ("custody board", url("breakglass:custody_board"), True),
            ("devices", url("breakglass:device_list"), True),
            ("active sessions", url("breakglass:request_active"), True),
        ],
        Role.AUDITOR: [
            home,
            ("findings", url("audits:finding_list"), True),
            ("findings, critical", url("audits:finding_list", "severity=critical"), True),
            ("findings, page 200", url("audits:finding_list", "page=200"), True),
            ("a finding", url("audits:finding_detail", uuid=finding.uuid), False),
            ("runs", url("audits:run_list"), True),
            ("ledger", url("ledger:ledger_list"), True),
            ("ledger, page 500", url("ledger:ledger_list", "page=500"), True),
            ("reports", url("audits:report_index"), False),
            (
                "findings CSV, one account",
                url("audits:report_export", f"account={account.account_id}", name="findings", fmt="csv"),
                False,
            ),
        ],
        Role.ADMINISTRATOR: [
            home,
            ("accounts", url("breakglass:account_list"), True),
            ("accounts, page 50", url("breakglass:account_list", "page=50"), True),
            ("an account", url("breakglass:account_detail", uuid=account.uuid), False),
            ("devices", url("breakglass:device_list"), True),
        ],
    }


def personas(generated: dict[str, Any], *, host: str = "testserver") -> list[dict[str, Any]]:
    """One person per role, in the role's group, with MFA, signed in through a test client."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from portal.policy import Role
    from portal.testing import enrol_totp

    users = get_user_model().objects
    by_role = generated["by_role"]
    people = {
        Role.REQUESTER: users.get(pk=by_role["requesters"][0]),
        Role.APPROVER: users.get(pk=by_role["approvers"][0]),
        Role.CUSTODIAN: users.get(pk=by_role["custodians"][0]),
        Role.AUDITOR: users.get_or_create(username="bench.auditor")[0],
        Role.ADMINISTRATOR: users.get_or_create(username="bench.admin")[0],
    }
    pages = pages_by_role(generated, people)
    made = []
    for role, person in people.items():
        person.groups.add(Group.objects.get_or_create(name=role.value)[0])
        enrol_totp(person)
        client = Client(HTTP_HOST=host)
        client.force_login(person)
        made.append({"role": role.value, "user": person, "client": client, "pages": pages[role]})
    return made
