"""The ledger page's filters, from the query string. Their names are the reports' own, so the page's
export links carry the same query (audits/report_forms.ReportFilterForm reads them)."""

from __future__ import annotations

from django import forms

from ledger.selectors import LedgerFilter
from portal.forms import PeriodAndAccountForm

_SHORT = 100
#: What the ledger shows: everything, the decisions and changes, or the notification deliveries apart
#: (``LedgerFilter.category``). The ledger report's form offers the same choice.
CATEGORY_CHOICES = [
    ("", "Everything"),
    ("decisions", "Decisions and changes"),
    ("deliveries", "Notification deliveries"),
]


class LedgerFilterForm(PeriodAndAccountForm):
    """Shape only; an invalid field filters nothing."""

    field_order = ["search", "since", "until", "account", "person", "action", "request_id", "category"]

    search = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        help_text="Action, person or target name; or a target's or request's exact id",
    )
    person = forms.CharField(required=False, max_length=150, label="Actor (username)")
    action = forms.CharField(required=False, max_length=_SHORT, label="Action")
    request_id = forms.CharField(required=False, max_length=64, label="Request id")
    category = forms.ChoiceField(required=False, choices=CATEGORY_CHOICES, label="Show")

    def filters(self) -> LedgerFilter:
        data = self.valid_data()
        since, until = self.period()
        return LedgerFilter(
            since=since,
            until=until,
            person=data.get("person") or "",
            action=data.get("action") or "",
            account_id=data.get("account") or "",
            request_id=data.get("request_id") or "",
            category=data.get("category") or "",
            search=data.get("search") or "",
        )
