"""A model field for a short secret text sealed at rest (a webhook URL carrying a token).

The value is sealed (:func:`breakglass.sealing.seal_text`) on its way to the database and opened on
its way back, so the code reads and writes plain text while the column, backups and replicas hold
only ``sealed:<envelope>``. Each write seals under the key ring's primary key with a fresh data key:
the column cannot be searched or compared, which is why only values nobody looks up go here.
A value that is not sealed is refused on read (the migration that introduced the field sealed what
was there), never passed through.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from breakglass.sealing import open_text, seal_text


class SealedTextField(models.TextField[str, str]):
    """Text sealed with the portal's key ring; ``purpose`` names what it is (the associated data)."""

    def __init__(self, *args: Any, purpose: str, **kwargs: Any) -> None:
        self.purpose = purpose
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        return open_text(value, purpose=self.purpose)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return seal_text(str(value), purpose=self.purpose)


__all__ = ["SealedTextField"]
