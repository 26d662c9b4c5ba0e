"""What the item page shows for the reasons that need more than a name (issue 10): the
printed correction rule beside a `correction` item, and for a `between` item a crop wide
enough to hold the other question's targets the mark may belong to."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from forms.layout import layout_form
from forms.library import load_form
from omr.decide import CORRECTION_RULE
from pipeline.review import create_app, open_items
from pipeline.review.crops import ZOOM, crop_region
from pipeline.review.items import TargetView, correction_rule, item_view, neighbour_targets
from pipeline.store import schema
from pipeline.store.database import open_flag

try:
    from tests.review_support import built, signed_in, ws  # noqa: F401  (fixtures)
except ImportError:  # tests/ itself on sys.path (pytest's default rootdir insertion)
    from review_support import built, signed_in, ws  # noqa: F401


def _views(targets, question: str = "") -> list[TargetView]:
    return [TargetView(t.option, t.option, "", t.shape, None, "", t.bbox_mm, (0.0, 0.0), question)
            for t in targets]


def _covers(region, bbox) -> bool:
    x0, y0, x1, y1 = region
    x, y, w, h = bbox
    return x0 <= x and y0 <= y and x + w <= x1 and y + h <= y1


def _matrix_row_page(form_id: str, row: str):
    layout = layout_form(load_form(form_id))
    return next(p.geometry for p in layout.pages if any(t.question == row for t in p.geometry.targets))


@pytest.mark.parametrize("form_id,row,above,below", [
    ("sipas", "b07", "b06", "b08"),  # digits in a matrix of rows
    ("mot-cua", "thai_do", "cong_khai", "cntt"),  # boxes
])
def test_a_rows_neighbours_are_the_rows_above_and_below(form_id, row, above, below):
    geometry = _matrix_row_page(form_id, row)
    near = neighbour_targets(geometry, row)
    assert {t.question for t in near} == {above, below}
    assert len(near) == 10  # the whole of both rows: a mark may lie under any digit


def test_the_crop_of_a_between_item_holds_the_neighbours_boxes():
    geometry = _matrix_row_page("sipas", "b07")
    own = _views([t for t in geometry.targets if t.question == "b07"])
    near = _views(neighbour_targets(geometry, "b07"), "x")
    plain = crop_region(own, None)
    wide = crop_region(own, None, near)
    assert not all(_covers(plain, t.bbox_mm) for t in near)  # what the crop was: cut off
    assert all(_covers(wide, t.bbox_mm) for t in near + own)


def test_the_correction_rule_is_split_vietnamese_first():
    vi, en = correction_rule(("overvote", "correction"))
    assert f"{vi} / {en}" == CORRECTION_RULE
    assert vi.startswith("Nếu đánh nhầm") and en.startswith("If you marked")
    assert correction_rule(("overvote",)) is None


# --- in the app, on a scanned box ----------------------------------------------------


def _client(survey, store, catalog):
    return signed_in(create_app(survey, store, catalog), "An")


def _flag(store, reason: str, question: str) -> int:
    """Open a `reason` flag on `question` of a read page 1; returns its id."""
    import sqlalchemy as sa

    p, f = schema.pages, schema.flags
    with store.engine.begin() as conn:
        page = conn.execute(sa.select(p.c.id, p.c.sheet_id).where(
            p.c.status == "read", p.c.page_number == 1, p.c.sheet_id.is_not(None))
            .order_by(p.c.id)).first()
        open_flag(conn, reason=reason, detail="test", sheet_id=page.sheet_id, page_id=page.id,
                  question=question)
        return int(conn.execute(sa.select(f.c.id).where(
            f.c.reason == reason, f.c.page_id == page.id, f.c.question == question)).scalar_one())


@pytest.mark.slow
def test_a_correction_item_shows_the_printed_rule_in_both_languages(ws):
    survey, store, catalog, _ = ws
    flag_id = _flag(store, "correction", "thoi_gian")
    client, token = _client(survey, store, catalog)
    vi, en = correction_rule(("correction",))
    shown = client.get(f"/item/{flag_id}").get_data(as_text=True)
    assert 'id="rule"' in shown and vi in shown and en not in shown
    client.post("/lang", data={"csrf": token, "next": "/"})
    shown = client.get(f"/item/{flag_id}").get_data(as_text=True)
    assert vi in shown and en in shown
    with store.engine.connect() as conn:
        other = next(e for e in open_items(conn) if e.reason == "overvote" and "correction" not in e.reasons)
    assert 'id="rule"' not in client.get(f"/item/{other.flag_id}").get_data(as_text=True)


@pytest.mark.slow
def test_a_between_item_crop_covers_the_neighbouring_rows(ws):
    import sqlalchemy as sa

    survey, store, catalog, _ = ws
    flag_id = _flag(store, "between", "thai_do")
    with store.engine.connect() as conn:
        view = item_view(conn, catalog, flag_id)
        px_per_mm = float(conn.execute(sa.select(schema.pages.c.image_px_per_mm).where(
            schema.pages.c.id == view.entry.page_id)).scalar_one())
    assert {t.question for t in view.neighbours} == {"cong_khai", "cntt"}
    assert all(t.score is not None for t in view.neighbours)  # their reading is shown too
    region = crop_region(view.targets, None, view.neighbours)
    assert all(_covers(region, t.bbox_mm) for t in view.neighbours)
    client, _ = _client(survey, store, catalog)
    response = client.get(f"/image/item/{flag_id}")
    assert response.mimetype == "image/png"
    image = cv2.imdecode(np.frombuffer(response.data, np.uint8), cv2.IMREAD_GRAYSCALE)
    expected_h = (region[3] - region[1]) * px_per_mm * ZOOM
    assert abs(image.shape[0] - expected_h) <= 2 * ZOOM + 1
    plain = crop_region(view.targets, None)
    assert image.shape[0] > (plain[3] - plain[1]) * px_per_mm * ZOOM + 5 * px_per_mm
