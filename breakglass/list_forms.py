"""The search and filter boxes above the inventory's lists. Shape only: what a search matches is the
selectors' rule (``selectors.account_search_q`` and friends)."""

from __future__ import annotations

from typing import Any

from django import forms

from breakglass.choices import CustodyState, Environment, RequestStatus

_ANY = [("", "Any")]


class _ListSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search", strip=True)

    def value(self, name: str) -> str:
        """The cleaned value of ``name``, or empty when the form is unbound or invalid (then the list
        is shown unfiltered and the form shows what to fix)."""
        if not self.is_bound or not self.is_valid():
            return ""
        return str(self.cleaned_data.get(name) or "")

    def is_filtered(self) -> bool:
        return any(self.value(name) for name in self.fields)


class AccountSearchForm(_ListSearchForm):
    environment = forms.ChoiceField(choices=_ANY + list(Environment.choices), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Name or account id (1234-5678-9012)"


class DeviceSearchForm(_ListSearchForm):
    custody = forms.ChoiceField(choices=_ANY + list(CustodyState.choices), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Label, serial or account"


class RequestSearchForm(_ListSearchForm):
    status = forms.ChoiceField(choices=_ANY + list(RequestStatus.choices), required=False)

    def __init__(
        self,
        *args: Any,
        with_status: bool = True,
        placeholder: str = "BG-…, account or ticket",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = placeholder
        if not with_status:  # a list of one status (active sessions) or of no request (custody board)
            del self.fields["status"]


class ApprovalSearchForm(_ListSearchForm):
    show = forms.ChoiceField(
        choices=[("", "Waiting for me"), ("decided", "Decided by me")], required=False, label="Show"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "BG-…, account or ticket"


class DrillSearchForm(_ListSearchForm):
    state = forms.ChoiceField(
        choices=[*_ANY, ("overdue", "Overdue"), ("due_soon", "Due soon")], required=False, label="Next drill"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Name or account id (1234-5678-9012)"
