"""Where things are on a printed page, in millimetres from the page's top-left corner.

This is the single source of geometry (DESIGN.md): the layout engine fills these
records, the renderer draws from them, the reader reads from them and the layout
JSON exports them. Nothing else hard-codes a coordinate.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BBox = tuple[float, float, float, float]  # x, y, w, h in mm, from the page's top-left

PAGE_SIZE_MM: tuple[float, float] = (210.0, 297.0)  # A4 portrait

# Fiducials: one ArUco marker per corner, each corner its own id, so that any one
# marker found tells the page's orientation. DICT_4X4_50 markers are large cells
# (6x6 incl. border) and survive blur and 150 dpi well.
ARUCO_DICTIONARY = "DICT_4X4_50"
Corner = Literal["tl", "tr", "br", "bl"]
MARKER_IDS: dict[Corner, int] = {"tl": 10, "tr": 11, "br": 12, "bl": 13}
MARKER_SIZE_MM = 14.0
MARKER_MARGIN_MM = 8.0  # from the paper's edge to the marker's outer edge
MARKER_QUIET_MM = 3.0  # white space kept around every marker


def marker_bbox(corner: Corner) -> BBox:
    """The printed square of the marker in `corner`."""
    w, h = PAGE_SIZE_MM
    s, m = MARKER_SIZE_MM, MARKER_MARGIN_MM
    x = m if corner in ("tl", "bl") else w - m - s
    y = m if corner in ("tl", "tr") else h - m - s
    return (x, y, s, s)


@dataclass(frozen=True)
class Target:
    """A place a person marks: a box to tick, or a printed digit to circle.

    For a "digit" target `bbox_mm` is the printed digit's own box; the person
    circles around it, so the reader looks at a ring outside it.
    """

    question: str
    option: str
    shape: Literal["box", "digit"]
    bbox_mm: BBox


@dataclass(frozen=True)
class TextField:
    """A free-text comment box (the area a person writes in)."""

    question: str
    bbox_mm: BBox


@dataclass(frozen=True)
class PageGeometry:
    """Everything the reader needs to know about one printed page."""

    page: int  # 1-based
    targets: tuple[Target, ...]
    text_fields: tuple[TextField, ...]
    qr_bbox_mm: BBox
    serial_bbox_mm: BBox
    markers: dict[Corner, BBox] = field(
        default_factory=lambda: {c: marker_bbox(c) for c in MARKER_IDS}
    )
