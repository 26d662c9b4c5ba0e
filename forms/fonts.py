"""The fonts forms are printed in, and their measurements in millimetres.

DejaVu Sans carries every Vietnamese letter (stacked diacritics included) and the
✓ ✗ □ signs of the instructions; Debian installs it with `fonts-dejavu-core`
(scripts/bootstrap.sh). The layout engine measures text with the same metrics
the renderer prints it with, so a wrapped line never runs past its column.
"""
from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from forms.errors import BadInput

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
OBLIQUE = "DejaVuSans-Oblique"
FONT_FILES = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    OBLIQUE: "DejaVuSans-Oblique.ttf",
}
PT_MM = 25.4 / 72.0  # one typographic point in millimetres


@cache
def register_fonts() -> None:
    """Register the DejaVu fonts with reportlab (once per process)."""
    for name, filename in FONT_FILES.items():
        path = FONT_DIR / filename
        if not path.exists():
            raise BadInput(
                f"Thiếu phông chữ / font missing: {path}",
                "chạy 'bash scripts/bootstrap.sh' (cài fonts-dejavu-core) / "
                "run 'bash scripts/bootstrap.sh' (installs fonts-dejavu-core)",
            )
        pdfmetrics.registerFont(TTFont(name, str(path)))


def text_width(text: str, font: str, size_pt: float) -> float:
    """Advance width of `text` in mm."""
    register_fonts()
    return pdfmetrics.stringWidth(text, font, size_pt) * PT_MM


@lru_cache(maxsize=256)
def ink_box(text: str, font: str, size_pt: float) -> tuple[float, float, float, float]:
    """The inked extent of `text` set at the origin: (left, top, right, bottom) in mm.

    x to the right of the pen's start, y downwards from the baseline (so `top` is
    negative for glyphs above the baseline). Read from the glyph outlines
    (fontTools ships with matplotlib), not estimated from the font's ascent.
    """
    from fontTools.ttLib import TTFont as FTFont

    face = FTFont(str(FONT_DIR / FONT_FILES[font]), lazy=True)
    cmap, glyf, hmtx = face.getBestCmap(), face["glyf"], face["hmtx"]
    scale = size_pt * PT_MM / face["head"].unitsPerEm
    pen_x = 0.0
    left = top = float("inf")
    right = bottom = float("-inf")
    for ch in text:
        name = cmap[ord(ch)]
        glyph = glyf[name]
        if getattr(glyph, "numberOfContours", 0):
            left = min(left, pen_x + glyph.xMin * scale)
            right = max(right, pen_x + glyph.xMax * scale)
            top = min(top, -glyph.yMax * scale)
            bottom = max(bottom, -glyph.yMin * scale)
        pen_x += hmtx[name][0] * scale
    face.close()
    return (left, top, right, bottom)


def wrap(text: str, font: str, size_pt: float, width_mm: float) -> list[str]:
    """Greedy word wrap of `text` into lines no wider than `width_mm`.

    A word wider than the line on its own is cut between characters, so no line
    ever exceeds the width. Explicit newlines in `text` start new lines.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if text_width(candidate, font, size_pt) <= width_mm:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            while text_width(word, font, size_pt) > width_mm and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and text_width(word[:cut], font, size_pt) > width_mm:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return lines


def wrap_balanced(text: str, font: str, size_pt: float, width_mm: float) -> list[str]:
    """`wrap`, with the lines made as even as the same number of lines allows: a short
    label or statement that needs two lines breaks near its middle ("Không / hài
    lòng", "... quy định / trong giải quyết công việc"), not before its last word."""
    lines = wrap(text, font, size_pt, width_mm)
    if len(lines) < 2:
        return lines
    return wrap(text, font, size_pt, narrowest_width(text, font, size_pt, len(lines), 0.0, width_mm))


def narrowest_width(text: str, font: str, size_pt: float, lines: int, lo: float, hi: float) -> float:
    """The narrowest width in (`lo`, `hi`], to within 0.1 mm, at which `text` wraps to at
    most `lines` lines; `text` must wrap to that many at `hi`. Greedy wrapping gains lines
    as the width shrinks, so a bisection finds it."""
    while hi - lo > 0.1:
        mid = (lo + hi) / 2
        if len(wrap(text, font, size_pt, mid)) <= lines:
            hi = mid
        else:
            lo = mid
    return hi
