"""The demo organization behind ``make run``: accounts, devices, grants and one persona per role.

Everything is created through the services (so the demo's ledger is real). Passwords are generated
on every run and printed, never stored in the repository.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from breakglass import drills, membership, services
from breakglass.choices import CredentialStorage, Environment, GovernanceMode, MfaDeviceKind
from breakglass.models import AwsAccount, Drill, Grant, MfaDevice
from portal import policy
from portal.policy import Role
from portal.testing import enrol_totp


@dataclass(frozen=True)
class Persona:
    username: str
    first_name: str
    last_name: str
    roles: tuple[Role, ...]
    #: Fictional: +1 555 0100 to 0199 are reserved for fiction in the North American plan.
    phone: str = ""


PERSONAS = (
    Persona("rita.requester", "Rita", "Requester", (Role.REQUESTER,), "+1 555 0104"),
    Persona("alan.approver", "Alan", "Approver", (Role.APPROVER,), "+1 555 0102"),
    Persona("anna.approver", "Anna", "Approver", (Role.APPROVER,), "+1 555 0103"),
    Persona("carl.custodian", "Carl", "Custodian", (Role.CUSTODIAN,), "+1 555 0101"),
    Persona("audrey.auditor", "Audrey", "Auditor", (Role.AUDITOR,)),
    Persona(
        "ada.admin",
        "Ada",
        "Administrator",
        (Role.ADMINISTRATOR, Role.APPROVER, Role.CUSTODIAN),
        "+1 555 0100",
    ),
)

# account id, name, environment, governance, quorum, credential storage, devices (serials)
ACCOUNTS: tuple[tuple[str, str, str, str, int, str, tuple[str, ...]], ...] = (
    (
        "100000000001",
        "org-management",
        Environment.MANAGEMENT,
        GovernanceMode.CLASSIC,
        2,
        CredentialStorage.PHYSICAL,
        ("FIDO-0001", "FIDO-0002"),
    ),
    (
        "100000000002",
        "security-tooling",
        Environment.SECURITY,
        GovernanceMode.CENTRALISED,
        2,
        CredentialStorage.NONE,
        (),
    ),
    (
        "100000000003",
        "payments-prod",
        Environment.PRODUCTION,
        GovernanceMode.CLASSIC,
        2,
        CredentialStorage.PORTAL,
        ("FIDO-0001", "TOTP-1003"),
    ),
    (
        "100000000004",
        "web-prod",
        Environment.PRODUCTION,
        GovernanceMode.CLASSIC,
        2,
        CredentialStorage.PHYSICAL,
        ("FIDO-0002",),
    ),
    (
        "100000000005",
        "web-staging",
        Environment.STAGING,
        GovernanceMode.CLASSIC,
        1,
        CredentialStorage.PORTAL,
        ("VIRT-0005",),
    ),
    (
        "100000000006",
        "dev-sandbox",
        Environment.SANDBOX,
        GovernanceMode.CENTRALISED,
        1,
        CredentialStorage.NONE,
        (),
    ),
    (
        "100000000007",
        "log-archive",
        Environment.SECURITY,
        GovernanceMode.CLASSIC,
        2,
        CredentialStorage.PORTAL,
        ("TOTP-1007", "FIDO-0001"),
    ),
    (
        "100000000008",
        "data-platform-prod",
        Environment.PRODUCTION,
        GovernanceMode.CENTRALISED,
        2,
        CredentialStorage.NONE,
        (),
    ),
)

DEVICES = (
    ("FIDO-0001", MfaDeviceKind.FIDO, "YubiKey 5 NFC #1", "Safe A, London"),
    ("FIDO-0002", MfaDeviceKind.FIDO, "YubiKey 5C #2", "Safe B, Dublin"),
    ("TOTP-1003", MfaDeviceKind.HARDWARE_TOTP, "Token2 C203 (payments)", "Safe A, London"),
    ("TOTP-1007", MfaDeviceKind.HARDWARE_TOTP, "Gemalto IDProve (log archive)", "Safe B, Dublin"),
    ("VIRT-0005", MfaDeviceKind.VIRTUAL, "Shared phone authenticator", "Team phone"),
)

# username, account name, emergency
GRANTS = (
    ("rita.requester", "payments-prod", True),
    ("rita.requester", "web-prod", False),
    ("rita.requester", "web-staging", False),
    ("rita.requester", "log-archive", False),
    # A centralised account: the AssumeRoot tasks of the README's walk-through (issue 12).
    ("rita.requester", "dev-sandbox", False),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    roles: str
    totp_secret: str | None


def _persona(persona: Persona) -> tuple[Any, str, str | None]:
    user, _ = get_user_model().objects.get_or_create(
        username=persona.username,
        defaults={
            "first_name": persona.first_name,
            "last_name": persona.last_name,
            "email": f"{persona.username}@demo.invalid",
        },
    )
    password = secrets.token_urlsafe(12)
    user.set_password(password)
    user.save()
    user.groups.set(Group.objects.filter(name__in=[r.value for r in persona.roles]))
    policy.forget_roles(user)
    if persona.phone:
        membership.person_phone_set(actor=user, person=user, phone=persona.phone)
    secret: str | None = None
    if policy.requires_mfa(user):
        existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        # Keep an enrolled secret across runs so the authenticator app the person set up keeps working.
        secret = decrypt(existing.data["secret"]) if existing else enrol_totp(user)
    return user, password, secret


def seed_demo() -> list[DemoLogin]:
    """Create (or complete) the demo organization; returns fresh logins for every persona."""
    logins: list[DemoLogin] = []
    users: dict[str, Any] = {}
    with transaction.atomic():
        for persona in PERSONAS:
            user, password, secret = _persona(persona)
            users[persona.username] = user
            logins.append(
                DemoLogin(persona.username, password, ", ".join(r.value for r in persona.roles), secret)
            )
        admin = users["ada.admin"]
        approvers = [users["alan.approver"], users["anna.approver"]]
        custodians = [users["carl.custodian"], admin]

        devices = {}
        for serial, kind, label, place in DEVICES:
            device = MfaDevice.objects.filter(serial_number=serial).first()
            if device is None:
                device = services.mfa_device_create(
                    actor=admin, kind=kind, label=label, serial_number=serial, storage_location=place
                )
            devices[serial] = device

        accounts = {}
        for account_id, name, environment, mode, quorum, storage, serials in ACCOUNTS:
            account = AwsAccount.objects.filter(account_id=account_id).first()
            if account is None:
                account = services.account_create(
                    actor=admin,
                    account_id=account_id,
                    name=name,
                    root_email=f"aws-root+{name}@demo.invalid",
                    environment=environment,
                    governance_mode=mode,
                    approval_quorum=quorum,
                    max_session_minutes=120 if environment == Environment.PRODUCTION else 240,
                    ticket_required=environment in (Environment.PRODUCTION, Environment.MANAGEMENT),
                    approvers=approvers,
                    custodians=custodians,
                )
            accounts[name] = account
            if account.root_credential_or_none is None:
                if storage == CredentialStorage.PORTAL:
                    services.root_credential_store_in_portal(
                        actor=admin, account=account, password=secrets.token_urlsafe(24)
                    )
                elif storage == CredentialStorage.PHYSICAL:
                    services.root_credential_record_physical(
                        actor=admin,
                        account=account,
                        safe_location="Safe A, London" if name == "org-management" else "Safe B, Dublin",
                        envelope_number=f"ENV-{account_id[-4:]}-01",
                    )
                else:
                    services.root_credential_record_none(actor=admin, account=account)
            for serial in serials:
                if not account.mfa_assignments.filter(device=devices[serial]).exists():
                    services.mfa_device_assign(actor=admin, device=devices[serial], account=account)

        for username, account_name, emergency in GRANTS:
            user, account = users[username], accounts[account_name]
            if not Grant.objects.filter(user=user, account=account, revoked_at__isnull=True).exists():
                services.grant_create(
                    actor=admin,
                    user=user,
                    account=account,
                    expires_at=timezone.now() + timedelta(days=180),
                    emergency=emergency,
                )

        # A drill announced for tomorrow, so the drills page has one to show (issue 9, item 4).
        if not Drill.objects.exists():
            drills.drill_schedule(
                administrator=admin,
                account=accounts["log-archive"],
                performer=users["carl.custodian"],
                starts_at=timezone.now() + timedelta(days=1),
                duration_minutes=60,
                note="Demo drill: sign in as root with the Gemalto token, sign out, check in.",
            )
    return logins
