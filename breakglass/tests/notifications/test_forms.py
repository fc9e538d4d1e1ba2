"""The channel form checks shape: a known kind, a name, a target valid for the kind (normalised)."""

from __future__ import annotations

from typing import Any

import pytest

from breakglass.notifications.forms import ChannelForm

pytestmark = pytest.mark.django_db


def test_an_email_list_is_normalised(account: Any) -> None:
    form = ChannelForm(
        {"account": account.pk, "kind": "email", "name": "team", "target": " a@example.org,b@example.org ,"}
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["target"] == "a@example.org, b@example.org"
    assert form.cleaned_data["account"] == account


def test_a_webhook_target_must_be_an_http_url_and_the_error_sits_on_the_target() -> None:
    form = ChannelForm({"account": "", "kind": "webhook", "name": "local", "target": "file:///etc/passwd"})
    assert not form.is_valid()
    assert form.errors["target"] == ["Give an http:// or https:// URL."]


def test_an_unknown_kind_is_refused() -> None:
    form = ChannelForm({"account": "", "kind": "pager", "name": "x", "target": "a@example.org"})
    assert not form.is_valid()
    assert "kind" in form.errors
