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

    from audits.models import Finding, IngestionRun
    from breakglass.models import AccessRequest, AwsAccount, ReviewCampaign
    from ledger.models import LedgerEntry
    from portal.paging import cursor_after
    from portal.policy import Role

    own = AccessRequest.objects.filter(requester=people[Role.REQUESTER]).order_by("-pk").first()
    decided = AccessRequest.objects.filter(account__approvers=people[Role.APPROVER]).order_by("-pk").first()
    account = AwsAccount.objects.order_by("pk")[len(generated["by_role"]["approvers"]) // 2]
    finding = Finding.objects.order_by("-last_seen", "-pk").first()
    campaign = ReviewCampaign.objects.order_by("-created_at", "-pk").first()
    if own is None or decided is None or finding is None or campaign is None:
        raise ValueError("the generated organization lacks a request, a finding or an access review")

    def url(view: str, query: str = "", **kwargs: Any) -> str:
        return reverse(view, kwargs=kwargs or None) + (f"?{query}" if query else "")

    def deep(rows: Any, ordering: tuple[str, ...]) -> str:
        """The query of a page halfway down a list (keyset: no page numbers)."""
        middle = rows.order_by(*ordering)[max(0, rows.count() // 2 - 1)]
        return f"cursor={cursor_after(middle, ordering)}"

    mine = AccessRequest.objects.filter(requester=people[Role.REQUESTER])
    findings = Finding.objects.all()
    ledger = LedgerEntry.objects.all()
    accounts = AwsAccount.objects.all()
    runs = IngestionRun.objects.all()
    id_start = account.account_id[:6]
    home: Page = ("home", url("home"), False)
    return {
        Role.REQUESTER: [
            home,
            ("my requests", url("breakglass:request_list"), True),
            (
                "my requests, deep page",
                url("breakglass:request_list", deep(mine, ("-created_at", "-id"))),
                True,
            ),
            ("my requests, search", url("breakglass:request_list", "q=account-00"), True),
            ("a request", url("breakglass:request_detail", uuid=own.uuid), False),
            ("new request form", url("breakglass:request_create"), False),
            ("API tokens", url("api:token_list"), True),
        ],
        Role.APPROVER: [
            home,
            ("approvals", url("breakglass:request_approvals"), True),
            ("approvals, search", url("breakglass:request_approvals", "q=account"), True),
            ("approvals, decided by me", url("breakglass:request_approvals", "show=decided"), True),
            ("access reviews waiting", url("breakglass:review_inbox"), True),
            ("accounts", url("breakglass:account_list"), True),
            ("a request", url("breakglass:request_detail", uuid=decided.uuid), False),
        ],
        Role.CUSTODIAN: [
            home,
            ("custody board", url("breakglass:custody_board"), True),
            ("custody board, search", url("breakglass:custody_board", "q=key"), True),
            ("devices", url("breakglass:device_list"), True),
            ("active sessions", url("breakglass:request_active"), True),
            ("active sessions, search", url("breakglass:request_active", "q=account"), True),
            ("drills", url("breakglass:drill_list"), True),
        ],
        Role.AUDITOR: [
            home,
            ("findings", url("audits:finding_list"), True),
            ("findings, critical", url("audits:finding_list", "severity=critical"), True),
            ("findings, deep page", url("audits:finding_list", deep(findings, ("-last_seen", "-id"))), True),
            ("findings, account by name", url("audits:finding_list", f"account={account.name}"), True),
            ("findings, account by id start", url("audits:finding_list", f"account={id_start}"), True),
            ("a finding", url("audits:finding_detail", uuid=finding.uuid), False),
            ("runs", url("audits:run_list"), True),
            ("runs, deep page", url("audits:run_list", deep(runs, ("-started_at", "-id"))), True),
            ("ledger", url("ledger:ledger_list"), True),
            ("ledger, deep page", url("ledger:ledger_list", deep(ledger, ("-sequence",))), True),
            (
                "ledger, action and category",
                url("ledger:ledger_list", "action=request.approved&category=decisions"),
                True,
            ),
            ("ledger, account", url("ledger:ledger_list", f"account={account.account_id}"), True),
            ("ledger, actor and period", url("ledger:ledger_list", "person=system&since=2000-01-01"), True),
            ("active sessions", url("breakglass:request_active"), True),
            ("drills", url("breakglass:drill_list"), True),
            ("drills, overdue", url("breakglass:drill_list", "state=overdue"), True),
            ("access reviews", url("breakglass:review_campaign_list"), True),
            ("an access review", url("breakglass:review_campaign_detail", uuid=campaign.uuid), True),
            ("posture", url("audits:organization_posture"), True),
            ("organization", url("audits:organization"), True),
            ("reports and export jobs", url("audits:report_index"), True),
            (
                "findings CSV, one account",
                url("audits:report_export", f"account={account.account_id}", name="findings", fmt="csv"),
                False,
            ),
        ],
        Role.ADMINISTRATOR: [
            home,
            ("accounts", url("breakglass:account_list"), True),
            ("accounts, deep page", url("breakglass:account_list", deep(accounts, ("name", "id"))), True),
            ("accounts, search", url("breakglass:account_list", "q=account-00"), True),
            ("an account", url("breakglass:account_detail", uuid=account.uuid), False),
            ("devices", url("breakglass:device_list"), True),
            ("API tokens", url("api:token_list"), True),
            ("organization", url("audits:organization"), True),
            ("drills", url("breakglass:drill_list"), True),
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
