"""From what AWS reported to one result per check (pure: no database, no AWS).

A check *fails* only on a positive answer from AWS (a flag at 1, a contact not found); any part AWS
did not answer makes the checks that need it an *error* with the reason, and an error never decides
anything about a finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from audits.assume_root.work import RootCredentials
from audits.choices import PostureStatus
from audits.posture.aws import FEATURE_CREDENTIALS, FEATURE_SESSIONS, Answer, Contact, RootReading
from audits.posture.controls import Check, contact_check

HARDWARE_KINDS = frozenset({"fido", "hardware_totp"})


@dataclass(frozen=True)
class Registered:
    """An MFA device the inventory records on the account's root user."""

    kind: str
    serial: str


@dataclass(frozen=True)
class AccountFacts:
    """What the inventory says about the account, as the checks need it."""

    account_id: str
    name: str
    environment: str
    centralised: bool
    devices: tuple[Registered, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """One check's result: ``reason`` is the sentence a page shows (and a failure's finding summary)."""

    check: str
    status: str
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)


def _error(check: str, reason: str) -> Outcome:
    return Outcome(check, PostureStatus.ERROR, reason)


def _flag(summary: dict[str, int], key: str) -> int | None:
    value = summary.get(key)
    return int(value) if value is not None else None


def root_outcomes(facts: AccountFacts, reading: RootReading) -> list[Outcome]:
    """The checks on the root user itself."""
    label = f"{facts.name} ({facts.account_id})"
    outcomes: list[Outcome] = []
    summary = reading.summary
    if not summary.ok or summary.value is None:
        reason = f"Not checked: {summary.error}"
        for check in (Check.ROOT_ACCESS_KEYS, Check.ROOT_MFA, Check.ROOT_HARDWARE_MFA, Check.MFA_REGISTRY):
            outcomes.append(_error(check, reason))
        if facts.centralised:
            outcomes.append(_error(Check.ROOT_PASSWORD, reason))
    else:
        flags = summary.value
        outcomes.append(_access_keys(label, flags, reading.report_row, reading.credentials))
        mfa = _flag(flags, "AccountMFAEnabled")
        if facts.centralised and not mfa and not _credentials_present(flags):
            outcomes.append(
                Outcome(
                    Check.ROOT_MFA,
                    PostureStatus.NOT_APPLICABLE,
                    "The centralised account's root user has no credentials at all, so MFA does not apply "
                    "(CIS 2.1.1; AWS Config: NOT_APPLICABLE).",
                )
            )
        else:
            outcomes.append(_mfa(label, mfa))
        outcomes.append(_hardware_mfa(label, mfa, reading.virtual_mfa_serials))
        outcomes.append(_registry(label, facts, mfa, reading.virtual_mfa_serials))
        if facts.centralised:
            outcomes.append(_password(label, flags))
    if not facts.centralised:
        outcomes.append(
            Outcome(
                Check.ROOT_PASSWORD,
                PostureStatus.NOT_APPLICABLE,
                "A classic account keeps its root password.",
            )
        )
    outcomes.append(_certificates(label, reading.report_row, reading.credentials))
    return [replace_detail(outcome, via=reading.via) for outcome in outcomes]


def replace_detail(outcome: Outcome, **extra: Any) -> Outcome:
    return Outcome(outcome.check, outcome.status, outcome.reason, {**outcome.detail, **extra})


def _credentials_present(flags: dict[str, int]) -> bool:
    """A password, an access key or a signing certificate: something MFA would protect."""
    return any(
        _flag(flags, key)
        for key in ("AccountPasswordPresent", "AccountAccessKeysPresent", "AccountSigningCertificatesPresent")
    )


def _audited(credentials: Answer[RootCredentials] | None) -> RootCredentials | None:
    return credentials.value if credentials is not None and credentials.ok else None


def _access_keys(
    label: str,
    flags: dict[str, int],
    row: Answer[dict[str, str]],
    credentials: Answer[RootCredentials] | None = None,
) -> Outcome:
    present = _flag(flags, "AccountAccessKeysPresent")
    if present is None:
        return _error(Check.ROOT_ACCESS_KEYS, "Not checked: AWS did not report AccountAccessKeysPresent.")
    if not present:
        return Outcome(Check.ROOT_ACCESS_KEYS, PostureStatus.PASS, "The root user has no access keys.")
    keys = []
    audited = _audited(credentials)
    if audited is not None:
        keys = [
            {
                "key": key.access_key_id,
                "status": key.status,
                "last_rotated": key.created,
                "last_used": key.last_used,
                "last_used_service": key.last_used_service,
            }
            for key in audited.access_keys
        ]
        listed = "; ".join(
            f"{key['key']} ({key['status']}, created {key['last_rotated'] or '?'}, "
            f"last used {key['last_used'] or 'never'})"
            for key in keys
        )
        return Outcome(
            Check.ROOT_ACCESS_KEYS,
            PostureStatus.FAIL,
            f"The root user of {label} has access keys ({listed}). Delete them.",
            {"keys": keys},
        )
    if row.ok and row.value is not None:
        for n in ("1", "2"):
            if row.value.get(f"access_key_{n}_active") == "true":
                keys.append(
                    {
                        "key": n,
                        "last_rotated": row.value.get(f"access_key_{n}_last_rotated", ""),
                        "last_used": row.value.get(f"access_key_{n}_last_used_date", ""),
                        "last_used_service": row.value.get(f"access_key_{n}_last_used_service", ""),
                    }
                )
    used = "; ".join(
        f"key {key['key']} created {key['last_rotated'] or '?'}, last used {key['last_used'] or '?'}"
        for key in keys
    )
    return Outcome(
        Check.ROOT_ACCESS_KEYS,
        PostureStatus.FAIL,
        f"The root user of {label} has access keys" + (f" ({used})." if used else ".") + " Delete them.",
        {"keys": keys},
    )


def _mfa(label: str, mfa: int | None) -> Outcome:
    if mfa is None:
        return _error(Check.ROOT_MFA, "Not checked: AWS did not report AccountMFAEnabled.")
    if mfa:
        return Outcome(Check.ROOT_MFA, PostureStatus.PASS, "The root user has MFA.")
    return Outcome(Check.ROOT_MFA, PostureStatus.FAIL, f"The root user of {label} has no MFA device.")


def _hardware_mfa(label: str, mfa: int | None, virtual: Answer[list[str]]) -> Outcome:
    if mfa is None:
        return _error(Check.ROOT_HARDWARE_MFA, "Not checked: AWS did not report AccountMFAEnabled.")
    if not mfa:
        return Outcome(
            Check.ROOT_HARDWARE_MFA, PostureStatus.NOT_APPLICABLE, "The root user has no MFA at all."
        )
    if not virtual.ok or virtual.value is None:
        return _error(Check.ROOT_HARDWARE_MFA, f"Not checked: {virtual.error}")
    if virtual.value:
        return Outcome(
            Check.ROOT_HARDWARE_MFA,
            PostureStatus.FAIL,
            f"The root user of {label} uses a virtual MFA device ({', '.join(virtual.value)}), not hardware.",
            {"virtual_serials": virtual.value},
        )
    return Outcome(
        Check.ROOT_HARDWARE_MFA, PostureStatus.PASS, "The root user's MFA is hardware (no virtual device)."
    )


def _registry(label: str, facts: AccountFacts, mfa: int | None, virtual: Answer[list[str]]) -> Outcome:
    check = Check.MFA_REGISTRY
    if mfa is None:
        return _error(check, "Not checked: AWS did not report AccountMFAEnabled.")
    hardware = sorted(device.serial for device in facts.devices if device.kind in HARDWARE_KINDS)
    if not mfa and hardware:
        return Outcome(
            check,
            PostureStatus.FAIL,
            f"The inventory holds hardware MFA for {label} ({', '.join(hardware)}), "
            "but AWS reports no root MFA.",
            {"registry": hardware, "aws_mfa": False},
        )
    if mfa and not facts.devices:
        return Outcome(
            check,
            PostureStatus.FAIL,
            f"AWS reports a root MFA device on {label} that the inventory does not record.",
            {"registry": [], "aws_mfa": True},
        )
    if mfa and virtual.ok and virtual.value:
        known = {device.serial for device in facts.devices}
        unknown = [serial for serial in virtual.value if serial not in known]
        if unknown:
            return Outcome(
                check,
                PostureStatus.FAIL,
                f"AWS reports a virtual root MFA device on {label} ({', '.join(unknown)}) that the inventory "
                "does not record.",
                {"unknown": unknown},
            )
    if not mfa and not facts.devices:
        return Outcome(
            check, PostureStatus.NOT_APPLICABLE, "Neither AWS nor the inventory has a root MFA device."
        )
    return Outcome(check, PostureStatus.PASS, "The inventory's MFA devices agree with AWS.")


def _password(label: str, flags: dict[str, int]) -> Outcome:
    present = _flag(flags, "AccountPasswordPresent")
    if present is None:
        return _error(Check.ROOT_PASSWORD, "Not checked: AWS did not report AccountPasswordPresent.")
    if present:
        return Outcome(
            Check.ROOT_PASSWORD,
            PostureStatus.FAIL,
            f"{label} is governed centrally, yet its root user has a password. Delete the root credentials.",
        )
    return Outcome(
        Check.ROOT_PASSWORD, PostureStatus.PASS, "The centralised account's root user has no password."
    )


def _certificates(
    label: str, row: Answer[dict[str, str]], credentials: Answer[RootCredentials] | None = None
) -> Outcome:
    audited = _audited(credentials)
    if audited is not None:
        if audited.certificates:
            ids = [cert.certificate_id for cert in audited.certificates]
            return Outcome(
                Check.ROOT_SIGNING_CERTIFICATES,
                PostureStatus.FAIL,
                f"The root user of {label} has {len(ids)} signing certificate(s) ({', '.join(ids)}). "
                "Delete them.",
                {"certificates": ids},
            )
        return Outcome(
            Check.ROOT_SIGNING_CERTIFICATES, PostureStatus.PASS, "The root user has no signing certificates."
        )
    if not row.ok or row.value is None:
        return _error(Check.ROOT_SIGNING_CERTIFICATES, f"Not checked: {row.error}")
    active = [n for n in ("1", "2") if row.value.get(f"cert_{n}_active") == "true"]
    if active:
        return Outcome(
            Check.ROOT_SIGNING_CERTIFICATES,
            PostureStatus.FAIL,
            f"The root user of {label} has {len(active)} active signing certificate(s). Delete them.",
            {"certificates": active},
        )
    return Outcome(
        Check.ROOT_SIGNING_CERTIFICATES, PostureStatus.PASS, "The root user has no signing certificates."
    )


def contact_outcomes(facts: AccountFacts, contacts: dict[str, Answer[Contact | None]]) -> list[Outcome]:
    label = f"{facts.name} ({facts.account_id})"
    outcomes = []
    for kind, answer in sorted(contacts.items()):
        check = contact_check(kind)
        if not answer.ok:
            outcomes.append(_error(check, f"Not checked: {answer.error}"))
        elif answer.value is None:
            outcomes.append(
                Outcome(
                    check,
                    PostureStatus.FAIL,
                    f"{label} has no {kind.lower()} alternate contact.",
                    {"type": kind},
                )
            )
        else:
            outcomes.append(
                Outcome(
                    check,
                    PostureStatus.PASS,
                    f"The {kind.lower()} contact is set.",
                    {"type": kind, "name": answer.value.name, "email": answer.value.email},
                )
            )
    return outcomes


def organization_outcome(features: Answer[frozenset[str]]) -> Outcome:
    check = Check.CENTRAL_ROOT_MANAGEMENT
    if not features.ok or features.value is None:
        return _error(check, f"Not checked: {features.error}")
    missing = sorted({FEATURE_CREDENTIALS, FEATURE_SESSIONS} - features.value)
    detail = {"enabled": sorted(features.value)}
    if missing:
        return Outcome(
            check,
            PostureStatus.FAIL,
            f"Centralised root access is not fully on in the organization: {', '.join(missing)} off.",
            {**detail, "missing": missing},
        )
    return Outcome(check, PostureStatus.PASS, "Root credentials management and root sessions are on.", detail)
