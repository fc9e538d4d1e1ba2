"""The form of a new notification channel. It checks shape (a known kind, a well-formed target);
the service checks who may add one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from breakglass.choices import ChannelKind
from breakglass.models import AwsAccount
from breakglass.notifications.targets import validate_target


class ChannelForm(forms.Form):
    account = forms.ModelChoiceField(
        queryset=AwsAccount.objects.order_by("name"),
        required=False,
        empty_label="All accounts (hears every emergency and revocation)",
        help_text="A channel of one account hears its new requests, check-outs, returns, overdue "
        "check-outs, emergencies and revocations.",
    )
    kind = forms.ChoiceField(choices=ChannelKind.choices)
    name = forms.CharField(max_length=100)
    target = forms.CharField(
        max_length=500,
        label="Email addresses or URL",
        help_text="Email list: addresses separated by commas. Slack-compatible or JSON webhook: the "
        "http(s) URL. Treat a webhook URL as a password: it is never shown again in full.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        kind, target = cleaned.get("kind"), cleaned.get("target")
        if kind and target:
            try:
                cleaned["target"] = validate_target(kind, target)
            except ValidationError as error:
                self.add_error("target", error)
        return cleaned


__all__ = ["ChannelForm"]
