from __future__ import annotations

from django.apps import AppConfig


class LedgerConfig(AppConfig):
    """The append-only, hash-chained audit ledger: a leaf every other app may write to and read.

    It imports nothing from ``breakglass`` or ``audits``; only ``portal``'s base modules (the request
    id, the permission policy) and Django.
    """

    name = "ledger"
    verbose_name = "Audit ledger"
    default_auto_field = "django.db.models.BigAutoField"
