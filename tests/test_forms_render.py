"""Printed forms, measured in their rasters: markers, QR payloads, serials, and that
every bbox of the layout JSON lands on the printed box or digit.

Each shipped form is printed to PDF and rasterised by pdftoppm at 150 and 300
dpi, the resolutions a feeder scanner is set to; nothing below is assumed from
the layout, everything is looked for in the pixels.
"""
from __future__ import annotations

import json
import re

import cv2
import numpy as np
import pytest
import zxingcpp

from forms.geometry import MARKER_IDS, MARKER_QUIET_MM, PAGE_SIZE_MM, marker_bbox
from forms.identity import PageIdentity, decode_payload
from forms.layout import BOX_MM, layout_form
from forms.library import list_forms, load_form
from forms.render import layout_path_for, rasterize_pdf, render_pdf

SHIPPED = sorted(form.id for form in list_forms())
DPIS = (150, 300)
INK = 128  # a pixel darker than this is ink (antialiased edges are in between)
WHITE = 235  # paper: everything expected blank must be lighter than this


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """form id -> (form, layout JSON, {dpi: [page images]}), printed once per module."""
    out = {}
    folder = tmp_path_factory.mktemp("printed")
    for form_id in SHIPPED:
        form = load_form(form_id)
        pdf = folder / f"{form_id}.pdf"
        render_pdf(form, pdf, copies=1, first_serial=7)
        data = json.loads(layout_path_for(pdf).read_text(encoding="utf-8"))
        out[form_id] = (form, data, {dpi: rasterize_pdf(pdf, dpi) for dpi in DPIS})
    return out


def px(mm: float, dpi: int) -> float:
    return mm * dpi / 25.4


def region(image: np.ndarray, bbox_mm, dpi: int, grow_mm: float = 0.0) -> np.ndarray:
    """Pixels of `bbox_mm` grown by `grow_mm` on every side (negative shrinks)."""
    x, y, w, h = bbox_mm
    x0, y0 = round(px(x - grow_mm, dpi)), round(px(y - grow_mm, dpi))
    x1, y1 = round(px(x + w + grow_mm, dpi)), round(px(y + h + grow_mm, dpi))
    return image[max(y0, 0):y1, max(x0, 0):x1]


def read_qr_opencv(image: np.ndarray) -> str:
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return text


def read_qr_zxing(image: np.ndarray) -> str:
    found = zxingcpp.read_barcodes(image)
    return found[0].text if found else ""


@pytest.mark.slow
def test_every_shipped_form_prints(printed):
    assert SHIPPED == ["mot-cua", "sipas"]
    assert [len(printed[f][2][150]) for f in SHIPPED] == [1, 2]  # one page, two pages


@pytest.mark.parametrize("form_id", SHIPPED)
@pytest.mark.parametrize("dpi", DPIS)
def test_markers_found_where_the_geometry_says(printed, form_id, dpi):
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    detector = cv2.aruco.ArucoDetector(dictionary, cv2.aruco.DetectorParameters())
    for image in printed[form_id][2][dpi]:
        corners, ids, _ = detector.detectMarkers(image)
        assert ids is not None
        found = {int(i): c.reshape(4, 2) for i, c in zip(ids.ravel(), corners)}
        assert sorted(found) == sorted(MARKER_IDS.values())
        for corner, marker_id in MARKER_IDS.items():
            x, y, w, h = marker_bbox(corner)
            expected = np.array([px(x, dpi), px(y, dpi)])  # the marker's top-left
            # ArUco reports corners clockwise from the marker's own top-left.
            assert np.abs(found[marker_id][0] - expected).max() < px(0.5, dpi)
            # The quiet zone around the marker is blank paper.
            ring = region(image, (x, y, w, h), dpi, MARKER_QUIET_MM - 0.3).copy()
            inner = round(px(0.6, dpi))
            ring[inner:-inner, inner:-inner] = 255
            assert ring.min() > WHITE, f"ink in the quiet zone of marker {corner}"


@pytest.mark.slow
@pytest.mark.parametrize("form_id", SHIPPED)
@pytest.mark.parametrize("dpi", DPIS)
@pytest.mark.parametrize("reader", [read_qr_opencv, read_qr_zxing], ids=["opencv", "zxing"])
def test_qr_payload_read(printed, form_id, dpi, reader):
    form = printed[form_id][0]
    for page, image in enumerate(printed[form_id][2][dpi], start=1):
        identity = decode_payload(reader(image))
        assert identity == PageIdentity(form.id, form.version, page, 7)


@pytest.mark.parametrize("form_id", SHIPPED)
@pytest.mark.parametrize("dpi", DPIS)
def test_box_bboxes_land_on_printed_boxes(printed, form_id, dpi):
    _, data, images = printed[form_id]
    border = max(1, round(px(0.35, dpi)))
    boxes = 0
    for page in data["pages"]:
        image = images[dpi][page["page"] - 1]
        for target in (t for t in page["targets"] if t["shape"] == "box"):
            bbox = target["bbox_mm"]
            assert bbox[2] == pytest.approx(BOX_MM) and bbox[3] == pytest.approx(BOX_MM)
            box = region(image, bbox, dpi)
            edges = [box[:border], box[-border:], box[:, :border], box[:, -border:]]
            # Each edge of the bbox is printed border, dark along its whole length.
            assert all(np.median(e) < INK for e in edges), target
            assert all((e < INK).mean() > 0.9 for e in edges), target
            # Inside the border: white paper.
            assert box[2 * border:-2 * border, 2 * border:-2 * border].min() > WHITE, target
            # Around it: ≥ 2 mm of white (the ring from 0.3 mm to 2 mm outside).
            ring = region(image, bbox, dpi, 2.0).copy()
            cut = round(px(2.0 - 0.3, dpi))
            ring[cut:-cut, cut:-cut] = 255
            assert ring.min() > WHITE, f"ink within 2 mm of {target}"
            boxes += 1
    assert boxes > 0 or form_id == "sipas"


def pixels_within(image: np.ndarray, cx: float, cy: float, radius: float, below: int):
    """Page coordinates (xs, ys) of pixels darker than `below` within `radius` px
    of (cx, cy) (pixel centres)."""
    x0, y0 = int(cx - radius), int(cy - radius)
    patch = image[y0:int(cy + radius) + 2, x0:int(cx + radius) + 2]
    ys, xs = np.nonzero(patch < below)
    xs, ys = xs + x0, ys + y0
    inside = (xs + 0.5 - cx) ** 2 + (ys + 0.5 - cy) ** 2 <= radius ** 2
    return xs[inside], ys[inside]


@pytest.mark.parametrize("form_id", SHIPPED)
@pytest.mark.parametrize("dpi", DPIS)
def test_digit_bboxes_land_on_printed_digits(printed, form_id, dpi):
    _, data, images = printed[form_id]
    digits = 0
    for page in data["pages"]:
        image = images[dpi][page["page"] - 1]
        for target in (t for t in page["targets"] if t["shape"] == "digit"):
            x, y, w, h = target["bbox_mm"]
            cx, cy = px(x + w / 2, dpi), px(y + h / 2, dpi)
            # Every printed pixel (anything darker than paper, grey rules too)
            # within 3.5 mm of the digit's centre, where the reader looks for a
            # circle, is inside the digit's bbox (+1 px of antialiasing).
            xs, ys = pixels_within(image, cx, cy, px(3.5, dpi), WHITE)
            assert len(xs) > 0, f"no ink for {target}"
            # Pixel i covers [i, i + 1): compare the extent, not the indices.
            assert xs.min() >= px(x, dpi) - 1 and xs.max() + 1 <= px(x + w, dpi) + 1, target
            assert ys.min() >= px(y, dpi) - 1 and ys.max() + 1 <= px(y + h, dpi) + 1, target
            # ... and the bbox is tight: the ink reaches within 0.5 mm of each side.
            xs, ys = pixels_within(image, cx, cy, px(3.5, dpi), INK)
            tol = px(0.5, dpi)
            assert xs.min() - px(x, dpi) < tol and px(x + w, dpi) - (xs.max() + 1) < tol, target
            assert ys.min() - px(y, dpi) < tol and px(y + h, dpi) - (ys.max() + 1) < tol, target
            digits += 1
    assert digits > 0 or form_id == "mot-cua"


@pytest.mark.parametrize("form_id", SHIPPED)
def test_text_field_bboxes_land_on_printed_frames(printed, form_id):
    dpi = 150
    _, data, images = printed[form_id]
    fields = [(p["page"], f) for p in data["pages"] for f in p["text_fields"]]
    assert fields, "every shipped form has a comment box"
    for page, field in fields:
        frame = region(images[dpi][page - 1], field["bbox_mm"], dpi)
        edges = [frame[:1], frame[-1:], frame[:, :1], frame[:, -1:]]
        assert all(np.median(e) < 160 for e in edges), field
        assert (frame[3:-3, 3:-3] < 120).mean() < 0.002  # guide lines are faint grey


@pytest.mark.slow
def test_copies_carry_increasing_serials(tmp_path):
    form = load_form("sipas")
    pdf = tmp_path / "three.pdf"
    render_pdf(form, pdf, copies=3, first_serial=41)
    images = rasterize_pdf(pdf, 150)
    assert len(images) == 3 * 2
    serials = [decode_payload(read_qr_zxing(image)) for image in images]
    assert [(s.serial, s.page) for s in serials] == [
        (41, 1), (41, 2), (42, 1), (42, 2), (43, 1), (43, 2)]
    assert json.loads(layout_path_for(pdf).read_text(encoding="utf-8"))["first_serial"] == 41


@pytest.mark.slow
def test_printed_serial_text_matches_the_qr(tmp_path):
    import pytesseract

    form = load_form("mot-cua")
    pdf = tmp_path / "s.pdf"
    layout = render_pdf(form, pdf, copies=2, first_serial=123456)
    images = rasterize_pdf(pdf, 300)
    for sheet, image in enumerate(images):
        crop = region(image, layout.pages[0].geometry.serial_bbox_mm, 300, 0.5)
        text = pytesseract.image_to_string(crop, lang="vie", config="--psm 7")
        assert re.search(r"\b(\d{6})\b", text).group(1) == f"{123456 + sheet:06d}", text


def test_layout_json_has_the_contract_shape(printed):
    for form_id in SHIPPED:
        form, data, _ = printed[form_id]
        assert set(data) == {"form", "version", "first_serial", "page_size_mm", "questions",
                             "pages"}
        assert data["form"] == form_id and data["first_serial"] == 7
        assert data["page_size_mm"] == list(PAGE_SIZE_MM)
        assert [q["id"] for q in data["questions"]] == [q.id for q in form.questions()]
        for q in data["questions"]:
            assert set(q) == {"id", "type", "page", "options"}
            page = data["pages"][q["page"] - 1]
            printed_options = [t["option"] for t in page["targets"] if t["question"] == q["id"]]
            assert printed_options == q["options"]
            if q["type"] == "text":
                assert [f["question"] for f in page["text_fields"]].count(q["id"]) == 1
        for page in data["pages"]:
            assert set(page) == {"page", "targets", "text_fields"}
            for t in page["targets"]:
                assert set(t) == {"question", "option", "shape", "bbox_mm"}


@pytest.mark.parametrize("form_id", SHIPPED)
def test_digits_stand_apart_and_targets_clear_of_markers_and_qr(form_id):
    layout = layout_form(load_form(form_id))
    for page in layout.pages:
        geometry = page.geometry
        centres = [(t.bbox_mm[0] + t.bbox_mm[2] / 2, t.bbox_mm[1] + t.bbox_mm[3] / 2, t)
                   for t in geometry.targets]
        digits = [(x, y) for x, y, t in centres if t.shape == "digit"]
        for i, (x1, y1) in enumerate(digits):
            for x2, y2 in digits[i + 1:]:
                assert np.hypot(x1 - x2, y1 - y2) >= 8.0
        keep_out = [marker_bbox(c) for c in MARKER_IDS] + [geometry.qr_bbox_mm]
        for target in geometry.targets:
            x, y, w, h = target.bbox_mm
            for kx, ky, kw, kh in keep_out:
                q = MARKER_QUIET_MM + 2.0
                assert (x + w + q < kx or kx + kw + q < x or y + h + q < ky
                        or ky + kh + q < y), (target, "too close to a marker or the QR")


def run_box(run):
    """A text run's extent (x0, y0, x1, y1) in mm: the letters' band from the
    cap height to the descenders (stacked diacritics may rise into the line
    spacing above, which is where they belong)."""
    from forms import fonts

    width = fonts.text_width(run.text, run.font, run.size_pt)
    x0 = {"start": run.x, "middle": run.x - width / 2, "end": run.x - width}[run.anchor]
    size = run.size_pt * fonts.PT_MM
    return (x0, run.y - 0.75 * size, x0 + width, run.y + 0.22 * size)


def near(a, b, gap: float) -> bool:
    """Whether boxes a and b (x0, y0, x1, y1) come closer than `gap` mm."""
    return not (a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1]
                or b[3] + gap <= a[1])


@pytest.mark.parametrize("form_id", SHIPPED)
def test_text_never_overlaps_targets_markers_qr_or_other_text(form_id):
    from forms.layout import TextRun

    layout = layout_form(load_form(form_id))
    for page in layout.pages:
        geometry = page.geometry
        runs = [item for item in page.items if isinstance(item, TextRun)]
        digit_runs = set()
        for target in geometry.targets:
            x, y, w, h = target.bbox_mm
            box = (x, y, x + w, y + h)
            for run in runs:
                extent = run_box(run)
                if target.shape == "digit" and run.text == target.option and near(extent, box, 0):
                    digit_runs.add(id(run))  # the digit itself
                    continue
                clear = 1.9 if target.shape == "box" else 3.5 - max(w, h) / 2
                assert not near(extent, box, clear), (run.text, target)
        keep_out = [marker_bbox(c) for c in MARKER_IDS]
        qr = geometry.qr_bbox_mm
        for run in runs:
            extent = run_box(run)
            assert 5.0 <= extent[0] and extent[2] <= PAGE_SIZE_MM[0] - 5.0, run.text
            for x, y, w, h in keep_out:
                assert not near(extent, (x, y, x + w, y + h), MARKER_QUIET_MM), run.text
            assert not near(extent, (qr[0], qr[1], qr[0] + qr[2], qr[1] + qr[3]), 3.0), run.text
        others = [r for r in runs if id(r) not in digit_runs]
        for i, a in enumerate(others):
            for b in others[i + 1:]:
                assert not near(run_box(a), run_box(b), 0.0), (a.text, b.text)


def test_printing_is_reproducible(tmp_path):
    form = load_form("mot-cua")
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    render_pdf(form, a, copies=2, first_serial=5)
    render_pdf(form, b, copies=2, first_serial=5)
    assert a.read_bytes() == b.read_bytes()  # same sheets, byte for byte (no timestamps)
