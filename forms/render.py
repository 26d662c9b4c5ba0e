"""Printing: a `Layout` -> a vector PDF (reportlab), its layout JSON, and rasters.

The renderer draws exactly what `forms.layout` placed, plus the per-sheet parts
in the boxes the layout reserved: the ArUco markers (vector squares from
OpenCV's dictionary bits), the QR code (`forms.identity.encode_payload`) and the
serial printed under it (`format_serial`).
"""
from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from forms import fonts
from forms.durable import atomic_outputs
from forms.errors import BadInput
from forms.geometry import (
    ARUCO_DICTIONARY,
    MARKER_IDS,
    MARKER_SIZE_MM,
    PAGE_SIZE_MM,
    BBox,
    PageGeometry,
)
from forms.identity import PageIdentity, encode_payload, format_serial
from forms.layout import (
    Frame,
    Layout,
    PageLayout,
    Rule,
    TextRun,
    layout_form,
)
from forms.model import Form

PAGE_H = PAGE_SIZE_MM[1]
MARKER_CELLS = 6  # a 4x4 ArUco marker with its one-cell black border


def layout_path_for(pdf_path: str | Path) -> Path:
    """Where the layout JSON of `pdf_path` is written: `form.pdf` -> `form.layout.json`."""
    pdf_path = Path(pdf_path)
    return pdf_path.with_name(pdf_path.stem + ".layout.json")


def render_pdf(form: Form, out_path: str | Path, copies: int = 1, first_serial: int = 1) -> Layout:
    """Print `copies` sheets of `form` into the PDF `out_path`.

    Sheet i (0-based) carries serial `first_serial + i` in the QR code of each of
    its pages and printed under it. Also writes the layout JSON beside the PDF
    (`layout_path_for`). Returns the layout that was printed.
    """
    if copies < 1:
        raise BadInput(f"Số bản in phải ≥ 1 / --copies must be at least 1 (got {copies})")
    if first_serial < 0:
        raise BadInput(f"Số sê-ri phải ≥ 0 / --first-serial must be 0 or more (got {first_serial})")
    out_path = Path(out_path)
    if not out_path.parent.exists():
        raise BadInput(f"Không có thư mục / folder does not exist: {out_path.parent}",
                       "tạo thư mục trước / create it first")
    layout = layout_form(form)
    fonts.register_fonts()
    # The PDF and its layout JSON are written to temporary files and renamed together:
    # a kill or a full disk leaves the previous pair, never a 0-byte PDF.
    with atomic_outputs([out_path, layout_path_for(out_path)]) as (pdf_tmp, json_tmp):
        canvas = Canvas(str(pdf_tmp), pagesize=(PAGE_SIZE_MM[0] * mm, PAGE_H * mm), invariant=1)
        canvas.setTitle(form.title)
        canvas.setAuthor(form.office)
        canvas.setSubject(f"phieu form {form.id} v{form.version}")
        for sheet in range(copies):
            serial = first_serial + sheet
            for page in layout.pages:
                _draw_page(canvas, form, layout, page, serial)
                canvas.showPage()
        canvas.save()
        json_tmp.write_text(
            json.dumps(layout_json(form, layout, first_serial), ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    return layout


def layout_json(form: Form, layout: Layout, first_serial: int) -> dict:
    """The layout JSON of DESIGN.md ("Contracts") for `layout` of `form`."""
    questions = [
        {"id": q.id, "type": q.type, "page": layout.question_pages[q.id],
         "options": [o.code for o in q.options]}
        for q in form.questions()
    ]
    pages = [
        {"page": p.geometry.page,
         "targets": [{"question": t.question, "option": t.option, "shape": t.shape,
                      "bbox_mm": _rounded(t.bbox_mm)} for t in p.geometry.targets],
         "text_fields": [{"question": f.question, "bbox_mm": _rounded(f.bbox_mm)}
                         for f in p.geometry.text_fields]}
        for p in layout.pages
    ]
    return {"form": form.id, "version": form.version, "first_serial": first_serial,
            "page_size_mm": list(PAGE_SIZE_MM), "questions": questions, "pages": pages}


def _rounded(bbox: BBox) -> list[float]:
    # 1 µm: far below a pixel at any scan resolution, and keeps the JSON readable.
    return [round(v, 3) for v in bbox]


def render_page_images(form: Form, dpi: int, serial: int = 1) -> list[np.ndarray]:
    """The printed pages of one sheet of `form` as grey uint8 images at `dpi`.

    This is the blank reference a reader compares scans with, and the base of
    synthetic fixtures. Rasterised by poppler's pdftoppm from the real PDF, so
    it is exactly what a printer would receive.
    """
    with tempfile.TemporaryDirectory(prefix="phieu-render-") as tmp:
        pdf = Path(tmp) / "form.pdf"
        render_pdf(form, pdf, copies=1, first_serial=serial)
        return rasterize_pdf(pdf, dpi)


def rasterize_pdf(pdf_path: str | Path, dpi: int) -> list[np.ndarray]:
    """Every page of `pdf_path` as a grey uint8 image at `dpi` (poppler's pdftoppm)."""
    with tempfile.TemporaryDirectory(prefix="phieu-raster-") as tmp:
        try:
            subprocess.run(
                ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf_path), f"{tmp}/p"],
                check=True, capture_output=True,
            )
        except FileNotFoundError:
            raise BadInput("Thiếu pdftoppm / pdftoppm not found",
                           "chạy 'bash scripts/bootstrap.sh' (cài poppler-utils) / "
                           "run 'bash scripts/bootstrap.sh' (installs poppler-utils)") from None
        except subprocess.CalledProcessError as err:
            raise BadInput(f"Không đọc được PDF / cannot rasterise {pdf_path}: "
                           f"{err.stderr.decode(errors='replace').strip()}") from None
        # pdftoppm pads page numbers to the page count's width; sorting by the
        # number keeps the order for any count.
        files = sorted(Path(tmp).glob("p-*.png"), key=lambda f: int(f.stem.split("-")[-1]))
        return [read_grey_png(f) for f in files]


def read_grey_png(path: Path) -> np.ndarray:
    """A grey image file pdftoppm wrote; `BadInput` when it cannot be read back."""
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise BadInput(f"pdftoppm wrote an unreadable page image {path.name}",
                       "check that poppler-utils is installed and the disk is not full")
    return image


# --- drawing ----------------------------------------------------------------------


def _draw_page(canvas: Canvas, form: Form, layout: Layout, page: PageLayout, serial: int) -> None:
    for item in page.items:
        if isinstance(item, TextRun):
            _draw_text(canvas, item)
        elif isinstance(item, Rule):
            _draw_rule(canvas, item)
        elif isinstance(item, Frame):
            _draw_frame(canvas, item.bbox, item.width, item.grey)
    geometry = page.geometry
    for target in geometry.targets:
        if target.shape == "box":
            _draw_frame(canvas, target.bbox_mm, layout.box_border_mm, 0.0)
    for corner, bbox in geometry.markers.items():
        _draw_marker(canvas, MARKER_IDS[corner], bbox)
    identity = PageIdentity(form.id, form.version, geometry.page, serial)
    _draw_qr(canvas, encode_payload(identity), geometry.qr_bbox_mm)
    _draw_serial(canvas, serial, geometry, layout.serial_pt)


def _y(y_mm: float) -> float:
    """Page y in mm from the top -> PDF points from the bottom."""
    return (PAGE_H - y_mm) * mm


def _draw_text(canvas: Canvas, run: TextRun) -> None:
    canvas.setFillGray(run.grey)
    canvas.setFont(run.font, run.size_pt)
    x, y = run.x * mm, _y(run.y)
    if run.anchor == "middle":
        canvas.drawCentredString(x, y, run.text)
    elif run.anchor == "end":
        canvas.drawRightString(x, y, run.text)
    else:
        canvas.drawString(x, y, run.text)


def _draw_rule(canvas: Canvas, rule: Rule) -> None:
    canvas.setStrokeGray(rule.grey)
    canvas.setLineWidth(rule.width * mm)
    canvas.line(rule.x1 * mm, _y(rule.y1), rule.x2 * mm, _y(rule.y2))


def _draw_frame(canvas: Canvas, bbox: BBox, width: float, grey: float) -> None:
    """A rectangle whose stroke lies INSIDE `bbox`, so the bbox is the ink's extent."""
    x, y, w, h = bbox
    half = width / 2
    canvas.setStrokeGray(grey)
    canvas.setLineWidth(width * mm)
    canvas.rect((x + half) * mm, _y(y + h - half), (w - width) * mm, (h - width) * mm,
                stroke=1, fill=0)


def _marker_bits(marker_id: int) -> np.ndarray:
    """The marker's cells, True where black, border included (MARKER_CELLS square)."""
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, ARUCO_DICTIONARY))
    image = cv2.aruco.generateImageMarker(dictionary, marker_id, MARKER_CELLS, borderBits=1)
    return image == 0


def _draw_marker(canvas: Canvas, marker_id: int, bbox: BBox) -> None:
    x, y, size, _ = bbox
    cell = size / MARKER_CELLS
    assert abs(size - MARKER_SIZE_MM) < 1e-9
    path = canvas.beginPath()
    # One path with every black cell, filled once: adjacent cells merge without
    # the hairline seams separate rectangles leave when rasterised.
    for row, cols in enumerate(_marker_bits(marker_id)):
        for col, black in enumerate(cols):
            if black:
                path.rect((x + col * cell) * mm, _y(y + (row + 1) * cell), cell * mm, cell * mm)
    canvas.setFillGray(0.0)
    canvas.drawPath(path, stroke=0, fill=1)


def _draw_qr(canvas: Canvas, payload: str, bbox: BBox) -> None:
    x, y, size, _ = bbox
    widget = QrCodeWidget(payload, barLevel="M", barBorder=0)
    widget.barWidth = widget.barHeight = size * mm
    drawing = Drawing(size * mm, size * mm)
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x * mm, _y(y + size))


def _draw_serial(canvas: Canvas, serial: int, geometry: PageGeometry, size_pt: float) -> None:
    x, y, w, h = geometry.serial_bbox_mm
    canvas.setFillGray(0.0)
    canvas.setFont(fonts.BOLD, size_pt)
    canvas.drawCentredString((x + w / 2) * mm, _y(y + h - 0.9), f"Số {format_serial(serial)}")
