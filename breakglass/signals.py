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

__all__ = ["request_status_changed"]
