"""``person_label``: one way to name a person."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

from portal.people import person_label


def test_a_person_is_named_by_full_name_and_username() -> None:
    assert person_label(User(username="rita", first_name="Rita", last_name="Ramos")) == "Rita Ramos (rita)"


def test_a_person_without_a_name_is_named_by_username() -> None:
    assert person_label(User(username="rita")) == "rita"


def test_nobody_is_the_system_unless_the_caller_says_otherwise() -> None:
    assert person_label(None) == "system"
    assert person_label(AnonymousUser()) == "system"
    assert person_label(None, nobody="the portal") == "the portal"
