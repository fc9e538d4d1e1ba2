"""What the portal keeps about a person beyond Django's user: how to reach them by phone.

Imported by ``breakglass.models`` so Django finds it. Read through :func:`phone_of`, which never
queries when the caller selected ``profile`` with the user (the lists that name custodians do).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import QuerySet

from portal.models import TimeStamped

#: Digits, spaces, dots, brackets and dashes, with an optional leading +; 6 to 30 characters.
PHONE_PATTERN = r"^\+?[0-9][0-9 ().\-]{4,28}[0-9]$"


class PersonProfile(TimeStamped):
    """A person's phone number, shown with their name where the next step waits for them (*waiting
    for a custodian — carl.custodian, +1 555 0101*), so someone at 3 a.m. can call instead of write.
    Edited by the person on their profile page and by an administrator; each change is ledgered."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    phone = models.CharField(
        max_length=30,
        blank=True,
        validators=[
            RegexValidator(PHONE_PATTERN, "A phone number: digits, spaces and dashes, with an optional +.")
        ],
    )

    def __str__(self) -> str:
        return f"profile of {self.user}"


def phone_of(person: Any) -> str:
    """The person's phone number, or ``""`` (no profile, or none recorded)."""
    # A missing one-to-one raises RelatedObjectDoesNotExist, an AttributeError: getattr's default.
    profile = getattr(person, "profile", None)
    return str(profile.phone) if profile is not None else ""


def with_profile() -> QuerySet[Any]:
    """People with their profile joined: for the prefetches of the lists that name and phone them."""
    return get_user_model().objects.select_related("profile")
