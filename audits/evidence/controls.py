"""Which member of an evidence bundle evidences which control: one table, written into the bundle as
``controls.csv`` and ``controls.json`` so that an auditor reads the mapping beside the evidence."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

from audits.reports.formats import csv_pieces, json_pieces


@dataclass(frozen=True)
class Control:
    """One control of a framework and the bundle's files that evidence it."""

    framework: str
    control: str
    requirement: str
    evidence: str
    files: str


_SESSIONS = "reports/sessions.csv reports/sessions.json reports/sessions.pdf"
_ACTIVITY = (
    "reports/activity.csv reports/activity.json reports/activity-summary.csv reports/activity-summary.json"
)
_FINDINGS = "reports/findings.csv reports/findings.json"
_ACCESS = "reports/access.csv reports/access.json"
_REVIEWS = "reports/reviews.csv reports/reviews.json"
_LEDGER = "reports/ledger.csv reports/ledger.json ledger-slice.jsonl"

CONTROLS: tuple[Control, ...] = (
    Control(
        "PCI DSS 4.0",
        "8.2.2",
        "Shared, group or generic accounts are used only when necessary, on an exception basis, and "
        "every use is attributable to an individual",
        "Each use of a root user: requester, justification, approvers, window, hand-over and return",
        _SESSIONS,
    ),
    Control(
        "PCI DSS 4.0",
        "7.2.4",
        "User accounts and access privileges are reviewed at least once every six months",
        "Who may request root, approve and hold MFA devices, with each grant's last review; the "
        "access-review campaigns with every decision, its reviewer and time, and what is outstanding",
        f"{_ACCESS} {_REVIEWS}",
    ),
    Control(
        "PCI DSS 4.0",
        "8.4.1",
        "MFA is implemented for all non-console access into the CDE for personnel with administrative access",
        "MFA device hand-over and return per session; custody of every root MFA device",
        f"{_SESSIONS} {_ACCESS}",
    ),
    Control(
        "PCI DSS 4.0",
        "10.2.1.2",
        "Audit logs capture all actions taken by any individual with administrative access, including "
        "any interactive use of application or system accounts",
        "Every root event in the period, matched to its session or raised as a finding",
        f"{_ACTIVITY} {_FINDINGS}",
    ),
    Control(
        "PCI DSS 4.0",
        "10.5.1",
        "Audit log history is retained for at least 12 months",
        "The hash-chained ledger slice of the period, signed with the manifest",
        _LEDGER,
    ),
    Control(
        "CIS AWS Foundations",
        "1.4",
        "Ensure no root user account access key exists",
        "Root activity and findings: any root access-key use is an unmatched root event and a finding",
        f"{_ACTIVITY} {_FINDINGS}",
    ),
    Control(
        "CIS AWS Foundations",
        "1.5",
        "Ensure MFA is enabled for the root user account",
        "Every root account's MFA devices and their custody",
        _ACCESS,
    ),
    Control(
        "CIS AWS Foundations",
        "1.6",
        "Ensure hardware MFA is enabled for the root user account",
        "The kind and serial of every root MFA device, hand-over and return per session",
        f"{_ACCESS} {_SESSIONS}",
    ),
    Control(
        "CIS AWS Foundations",
        "1.7",
        "Eliminate use of the root user for administrative and daily tasks",
        "Every root sign-in and action, each tied to an approved break-glass session or a finding",
        f"{_SESSIONS} {_ACTIVITY} {_FINDINGS}",
    ),
    Control(
        "SOC 2",
        "CC6.1",
        "Logical access security over protected information assets",
        "Grants, approvers and quorum, custodians; the ledger of every decision",
        f"{_ACCESS} {_LEDGER}",
    ),
    Control(
        "SOC 2",
        "CC6.2",
        "Users are registered, authorized and removed before access is granted",
        "Each session's request, approvals and expiry; grants with granter, expiry and review",
        f"{_SESSIONS} {_ACCESS}",
    ),
)
COLUMNS: tuple[str, ...] = ("framework", "control", "requirement", "evidence", "files")


def control_rows() -> Iterator[dict[str, str]]:
    for control in CONTROLS:
        yield asdict(control)


def controls_csv() -> Iterator[str]:
    return csv_pieces(COLUMNS, control_rows())


def controls_json() -> Iterator[str]:
    return json_pieces(control_rows())
