"""Lists in pages of ``limit`` rows from ``offset``, without counting the whole list (a count of a
large findings table costs more than the page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from ninja import Schema

M = TypeVar("M", bound=Model)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageQuery(Schema):
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def page_of(
    rows: QuerySet[M], *, limit: int, offset: int, build: Callable[[M], dict[str, Any]]
) -> dict[str, Any]:
    limit = min(max(limit, 1), MAX_LIMIT)
    offset = max(offset, 0)
    found = list(rows[offset : offset + limit + 1])
    more = len(found) > limit
    return {
        "items": [build(row) for row in found[:limit]],
        "next_offset": offset + limit if more else None,
    }
