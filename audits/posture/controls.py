"""The posture checks and the controls they score, in the style of Security Hub's controls.

Pure: no database. A *check* is one question about one account's root user, with one stored result
and (when it fails) one finding kind. A *control* is what an auditor recognises (Security Hub IAM.4,
CIS AWS Foundations 1.4, ...) and is scored from the checks it names. CIS numbers are v1.4.0-v4.0.1's
(they move between versions; aws-root-facts §5 has the table), with v7.0's 2.1.1 for centralised
root access, which older versions lack.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from audits.choices import FindingKind

CONTACT_TYPES: tuple[str, ...] = ("BILLING", "OPERATIONS", "SECURITY")


class Check(models.TextChoices):
    ROOT_ACCESS_KEYS = "root_access_keys", "No root access keys"
    ROOT_MFA = "root_mfa", "Root MFA enabled"
    ROOT_HARDWARE_MFA = "root_hardware_mfa", "Root MFA is hardware"
    ROOT_PASSWORD = "root_password", "No root password in a centralised account"
    ROOT_SIGNING_CERTIFICATES = "root_signing_certificates", "No root signing certificates"
    MFA_REGISTRY = "mfa_registry", "Root MFA matches the inventory"
    CONTACT_BILLING = "alternate_contact_billing", "Billing contact set"
    CONTACT_OPERATIONS = "alternate_contact_operations", "Operations contact set"
    CONTACT_SECURITY = "alternate_contact_security", "Security contact set"
    # Organization-wide: stored once, without an account.
    CENTRAL_ROOT_MANAGEMENT = "central_root_management", "Centralised root access on"


#: The finding each check raises when it fails.
KIND_BY_CHECK: dict[str, str] = {
    Check.ROOT_ACCESS_KEYS: FindingKind.ROOT_ACCESS_KEYS_PRESENT,
    Check.ROOT_MFA: FindingKind.ROOT_MFA_MISSING,
    Check.ROOT_HARDWARE_MFA: FindingKind.ROOT_MFA_VIRTUAL,
    Check.ROOT_PASSWORD: FindingKind.ROOT_PASSWORD_PRESENT_IN_CENTRALISED_ACCOUNT,
    Check.ROOT_SIGNING_CERTIFICATES: FindingKind.ROOT_SIGNING_CERTIFICATE_PRESENT,
    Check.MFA_REGISTRY: FindingKind.ROOT_MFA_REGISTRY_MISMATCH,
    Check.CONTACT_BILLING: FindingKind.ALTERNATE_CONTACT_MISSING,
    Check.CONTACT_OPERATIONS: FindingKind.ALTERNATE_CONTACT_MISSING,
    Check.CONTACT_SECURITY: FindingKind.ALTERNATE_CONTACT_MISSING,
    Check.CENTRAL_ROOT_MANAGEMENT: FindingKind.CENTRAL_ROOT_MANAGEMENT_OFF,
}
POSTURE_KINDS: frozenset[str] = frozenset(KIND_BY_CHECK.values())
ACCOUNT_CHECKS: tuple[str, ...] = tuple(check for check in Check if check != Check.CENTRAL_ROOT_MANAGEMENT)


def contact_check(contact_type: str) -> str:
    return f"alternate_contact_{contact_type.lower()}"


def contact_type_of(check: str) -> str:
    """``SECURITY`` for ``alternate_contact_security``; empty for every other check."""
    prefix = "alternate_contact_"
    return check.removeprefix(prefix).upper() if check.startswith(prefix) else ""


def dedupe_key(check: str, aws_account_id: str) -> str:
    """One finding per check and account (per contact type for contacts; one for the organization)."""
    kind = KIND_BY_CHECK[check]
    if check == Check.CENTRAL_ROOT_MANAGEMENT:
        return f"{kind}:organization"
    contact_type = contact_type_of(check)
    return f"{kind}:{aws_account_id}:{contact_type}" if contact_type else f"{kind}:{aws_account_id}"


def contact_type_from_key(kind: str, key: str) -> str:
    """The contact type a posture finding is about, read back from its dedupe key (exports)."""
    if kind != FindingKind.ALTERNATE_CONTACT_MISSING:
        return ""
    return key.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class Control:
    """A control an auditor knows, scored over the accounts from the checks it names."""

    id: str
    standard: str
    title: str
    checks: tuple[str, ...]


CONTROLS: tuple[Control, ...] = (
    Control(
        "IAM.4",
        "Security Hub · CIS 1.4",
        "IAM root user access key should not exist",
        (Check.ROOT_ACCESS_KEYS,),
    ),
    Control("IAM.9", "Security Hub · CIS 1.5", "MFA should be enabled for the root user", (Check.ROOT_MFA,)),
    Control(
        "IAM.6",
        "Security Hub · CIS 1.6",
        "Hardware MFA should be enabled for the root user",
        (Check.ROOT_HARDWARE_MFA,),
    ),
    Control(
        "Account.1",
        "Security Hub · CIS 1.2",
        "Security contact information should be provided for an AWS account",
        (Check.CONTACT_SECURITY,),
    ),
    Control(
        "CIS 1.1",
        "CIS AWS Foundations",
        "Maintain current contact details (billing, operations and security alternate contacts)",
        (Check.CONTACT_BILLING, Check.CONTACT_OPERATIONS, Check.CONTACT_SECURITY),
    ),
    Control(
        "CIS 2.1.1",
        "CIS AWS Foundations v7.0",
        "Centralized root access in AWS Organizations, and no root password in centralised accounts",
        (Check.CENTRAL_ROOT_MANAGEMENT, Check.ROOT_PASSWORD),
    ),
    Control(
        "Portal.1",
        "This portal",
        "No signing certificates on the root user",
        (Check.ROOT_SIGNING_CERTIFICATES,),
    ),
    Control(
        "Portal.2",
        "This portal",
        "The root MFA AWS reports matches the devices in the inventory",
        (Check.MFA_REGISTRY,),
    ),
)
CONTROLS_BY_ID: dict[str, Control] = {control.id: control for control in CONTROLS}
