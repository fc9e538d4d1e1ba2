"""Absolute links for messages read outside the portal: the named page under PORTAL_BASE_URL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.urls import NoReverseMatch

from portal.links import absolute_url


def test_a_named_page_is_joined_to_the_base_url_without_a_double_slash(settings: Any) -> None:
    settings.PORTAL_BASE_URL = "https://breakglass.example.org/"
    some = uuid.uuid4()

    assert absolute_url("breakglass:request_detail", kwargs={"uuid": some}) == (
        f"https://breakglass.example.org/inventory/requests/{some}/"
    )
    assert absolute_url("audits:finding_detail", args=[some]) == (
        f"https://breakglass.example.org/audit/findings/{some}/"
    )
    assert absolute_url("channels:channel_list") == "https://breakglass.example.org/inventory/channels/"


@pytest.mark.parametrize("unset", ["deleted", ""])
def test_without_a_base_url_it_points_at_the_local_portal(settings: Any, unset: str) -> None:
    if unset == "deleted":
        del settings.PORTAL_BASE_URL
    else:
        settings.PORTAL_BASE_URL = ""
    assert absolute_url("home") == "http://127.0.0.1:8000/"


def test_an_unknown_page_is_an_error_not_a_guessed_path() -> None:
    with pytest.raises(NoReverseMatch):
        absolute_url("breakglass:no_such_page")
