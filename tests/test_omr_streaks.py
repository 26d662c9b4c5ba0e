"""Scanner streaks (`omr.streaks`): a line down the whole scan is the
scanner's, never a mark, and nothing a page prints or a hand draws is taken
for one.

Streaks are drawn as dust on a feeder's glass draws them: a column 1-3 px
wide, 10-35 grey levels darker (or lighter) from the image's first row to its
last, after the optics' blur and before the sensor's noise and the JPEG.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from fixtures.degrade import add_noise, gaussian_blur
from fixtures.ink import Pen, draw_strokes
from fixtures.marks import digit_circle_strokes
from forms.library import load_form
from forms.render import render_page_images
from omr import Catalog, summary
from omr.streaks import Streak, find_streaks, remove_streaks

try:
    from tests.marks_support import DPI, PPM, Printed, catalog, printed, read  # noqa: F401 (fixtures)
except ImportError:  # tests/ itself on sys.path
    from marks_support import DPI, PPM, Printed, catalog, printed, read  # type: ignore[no-redef]  # noqa: F401 (fixtures)

FORMS = ("mot-cua", "sipas")
BORDER_MM = 5.0


@pytest.fixture(scope="module")
def blanks() -> list[np.ndarray]:
    """Every page of both shipped forms, printed at 200 dpi."""
    return [page for f in FORMS for page in render_page_images(load_form(f), DPI, 77)]


def _placement(shape: tuple[int, int], skew_deg: float) -> np.ndarray:
    """Where a feeder puts a page of `shape` on its image: turned by
    `skew_deg` about its centre, with the backing's border round it."""
    h, w = shape
    b = int(BORDER_MM * PPM)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), skew_deg, 1.0)
    m[:, 2] += b
    return m


def _on_backing(page: np.ndarray, rng: np.random.Generator, skew_deg: float) -> np.ndarray:
    """`page` as a feeder sees it: on its dark backing, turned by `skew_deg`
    (`_placement`), on slightly grey paper, through the optics' blur."""
    h, w = page.shape
    b = int(BORDER_MM * PPM)
    m = _placement(page.shape, skew_deg)
    size = (w + 2 * b, h + 2 * b)
    paper = cv2.warpAffine(page, m, size, flags=cv2.INTER_LINEAR, borderValue=255).astype(np.float32)
    cover = cv2.warpAffine(np.full_like(page, 255), m, size, flags=cv2.INTER_LINEAR, borderValue=0) / 255.0
    backing = float(rng.uniform(20, 60))
    img = paper * float(rng.uniform(0.92, 0.99)) * cover + backing * (1 - cover)
    return gaussian_blur(cv2.convertScaleAbs(img), float(rng.uniform(0.3, 0.9)))


def _streaked(image: np.ndarray, streaks: list[tuple[int, int, int]]) -> np.ndarray:
    """`image` with each (x, width, delta) added down its whole height."""
    out = image.astype(np.int16)
    for x, width, delta in streaks:
        out[:, x:x + width] += delta
    return np.clip(out, 0, 255).astype(np.uint8)


def _sensor(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sensor noise and the scanner's JPEG."""
    img = add_noise(image, float(rng.uniform(1.5, 5.0)), rng)
    ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 91))])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


def _covers(found: Streak, x: int, width: int) -> bool:
    return found.x0 <= x + width and found.x0 + len(found.levels) >= x


def test_dark_streaks_down_a_scan_are_found_and_taken_out(blanks: list[np.ndarray]) -> None:
    """Dark streaks 15-35 levels deep over the paper: at least 90 % found (a
    streak running along a printed line or the paper's edge may not show as
    one), none found where none was drawn, and a found one's columns come
    back to within 5 grey levels of their neighbours' over paper."""
    rng = np.random.default_rng(5)
    drawn = found_right = 0
    for round_ in range(4):
        for blank in blanks:
            image = _on_backing(blank, rng, float(rng.uniform(-1.5, 1.5)))
            b = int(BORDER_MM * PPM)
            streaks = [(int(rng.integers(b + 40, image.shape[1] - b - 40)), int(rng.integers(1, 4)),
                        int(rng.integers(-35, -14))) for _ in range(3)]
            streaks = [s for i, s in enumerate(streaks) if all(abs(s[0] - o[0]) > 20 for o in streaks[:i])]
            scan = _sensor(_streaked(image, streaks), rng)
            found = find_streaks(scan)
            for f in found:
                assert any(_covers(f, x, w) for x, w, _ in streaks), (round_, f, streaks)
            drawn += len(streaks)
            for x, w, delta in streaks:
                hit = [f for f in found if _covers(f, x, w)]
                if not hit:
                    continue
                found_right += 1
                assert abs(hit[0].delta - delta) <= 6, (hit[0], delta)
                clean = remove_streaks(scan, tuple(hit)).astype(np.float32)
                core = clean[:, x:x + w].mean(axis=1)
                beside = (clean[:, x - 3] + clean[:, x + w + 2]) / 2
                paper = (np.abs(clean[:, x - 3] - clean[:, x + w + 2]) < 10) & (beside > 150)
                # within 5 levels: the faintest ink a box counts is 0.08 of the paper's (~19)
                assert abs(float(np.median((core - beside)[paper]))) <= 5, (x, w, delta)
    assert found_right >= 0.9 * drawn, (found_right, drawn)


@pytest.mark.parametrize("seed", [1, 2])
def test_print_paper_edges_and_pen_strokes_are_not_streaks(blanks: list[np.ndarray], seed: int) -> None:
    """No streak on the printed pages as they are, on a backing with no skew
    at all (the paper's edges straight down the image), with a long printed
    line or a long pen stroke down the page: both stop short of its margins."""
    rng = np.random.default_rng(seed)
    pen = Pen("ballpoint_black", 40, 0.5, grain=0.08, skip=0.2)
    for blank in blanks:
        assert find_streaks(blank) == ()
        assert find_streaks(_sensor(_on_backing(blank, rng, 0.0), rng)) == ()
        lined = blank.copy()
        x = int(rng.integers(40, blank.shape[1] - 40))
        lined[int(30 * PPM):int(267 * PPM), x:x + 3] = 0
        assert find_streaks(_sensor(_on_backing(lined, rng, 0.0), rng)) == ()
        stroked = blank.copy()
        x_mm = float(rng.uniform(20, 190))
        draw_strokes(stroked, PPM, [np.array([[x_mm, 25.0], [x_mm, 272.0]])], pen, rng)
        assert find_streaks(_sensor(_on_backing(stroked, rng, 0.0), rng)) == ()


def test_the_shipped_forms_print_no_line_down_the_page(blanks: list[np.ndarray]) -> None:
    """What the printed-line test above rests on: a line printed down most of
    a page's height at one column, with no skew, would be taken for a streak.
    phieu's forms print none longer than a comment box's side."""
    for blank in blanks:
        dark = (blank < 160).astype(np.int8)
        edges = np.diff(np.vstack([np.zeros((1, blank.shape[1]), np.int8), dark,
                                   np.zeros((1, blank.shape[1]), np.int8)]), axis=0)
        longest = 0
        for x in np.flatnonzero(dark.any(axis=0)):
            starts, ends = np.flatnonzero(edges[:, x] == 1), np.flatnonzero(edges[:, x] == -1)
            longest = max(longest, int((ends - starts).max()))
        assert longest / PPM < 60, longest / PPM


@pytest.mark.slow
def test_a_streak_across_digits_leaves_them_empty_and_circles_marked(printed: dict[str, Printed],
                                                                      catalog: Catalog) -> None:
    """Deep streaks (3 px, 28-35 levels) down a scan turned 2 degrees, so each
    crosses a column of the SIPAS matrix's digits: every digit not circled is
    `empty` (such a streak read as a faint stroke before `omr.streaks`), every
    circled one `marked`."""
    rng = np.random.default_rng(11)
    p = printed["sipas"]
    page_no = max(range(len(p.pages)), key=lambda i: sum(t.shape == "digit" for t in p.pages[i].targets))
    digits = [t for t in p.pages[page_no].targets if t.shape == "digit"]
    pen = Pen("ballpoint_blue", 70, 0.5, grain=0.08, skip=0.2)
    page = p.blanks[page_no].copy()
    circled = set()
    for t in digits[::4]:
        draw_strokes(page, PPM, digit_circle_strokes(t.bbox_mm, 1.5, rng), pen, rng)
        circled.add((t.question, t.option))
    skew = 2.0
    m = _placement(page.shape, skew)
    centres = {(t.question, t.option): m @ np.array([(t.bbox_mm[0] + t.bbox_mm[2] / 2) * PPM,
                                                    (t.bbox_mm[1] + t.bbox_mm[3] / 2) * PPM, 1.0])
               for t in digits}
    by_column: dict[float, list] = {}
    for t in digits:
        by_column.setdefault(round(t.bbox_mm[0], 1), []).append(t)
    middles = [column[len(column) // 2] for _, column in sorted(by_column.items())]
    streaks = [(int(centres[(t.question, t.option)][0]) + int(rng.integers(-8, 9)), 3, int(rng.integers(-35, -27)))
               for t in middles[::2]]
    scan = _sensor(_streaked(_on_backing(page, rng, skew), streaks), rng)
    crossed = {key for key, c in centres.items() if key not in circled
               and any(abs(c[0] - x) < 3 * PPM for x, _, _ in streaks)}
    assert len(crossed) >= 10, crossed
    reading = read(catalog, scan)
    # The page's quality names each streak's column, and `phieu read --debug` says so.
    assert all(any(abs(c - x - 1) <= 2 for c in reading.quality.streak_columns) for x, _, _ in streaks), (
        reading.quality.streak_columns, streaks)
    assert any("scanner streaks" in line for line in summary(reading))
    states = {(ts.question, ts.option): ts for ts in reading.targets}
    for key, ts in states.items():
        if ts.digit is None:
            continue
        assert ts.state == ("marked" if key in circled else "empty"), (key, ts.digit)
