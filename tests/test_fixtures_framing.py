"""fixtures: the captures that miss part of the page (issue 11): tightly framed
photos, corners out of the frame, folds over answers; what they promise is
checked on the picture itself (markers detected, where the truth says)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from fixtures.capture import as_decoded, capture
from fixtures.photo import answer_areas
from fixtures.scanner import fold_covers
from forms.geometry import MARKER_IDS
from forms.layout import layout_form
from forms.library import load_form
from forms.render import render_page_images

DPI = 200
PPM = DPI / 25.4


@pytest.fixture(scope="module")
def sipas():
    form = load_form("sipas")
    return [p.geometry for p in layout_form(form).pages], render_page_images(form, DPI, serial=9)


def _markers(image: np.ndarray) -> set[str]:
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50))
    _, ids, _ = detector.detectMarkers(grey)
    by_id = {v: k for k, v in MARKER_IDS.items()}
    return {by_id[int(i)] for i in (ids.ravel() if ids is not None else []) if int(i) in by_id}


@pytest.mark.parametrize("seed", range(6))
def test_tight_photos_cut_12_to_15_mm_through_the_markers(sipas, seed: int) -> None:
    geos, blanks = sipas
    page = seed % 2
    cap = capture("tight", blanks[page], PPM, seed, geometry=geos[page])
    assert cap.kind == "tight" and cap.image.ndim == 3
    assert 1 <= len(cap.params["cut_sides"]) <= 2 and "top" not in cap.params["cut_sides"]  # the QR code is there
    for ends in cap.params["cut_mm"].values():
        assert all(12.0 <= d <= 15.0 for d in ends)
    # the cut markers are not found in the picture; the others are
    seen = _markers(as_decoded(cap))
    assert not seen & set(cap.params["markers_out"])
    assert len(cap.params["markers_out"]) >= 2


@pytest.mark.parametrize("seed", range(4))
def test_corners_out_loses_two_or_three_markers_and_keeps_every_answer(sipas, seed: int) -> None:
    geos, blanks = sipas
    cap = capture("corners_out", blanks[1], PPM, seed, geometry=geos[1])
    assert len(cap.params["markers_out"]) in (2, 3)
    assert not _markers(as_decoded(cap)) & set(cap.params["markers_out"])
    assert answer_areas(geos[1])  # what the sampler keeps in the frame


@pytest.mark.parametrize("kind", ["fold_over", "phone_fold"])
def test_fold_over_covers_answers_and_says_which(kind: str, sipas) -> None:
    geos, blanks = sipas
    for seed in range(4):
        cap = capture(kind, blanks[0], PPM, seed, geometry=geos[0])
        covered = cap.params["covered"]
        assert covered, seed
        corner, leg = cap.params["fold_corner"], cap.params["fold_leg_mm"]
        assert sorted(sum(fold_covers(geos[0], corner, leg, (210.0, 297.0)).values(), [])) == covered
        assert set(cap.params["covered_dark"]) <= set(covered)
    # the dark triangle and the flap: a fold of 60 mm at the bottom-right
    covers = fold_covers(geos[0], "br", 60.0, (210.0, 297.0))
    assert covers["dark"] and covers["back"] and not set(covers["dark"]) & set(covers["back"])
