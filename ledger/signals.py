"""Signals the ledger sends; other apps listen, the ledger imports none of them.

``chain_broken``: verification found the chain broken (or its checkpoints untrustworthy). Sent by
the periodic verification and by ``manage.py verify_ledger``, outside any transaction of theirs,
with ``sequence`` (the first broken entry, 0 when no entry is to blame) and ``reason`` (a sentence
for people). ``audits.ledger_alerts`` turns it into a critical finding and an alert.
"""

from __future__ import annotations

from django.dispatch import Signal

chain_broken = Signal()
