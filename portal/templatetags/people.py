"""``{{ user|person }}``: a person as :func:`portal.people.person_label` names them."""

from __future__ import annotations

from typing import Any

from django import template

from portal.people import person_label

register = template.Library()


@register.filter(name="person")
def person(user: Any) -> str:
    return person_label(user)


@register.filter(name="phone")
def phone(user: Any) -> str:
    """The person's recorded phone number, or ``""`` (read from ``user.profile`` when the app
    keeps one: portal's base names no app, so it asks for the attribute, never the model)."""
    # A missing one-to-one raises RelatedObjectDoesNotExist, an AttributeError: getattr's default.
    profile = getattr(user, "profile", None)
    return str(getattr(profile, "phone", "") or "")


@register.filter(name="tel_href")
def tel_href(number: str) -> str:
    """``tel:+15550101`` for ``+1 555 0101``: only the digits and a leading plus."""
    text = str(number).strip()
    digits = "".join(character for character in text if character.isdigit())
    return f"tel:{'+' if text.startswith('+') else ''}{digits}" if digits else ""
