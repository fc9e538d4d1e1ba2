from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from breakglass.demo import seed_demo
from portal.links import absolute_url


class Command(BaseCommand):
    help = (
        "Create the demo organization (8 accounts, MFA devices, grants) and one persona per role. "
        "Idempotent; every run sets new persona passwords and prints them."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        logins = seed_demo()
        self.stdout.write(
            self.style.SUCCESS(f"Demo organization ready. Sign in at {absolute_url('home')} as:")
        )
        self.stdout.write(
            f"  {'username':<16} {'password':<18} {'roles':<40} TOTP secret (add to an authenticator app)"
        )
        for login in logins:
            self.stdout.write(
                f"  {login.username:<16} {login.password:<18} {login.roles:<40} {login.totp_secret or '-'}"
            )
        self.stdout.write("Current TOTP code for a persona: make totp USER=<username>   (demo only)")
