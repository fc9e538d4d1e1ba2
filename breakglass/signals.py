"""Signals the break-glass workflow sends, so other apps can follow it without being called by it.

``breakglass`` imports nothing from ``audits``; the evidence side connects to these instead
(``audits.signals`` reconciles an account when one of its check-out windows changes).
"""

from __future__ import annotations

from django.dispatch import Signal

#: Sent by ``breakglass.lifecycle`` each time an access request changes status, inside the transaction
#: that changes it, once its ``Transition`` row is written (the locked request is saved already).
#: Receivers that act on the outside world should wait for the commit (``transaction.on_commit``): the
#: change may still be rolled back. Arguments:
#:
#: * ``sender``: the ``AccessRequest`` class;
#: * ``request``: the ``AccessRequest``, with its ``account`` loaded;
#: * ``from_status``, ``to_status``: ``RequestStatus`` values;
#: * ``transition``: the ``Transition`` row just written.
request_status_changed = Signal()

#: Sent by ``breakglass.reviews.review_campaigns_close_due`` when an access review closes at its
#: deadline, inside the transaction that closes it. The evidence side raises a finding for the
#: decisions nobody made (``audits.review_findings``). Arguments:
#:
#: * ``sender``: the ``ReviewCampaign`` class;
#: * ``campaign``: the ``ReviewCampaign``, closed;
#: * ``undecided``: the list of its ``ReviewItem`` rows nobody decided, with ``account``, ``person``,
#:   ``grant`` and ``device`` loaded.
review_campaign_closed = Signal()

#: Sent by ``breakglass.reachability.reachability_lapse_due`` when an approver did not confirm they can
#: be reached by the deadline, inside the transaction that marks the check lapsed. The evidence side
#: raises ``approver_unreachable`` per account they approve for (``audits.drill_findings``). Arguments:
#:
#: * ``sender``: the ``ReachabilityCheck`` class;
#: * ``check``: the lapsed ``ReachabilityCheck``, with ``approver`` loaded;
#: * ``accounts``: a list of ``(AwsAccount, reachable)``: each account the person approves for and how
#:   many of its approvers are still reachable without them (compare with ``approval_quorum``).
approver_unreachable = Signal()

#: Sent by ``breakglass.sweeps.devices_not_returned`` (beat) with the MFA devices that did not come
#: back in time, inside the sweep's transaction; ``audits.device_findings`` raises one finding per
#: session and device (once: its dedupe key is stable). Arguments:
#:
#: * ``sender``: the ``DeviceReturn`` class;
#: * ``late``: a list of ``LateDevice`` (``breakglass.sweeps``): the session, the device, since when
#:   it is late, and whether it was given back unconfirmed or is still with its holder.
devices_not_returned = Signal()

__all__ = ["approver_unreachable", "devices_not_returned", "request_status_changed", "review_campaign_closed"]
