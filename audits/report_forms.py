"""The filter form of the reports page and of every export link (the findings and ledger pages pass
their own query strings, whose field names it shares). It checks shape only."""

from __future__ import annotations

from django import forms

from audits.reports import ReportFilter
from breakglass import selectors as inventory
from breakglass.choices import Environment
from ledger.forms import CATEGORY_CHOICES
from portal.forms import PeriodAndAccountForm, account_name_or_id_field, split_account

_ANY = [("", "Any")]
_SHORT = 100


class ReportFilterForm(PeriodAndAccountForm):
    """Every filter a report may read; each report's section of the page shows the ones it uses."""

    field_order = ["since", "until", "account"]

    environment = forms.ChoiceField(choices=_ANY + list(Environment.choices), required=False)
    person = forms.CharField(required=False, max_length=150, label="Person (username)")
    status = forms.CharField(required=False, max_length=_SHORT)
    severity = forms.CharField(required=False, max_length=_SHORT)
    kind = forms.CharField(required=False, max_length=_SHORT)
    action = forms.CharField(required=False, max_length=_SHORT, label="Action (ledger)")
    request_id = forms.CharField(required=False, max_length=64, label="Request id (ledger)")
    search = forms.CharField(required=False, max_length=200, label="Search (ledger)")
    campaign = forms.UUIDField(required=False, label="Campaign id (access reviews)")
    category = forms.ChoiceField(required=False, choices=CATEGORY_CHOICES)
    # The findings page passes its own query string, whose account may be a name (``split_account``).
    account = account_name_or_id_field()

    def filters(self) -> ReportFilter:
        """The valid part of the query as a report filter (an invalid field filters nothing)."""
        data = self.valid_data()
        since, until = self.period()
        account_id, account = split_account(data.get("account") or "")
        if account:
            # A name that picks out one account filters every report by its id.
            account_id = inventory.account_id_named(account) or ""
            account = "" if account_id else account
        return ReportFilter(
            since=since,
            until=until,
            account_id=account_id,
            account=account,
            environment=data.get("environment") or "",
            person=data.get("person") or "",
            status=data.get("status") or "",
            severity=data.get("severity") or "",
            kind=data.get("kind") or "",
            action=data.get("action") or "",
            request_id=data.get("request_id") or "",
            category=data.get("category") or "",
            search=data.get("search") or "",
            campaign=str(data["campaign"]) if data.get("campaign") else "",
        )
