"""``{{ user|person }}``: a person as :func:`portal.people.person_label` names them."""

from __future__ import annotations

from typing import Any

from django import template

from portal.people import person_label

register = template.Library()


@register.filter(name="person")
def person(user: Any) -> str:
    return person_label(user)
