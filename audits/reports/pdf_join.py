"""Joining a report's parts into one PDF as it goes, numbering every page "Page N of M".

pypdf's ``PdfWriter`` holds every page until it writes the file: joining the 8,064 pages of the
sessions report of 10,000 sessions took the process to 312 MB (``merge_page`` stamps, holding each
page's parsed operators too, would have taken about 600 MB; bench/reports_benchmark.py). Here each
part is read with pypdf, its objects written out at once with their numbers shifted past those
already written, and the part dropped: memory holds one part, the offsets of the objects written
(8 bytes each) and the page numbers, whatever the number of pages.

A part is a whole PDF from WeasyPrint, its objects referring only to each other: each keeps its
objects (fonts, images, content) and only its catalog and page tree are left out, replaced by one
page tree over every part's pages. Each page's content is followed by its number, a few bytes of
text in Helvetica (a standard PDF font: nothing to embed) after a ``q``/``Q`` pair that restores
WeasyPrint's graphics state. No page's content is parsed.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject, StreamObject

_CATALOG, _PAGES, _FONT, _SAVE, _INFO = 1, 2, 3, 4, 5
_FIRST_FREE = 6
_NUMBER_FONT = "/PortalPageNumber"
_NUMBER_SIZE = 8
# The right edge and the baseline of the number, in points from the page's bottom right: inside the
# print stylesheet's 12 mm right and 16 mm bottom margins.
_RIGHT = 12 / 25.4 * 72
_BASELINE = 9 / 25.4 * 72
# Helvetica's advance widths (thousandths of an em) of the characters of "Page N of M", to align right.
_WIDTHS = {**dict.fromkeys("0123456789aego", 556), "P": 667, "f": 278, " ": 278}
# Objects a part's catalog and page tree are, and the containers of its compressed objects.
_LEFT_OUT = frozenset({"/Catalog", "/Pages", "/ObjStm", "/XRef"})


class _Output:
    """The target, counting the bytes written: the cross-reference table needs each object's offset."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.position = 0
        # Offset of each object by its number (0: not written).
        self.offsets = array("q", [0] * _FIRST_FREE)

    def write(self, data: bytes) -> None:
        self.target.write(data)
        self.position += len(data)

    def begin(self, number: int) -> None:
        if number >= len(self.offsets):
            self.offsets.extend([0] * (number + 1 - len(self.offsets)))
        self.offsets[number] = self.position
        self.write(b"%d 0 obj\n" % number)

    def end(self) -> None:
        self.write(b"\nendobj\n")


def _write_value(out: _Output, value: Any, shift: int) -> None:
    """``value`` in PDF syntax, every reference to an object of its part shifted by ``shift``."""
    if isinstance(value, IndirectObject):
        out.write(b"%d 0 R" % (value.idnum + shift))
    elif isinstance(value, DictionaryObject):
        out.write(b"<<")
        for key, item in value.items():
            out.write(b"\n" + key.encode("latin-1") + b" ")
            _write_value(out, item, shift)
        if isinstance(value, StreamObject):
            out.write(b"\n/Length %d\n>>\nstream\n" % len(value._data))
            out.write(value._data)  # the stream as stored, still compressed
            out.write(b"\nendstream")
        else:
            out.write(b"\n>>")
    elif isinstance(value, list):
        out.write(b"[")
        for item in value:
            out.write(b" ")
            _write_value(out, item, shift)
        out.write(b" ]")
    else:
        value.write_to_stream(out)


def _number_text(text: str, page_width: float) -> bytes:
    x = page_width - _RIGHT - sum(_WIDTHS[character] for character in text) * _NUMBER_SIZE / 1000
    return f"Q\nBT {_NUMBER_FONT} {_NUMBER_SIZE} Tf {x:.2f} {_BASELINE:.2f} Td ({text}) Tj ET\n".encode()


def _write_stream(out: _Output, number: int, data: bytes) -> None:
    out.begin(number)
    out.write(b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")
    out.end()


def _entry(entries: DictionaryObject, key: str) -> Any:
    """The entry, resolved when it is a reference (``get`` would hand the reference back)."""
    return entries[key] if key in entries else None  # noqa: SIM401 (get: the reference, unresolved)


def _write_entries(out: _Output, entries: DictionaryObject, shift: int, leave: tuple[str, ...] = ()) -> None:
    for key, item in entries.items():
        if key not in leave:
            out.write(b"\n")
            key.write_to_stream(out)
            out.write(b" ")
            _write_value(out, item, shift)


def _write_page(out: _Output, page: DictionaryObject, shift: int, stamp: int) -> None:
    """The page with the joined page tree as its parent, its number's content after its own, and the
    number's font beside its fonts (the part's font dictionary, shared by its pages, is left as it was)."""
    out.write(b"<<")
    _write_entries(out, page, shift, leave=("/Parent", "/Contents", "/Resources"))
    out.write(b"\n/Parent %d 0 R\n/Contents [ %d 0 R" % (_PAGES, _SAVE))
    contents = page.raw_get("/Contents") if "/Contents" in page else None
    existing = contents.get_object() if isinstance(contents, IndirectObject) else contents
    for item in existing if isinstance(existing, list) else [contents] if contents is not None else []:
        out.write(b" ")
        _write_value(out, item, shift)
    out.write(b" %d 0 R ]\n/Resources <<" % stamp)
    resources = _entry(page, "/Resources")
    resources = resources if isinstance(resources, DictionaryObject) else DictionaryObject()
    _write_entries(out, resources, shift, leave=("/Font",))
    out.write(b"\n/Font <<")
    fonts = _entry(resources, "/Font")
    if isinstance(fonts, DictionaryObject):
        _write_entries(out, fonts, shift)
    out.write(b"\n%s %d 0 R >>\n>>\n>>" % (_NUMBER_FONT.encode(), _FONT))


def _page_width(page: DictionaryObject) -> float:
    box = _entry(page, "/MediaBox")
    return float(box[2]) - float(box[0]) if isinstance(box, list) and len(box) == 4 else 841.89


def join_numbered(target: IO[bytes], parts: Sequence[tuple[Path, int]], producer: str) -> int:
    """Write the parts (PDF files and their page counts) into ``target`` as one PDF, numbered; returns
    the number of pages."""
    total = sum(pages for _, pages in parts)
    out = _Output(target)
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    kids = array("q")
    next_number = _FIRST_FREE
    for path, _ in parts:
        reader = PdfReader(path)
        numbers = sorted({*reader.xref.get(0, {}), *reader.xref_objStm})
        info = reader.trailer.raw_get("/Info") if "/Info" in reader.trailer else None
        shift = next_number - 1
        stamp = shift + (max(numbers) if numbers else 0)
        for number in numbers:
            value = reader.get_object(number)
            kind = value.get("/Type") if isinstance(value, DictionaryObject) else None
            if kind in _LEFT_OUT or (isinstance(info, IndirectObject) and number == info.idnum):
                continue
            out.begin(number + shift)
            if kind == "/Page" and isinstance(value, DictionaryObject):
                stamp += 1
                kids.append(number + shift)
                _write_page(out, value, shift, stamp)
                out.end()
                _write_stream(out, stamp, _number_text(f"Page {len(kids)} of {total}", _page_width(value)))
            else:
                _write_value(out, value, shift)
                out.end()
        next_number = stamp + 1
    _write_trailer(out, kids, producer)
    return len(kids)


def _write_trailer(out: _Output, kids: array[int], producer: str) -> None:
    out.begin(_CATALOG)
    out.write(b"<< /Type /Catalog /Pages %d 0 R >>" % _PAGES)
    out.end()
    out.begin(_PAGES)
    out.write(b"<< /Type /Pages /Count %d /Kids [" % len(kids))
    for number in kids:
        out.write(b" %d 0 R" % number)
    out.write(b" ] >>")
    out.end()
    out.begin(_FONT)
    out.write(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    out.end()
    _write_stream(out, _SAVE, b"q\n")
    out.begin(_INFO)
    out.write(b"<< /Producer (" + producer.encode("latin-1") + b") >>")
    out.end()
    start = out.position
    size = len(out.offsets)
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for number in range(1, size):
        offset = out.offsets[number]
        out.write(b"%010d 00000 n \n" % offset if offset else b"0000000000 65535 f \n")
    out.write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\n" % (size, _CATALOG, _INFO))
    out.write(b"startxref\n%d\n%%%%EOF\n" % start)
