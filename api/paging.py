"""Lists in pages of ``limit`` rows after a cursor (keyset, ``portal.paging``): each page costs the
same however deep it is, and a row added or removed while a client walks the list neither repeats
nor skips another (OFFSET did both). ``next`` is the cursor of the following page, null on the last.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from ninja import Field, Schema

from portal.paging import keyset_page

M = TypeVar("M", bound=Model)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageQuery(Schema):
    limit: int = Field(DEFAULT_LIMIT, description=f"Rows per page, 1 to {MAX_LIMIT}.")
    cursor: str = Field(
        "",
        description="The `next` of the previous page; empty for the first page. Opaque: pass it back as is.",
    )


def page_of(
    rows: QuerySet[M], *, ordering: tuple[str, ...], query: PageQuery, build: Callable[[M], dict[str, Any]]
) -> dict[str, Any]:
    """One page of ``rows`` in ``ordering`` (the list's indexed order, unique last field). A cursor
    that cannot be read gives the first page, as on the pages."""
    page = keyset_page(
        rows, ordering=ordering, cursor=query.cursor or None, size=min(max(query.limit, 1), MAX_LIMIT)
    )
    return {"items": [build(row) for row in page.items], "next": page.next_cursor}
