"""Keyset pages walk a list forwards and back without skipping or repeating a row, ties included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from breakglass.models import AwsAccount
from breakglass.tests.factories import AwsAccountFactory
from portal.paging import keyset_page

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 1, 1, tzinfo=UTC)


def _accounts(count: int) -> list[AwsAccount]:
    # Three names only, so the id has to break the ties; one timestamp, for the same reason.
    made = [AwsAccountFactory(name=f"team-{i % 3}") for i in range(count)]
    AwsAccount.objects.update(created_at=MOMENT)
    return made


def _walk_forwards(ordering: tuple[str, ...], size: int) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        page = keyset_page(AwsAccount.objects.all(), ordering=ordering, cursor=cursor, size=size)
        pages.append([account.pk for account in page])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


@pytest.mark.parametrize(
    "ordering", [("name", "id"), ("-name", "-id"), ("-created_at", "-id"), ("name", "-id")]
)
def test_pages_cover_every_row_once_in_the_lists_own_order(ordering: tuple[str, ...]) -> None:
    _accounts(11)
    expected = list(AwsAccount.objects.order_by(*ordering).values_list("pk", flat=True))

    pages = _walk_forwards(ordering, size=4)

    assert [len(page) for page in pages] == [4, 4, 3]
    assert [pk for page in pages for pk in page] == expected


def test_previous_goes_back_to_exactly_the_page_before() -> None:
    _accounts(10)
    ordering = ("name", "id")
    first = keyset_page(AwsAccount.objects.all(), ordering=ordering, cursor=None, size=4)
    second = keyset_page(AwsAccount.objects.all(), ordering=ordering, cursor=first.next_cursor, size=4)
    back = keyset_page(AwsAccount.objects.all(), ordering=ordering, cursor=second.previous_cursor, size=4)

    assert first.previous_cursor is None
    assert second.previous_cursor is not None
    assert [a.pk for a in back] == [a.pk for a in first]
    assert back.previous_cursor is None  # nothing before the first page
    assert back.next_cursor is not None


@pytest.mark.parametrize("cursor", ["garbage", "e30", "WyJzaWRld2F5cyIsWzFdXQ", "WyJhZnRlciIsWyJ4Il1d"])
def test_a_cursor_that_cannot_be_read_gives_the_first_page(cursor: str) -> None:
    _accounts(5)
    page = keyset_page(AwsAccount.objects.all(), ordering=("name", "id"), cursor=cursor, size=2)
    first = keyset_page(AwsAccount.objects.all(), ordering=("name", "id"), cursor=None, size=2)
    assert [a.pk for a in page] == [a.pk for a in first]


def test_an_empty_list_has_no_cursors() -> None:
    page = keyset_page(AwsAccount.objects.all(), ordering=("name", "id"), cursor=None, size=5)
    assert (page.items, page.next_cursor, page.previous_cursor) == ([], None, None)


def test_the_ordering_must_end_with_a_unique_field() -> None:
    with pytest.raises(ValueError, match="unique"):
        keyset_page(AwsAccount.objects.all(), ordering=("name",), cursor=None)


def test_an_annotation_orders_pages_and_its_cursor_reads_back() -> None:
    # The drills page orders accounts by a due date computed in the query.
    from django.db.models import F, IntegerField, Value
    from django.db.models.functions import Length

    _accounts(9)
    rows = AwsAccount.objects.annotate(rank=Length("name") * Value(1, output_field=IntegerField()) - F("id"))
    expected = list(rows.order_by("rank", "id").values_list("pk", flat=True))
    pages, cursor = [], None
    while True:
        page = keyset_page(rows, ordering=("rank", "id"), cursor=cursor, size=4)
        pages.append([account.pk for account in page])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [pk for page in pages for pk in page] == expected
