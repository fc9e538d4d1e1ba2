"""Keyset pagination for lists that grow without bound (issue 13).

``Paginator`` pages with OFFSET and counts every row: both cost time in proportion to how deep the page
is and how big the table is (the findings' last page took 352 ms at 100,000 findings). A keyset page
asks for the rows *after the last one shown*, in the list's own order, which an index serves in the
same time on every page. The price is that pages have no numbers: a list offers *newer* and *older*
(or *next* and *previous*), which is how people read a ledger or a findings queue anyway.

The cursor in the URL holds the ordering values of the row the page starts after (or ends before). It
is not secret and needs no signature: it only says where to start in a query that is already limited
to what the person may see, so a forged cursor can show nothing more than scrolling would. A cursor
that cannot be read gives the first page, never an error.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Field, Model, Q, QuerySet

M = TypeVar("M", bound=Model)

DEFAULT_PAGE_SIZE = 50
CURSOR_PARAMETER = "cursor"


@dataclass(frozen=True)
class KeysetPage(Generic[M]):
    items: list[M]
    next_cursor: str | None
    previous_cursor: str | None

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.previous_cursor)

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def keyset_page(
    queryset: QuerySet[M], *, ordering: tuple[str, ...], cursor: str | None, size: int = DEFAULT_PAGE_SIZE
) -> KeysetPage[M]:
    """One page of ``queryset`` in ``ordering`` (field names or annotations, ``-`` for descending; the
    last must be unique and none may be null), starting after or ending before the row ``cursor``
    names."""
    if not ordering or ordering[-1].lstrip("-") not in ("id", "pk", "sequence", "uuid"):
        raise ValueError("the last ordering field must be unique (id, pk, sequence or uuid)")
    direction, values = _decode(cursor, queryset, ordering)
    backwards = direction == "before"
    order = tuple(_flip(name) for name in ordering) if backwards else ordering
    rows = queryset.order_by(*order)
    if values is not None:
        rows = rows.filter(_beyond(order, values))
    found = list(rows[: size + 1])
    more = len(found) > size
    found = found[:size]
    if backwards:
        found.reverse()
    if not found:
        return KeysetPage(items=[], next_cursor=None, previous_cursor=None)
    # Forwards, a page after a cursor has rows before it; backwards, a page before a cursor has rows
    # after it. The other side is known from the extra row fetched.
    has_next = more if not backwards else True
    has_previous = (values is not None) if not backwards else more
    return KeysetPage(
        items=found,
        next_cursor=_encode("after", found[-1], ordering) if has_next else None,
        previous_cursor=_encode("before", found[0], ordering) if has_previous else None,
    )


def cursor_after(row: Model, ordering: tuple[str, ...]) -> str:
    """The cursor of the page that starts after ``row`` (a link straight into a list: the benchmarks'
    deep pages, a "continue from here")."""
    return _encode("after", row, ordering)


def _flip(name: str) -> str:
    return name[1:] if name.startswith("-") else f"-{name}"


def _beyond(order: tuple[str, ...], values: list[Any]) -> Q:
    """Rows strictly after ``values`` in ``order``: (a > x) or (a = x and b > y) or ..., and a >= x.

    The last clause says nothing new, but it is the one PostgreSQL can read as a bound of the index
    scan (an ``Index Cond``): without it the OR is only a filter, and the scan starts at the top of
    the index and throws away every row before the cursor, so deep pages would cost their depth."""
    condition = Q(pk__in=[])
    equal = Q()
    for name, value in zip(order, values, strict=True):
        field = name.lstrip("-")
        comparison = "lt" if name.startswith("-") else "gt"
        condition |= equal & Q(**{f"{field}__{comparison}": value})
        equal &= Q(**{field: value})
    first = order[0].lstrip("-")
    return condition & Q(**{f"{first}__{'lte' if order[0].startswith('-') else 'gte'}": values[0]})


def _encode(direction: str, row: Model, ordering: tuple[str, ...]) -> str:
    values = [_plain(getattr(row, name.lstrip("-"))) for name in ordering]
    raw = json.dumps([direction, values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, int | str | float):
        return value
    return str(value)


def _field(queryset: QuerySet[Any], name: str) -> Field[Any, Any] | None:
    """The field that reads a cursor's value back: the model's, or an annotation's output field."""
    annotation = queryset.query.annotations.get(name)
    if annotation is not None:
        output = annotation.output_field
        return output if isinstance(output, Field) else None
    field = queryset.model._meta.get_field("id" if name == "pk" else name)
    return field if isinstance(field, Field) else None


def _decode(
    cursor: str | None, queryset: QuerySet[Any], ordering: tuple[str, ...]
) -> tuple[str, list[Any] | None]:
    if not cursor:
        return "after", None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        direction, raw_values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if direction not in ("after", "before") or len(raw_values) != len(ordering):
            return "after", None
        values = []
        for name, value in zip(ordering, raw_values, strict=True):
            field = _field(queryset, name.lstrip("-"))
            if field is None:
                return "after", None
            values.append(field.to_python(value))
    except (ValueError, TypeError, binascii.Error, ValidationError, json.JSONDecodeError, FieldDoesNotExist):
        return "after", None
    return direction, values
