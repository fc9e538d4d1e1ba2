"""Choices of the inventory and workflow, in the domain's words."""

from __future__ import annotations

from django.db import models


class Environment(models.TextChoices):
    PRODUCTION = "production", "Production"
    STAGING = "staging", "Staging"
    DEVELOPMENT = "development", "Development"
    SANDBOX = "sandbox", "Sandbox"
    SECURITY = "security", "Security"
    MANAGEMENT = "management", "Management"


class GovernanceMode(models.TextChoices):
    # Root keeps a password and MFA devices; the portal guards them.
    CLASSIC = "classic", "Password and MFA (classic)"
    # Root credentials deleted; privileged tasks go through sts:AssumeRoot from the management account.
    CENTRALISED = "centralised", "Centralised root access"


class CredentialStorage(models.TextChoices):
    PORTAL = "portal", "Encrypted in the portal"
    PHYSICAL = "physical", "Physical (safe and sealed envelope)"
    NONE = "none", "No password (centralised root access)"


class MfaDeviceKind(models.TextChoices):
    FIDO = "fido", "FIDO security key"
    HARDWARE_TOTP = "hardware_totp", "Hardware TOTP token"
    VIRTUAL = "virtual", "Virtual authenticator (flagged)"


class CustodyState(models.TextChoices):
    IN_SAFE = "in_safe", "In safe"
    CHECKED_OUT = "checked_out", "Checked out"
    LOST = "lost", "Lost"
    RETIRED = "retired", "Retired"
