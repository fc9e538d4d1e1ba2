"""MFA devices that did not come back to the safe in time become findings (issue 11, item 5).

``breakglass`` must not import ``audits``; its beat sweep (``breakglass.sweeps.devices_not_returned``)
sends ``breakglass.signals.devices_not_returned`` with the late devices, and this receiver (connected
in ``AuditsConfig.ready``) raises one ``mfa_device_not_returned`` finding per session and device,
through ``audits.alerts`` like every other finding, in the sweep's transaction. The dedupe key is
stable, so the sweep running every fifteen minutes raises each finding once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.dispatch import receiver
from django.utils import timezone

from audits import alerts
from audits.choices import SEVERITY_BY_KIND, FindingKind
from audits.models import Finding
from breakglass.signals import devices_not_returned

if TYPE_CHECKING:
    from breakglass.sweeps import LateDevice

KIND = FindingKind.MFA_DEVICE_NOT_RETURNED


def dedupe_key(late: LateDevice) -> str:
    return f"{KIND.value}:{late.session.code}:{late.device.serial_number}"


def summary_of(late: LateDevice) -> str:
    session, device = late.session, late.device
    if late.unconfirmed:
        return (
            f"{device.label} ({device.serial_number}) was given back at the check-in of {session.code} "
            f"on {late.late_since:%Y-%m-%d %H:%M} UTC, and no custodian of {session.account.name} has "
            "confirmed it is in the safe."
        )
    return (
        f"{device.label} ({device.serial_number}) is still with {session.requester.get_username()} "
        f"although {session.code} on {session.account.name} was due back at "
        f"{late.late_since:%Y-%m-%d %H:%M} UTC."
    )


@receiver(devices_not_returned, dispatch_uid="audits.mfa_device_not_returned")
def mfa_device_not_returned(sender: Any, *, late: list[LateDevice], **_: Any) -> list[Finding]:
    """Raise the finding of each late device that has none yet."""
    now = timezone.now()
    raised = []
    for item in late:
        key = dedupe_key(item)
        if Finding.objects.filter(dedupe_key=key).exists():
            continue
        summary = summary_of(item)
        account = item.session.account
        finding = alerts.finding_raise(
            key=key,
            kind=KIND,
            severity=SEVERITY_BY_KIND[KIND],
            first_seen=item.late_since,
            last_seen=now,
            summary=summary,
            account=account,
            session=item.session,
            detail={"device": item.device.serial_number},
        )
        raised.append(finding)
    return raised
