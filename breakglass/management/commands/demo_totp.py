from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.testing import totp_code


class Command(BaseCommand):
    help = "Demo only (refused unless DJANGO_DEBUG=true): print the current TOTP code of a persona."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_totp only works in development (DJANGO_DEBUG=true).")
        authenticator = Authenticator.objects.filter(
            user__username=options["username"], type=Authenticator.Type.TOTP
        ).first()
        if authenticator is None:
            raise CommandError(f"{options['username']} has no TOTP authenticator.")
        self.stdout.write(totp_code(decrypt(authenticator.data["secret"])))
