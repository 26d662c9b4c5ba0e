"""Free-text fields: blank or written by new ink; written ones through Tesseract.

Blank or written (`field_ink`) is decided on the registered page, cheaply, from
new darkness (the blank form subtracted) seen as a texture of letter-sized
blobs, so a speck, noise or a ruled line is not "writing". OCR runs only on
written fields, on a crop warped from the full-resolution input at
`OCR_PX_PER_MM`: paper flattened, printed ruling removed, contrast set from the
writing's own ink (bleed-through drops out), writing sheared upright, cut to
its extent; Tesseract `vie` returns the text and its mean word confidence.
"""
from __future__ import annotations

import re

import cv2
import numpy as np
import pytesseract

from omr.ink import page_ink_in_view
from omr.reading import TextReading
from omr.register import Registration, warp_region
from omr.score import PageInk, blank_darkness, paper_maps
from omr.template import CANON_PX_PER_MM, PageTemplate, TextTemplate, crop_padded, kept, mm_to_px
from omr.thresholds import DEFAULT_THRESHOLDS, Thresholds

# ~300 dpi: Tesseract reads best with letters 20-40 px high.
OCR_PX_PER_MM = 12.0
OCR_LANG = "vie"
# Writing as a texture: new darkness averaged over this width, blobs at least
# this dark and this large (a letter is 3-5 mm high, a speck 0.3 mm wide).
TEXT_SMOOTH_MM = 1.0
TEXT_BLOB_DARKNESS = 0.04
TEXT_MIN_BLOB_MM2 = 1.0
FRAME_INSET_MM = 0.8  # the OCR crop starts this far inside the field's frame
RULE_SLACK_MM = 0.8  # registration residue allowed between a rule and its template
# A printed rule or frame line is a straight dark run at least this long;
# no handwritten letter has one.
RULE_RUN_MM = 6.0
# Share of the ink-to-paper range, from the paper's side, that is taken as
# paper in the OCR crop (bleed-through and streaks are this faint).
BACKGROUND_CUT = 0.15
# A column of text lines of varying size (psm 4). On the 115 comments of the
# calibration deck (benchmarks/read_calibrate.py --sheets 150 --seed 11) the
# character error rate was 19.5% with psm 6, 14.5% with psm 4, 15.5% with
# psm 6 deslanted and 8.8% with psm 4 deslanted.
OCR_CONFIG = "--psm 4"
# Shears tried to stand handwriting upright (x += slant * y): backhand to a
# strong forward lean.
SLANTS = (-0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4)
# A comment is written in words. A reading with no word of at least this many
# letters, or whose letters are fewer than half its marks, is a stray stroke,
# a border fragment or noise read as symbols ("|", "—", "1 ,"), however sure
# Tesseract is of it: a person looks at it.
MIN_WORD_LETTERS = 2
MIN_LETTER_SHARE = 0.5
# Tesseract's words must account for the writing: where more than this share
# of its letter-sized pieces of ink (`LETTER_MM`) lies outside every word it
# returned, it skipped a line or a word, and what it read is not the comment,
# however sure it is of that part (seed 7's box, benchmarks/read_accuracy.py
# --sheets 400: of 339 written fields, reads with at most 5 characters wrong
# left at most 0.027 unread; three reads that returned one line of two or
# three, at confidence 88.5-96, left 0.86-0.91). A word of a comment is about a
# fifteenth of it: the bar is under one word.
MAX_UNREAD = 0.05
# A letter-sized piece of ink in the OCR crop: 1-10 mm tall, at most 40 mm
# wide, at least 0.3 mm2 (not a diacritic alone, grain, a rule or a frame).
LETTER_MM = (1.0, 10.0, 40.0, 0.3)


def field_ink(page: np.ndarray, tt: TextTemplate, ink: PageInk) -> float:
    """Fraction of the field (frame and ruling kept out) covered by writing.

    The paper level is taken per pixel (a comment box is wide enough for a
    phone's shading to change across it) and the blank is subtracted as
    blurred as the page. Writing is then found as a texture, not as strokes:
    the new darkness averaged over ~1 mm (`TEXT_SMOOTH_MM`) lifts a line of
    faint pencil letters well above the paper's noise, which averages away;
    what counts are blobs of at least a letter's size (`TEXT_MIN_BLOB_MM2`),
    so a speck does not.
    """
    return written_share(field_darkness(page, tt, ink), tt)


def written_share(dark: np.ndarray, tt: TextTemplate) -> float:
    """The share of the field's region under blobs of writing, from its new
    darkness `dark` (`field_darkness`): blobs of the darkness averaged over
    `TEXT_SMOOTH_MM` at least `TEXT_BLOB_DARKNESS`, at least
    `TEXT_MIN_BLOB_MM2` large."""
    sigma = TEXT_SMOOTH_MM * CANON_PX_PER_MM / 2
    # The average is taken only where it can reach the blobs' darkness: a
    # weighted mean (weights >= 0 summing to 1) is never above the darkest
    # pixel it averages, so the average reaches `TEXT_BLOB_DARKNESS` only
    # within the kernel's reach of a pixel that does (`_HOT_SHARE` covers
    # float32 rounding of the sums). That box, widened by the reach again so
    # that its pixels average the same neighbours (or the field's own edge,
    # mirrored as the whole field's is), is blurred alone: the same pixels,
    # the same blobs. On a blank field the paper's noise reaches that
    # darkness here and there, so the box is often most of the field.
    hot = dark >= TEXT_BLOB_DARKNESS * _HOT_SHARE
    rows, cols = np.flatnonzero(hot.any(axis=1)), np.flatnonzero(hot.any(axis=0))
    if not len(rows):
        return 0.0  # nothing dark enough anywhere: no blob, as the whole blur would find
    reach = gaussian_reach(sigma)
    h, w = dark.shape
    y0, y1 = max(0, int(rows[0]) - 2 * reach), min(h, int(rows[-1]) + 1 + 2 * reach)
    x0, x1 = max(0, int(cols[0]) - 2 * reach), min(w, int(cols[-1]) + 1 + 2 * reach)
    smooth = cv2.GaussianBlur(dark[y0:y1, x0:x1], (0, 0), sigma)
    blobs = (smooth >= TEXT_BLOB_DARKNESS).astype(np.uint8)
    min_area = TEXT_MIN_BLOB_MM2 * CANON_PX_PER_MM**2
    if cv2.countNonZero(blobs) < min_area:
        return 0.0  # no blob can be large enough: most fields are blank
    # Grana's block-based labelling: 3-4 times faster than OpenCV's default
    # (Spaghetti) on a field's wide strip; the components, so their areas
    # and which pixels lie in a big one, are the same whatever numbers the
    # labels get.
    n, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(blobs, 8, cv2.CV_32S, cv2.CCL_GRANA)
    big = stats[:, cv2.CC_STAT_AREA] >= min_area
    big[0] = False
    area = _region_area(tt)
    if not area:
        return 0.0
    region = tt.region[y0:y1, x0:x1]
    if n <= 256:
        # a label fits a byte: the big components' pixels by a table lookup,
        # counted where the region holds (the same pixels as big[labels])
        table = np.zeros(256, np.uint8)
        table[:n] = big
        in_big = cv2.LUT(labels.astype(np.uint8), table)
        return float(cv2.countNonZero(in_big & region.view(np.uint8)) / area)
    return float((big[labels] & region).sum() / area)


# A pixel this share of `TEXT_BLOB_DARKNESS` may lift its 1 mm average to it:
# float32 sums of a Gaussian's products stray from the exact weighted mean
# by a few parts in a million, far inside this.
_HOT_SHARE = 1.0 - 1e-4


def gaussian_reach(sigma: float) -> int:
    """How far (px) `cv2.GaussianBlur(a, (0, 0), sigma)` of a float32 `a`
    reaches: half its kernel, whose side OpenCV takes as round(8 sigma + 1),
    made odd."""
    return (int(np.rint(sigma * 8 + 1)) | 1) // 2


def field_darkness(page: np.ndarray, tt: TextTemplate, ink: PageInk) -> np.ndarray:
    """The field's new darkness (float32, 0..1; zero outside its region): the
    page against the paper level under each pixel and the page's black, less
    the blank's darkness blurred as the page. The same float32 operations as
    ``clip(clip((1 - crop / paper) / ink_ref, 0, 1) - blank, 0, 1)``, done in
    place: no temporaries the size of the field."""
    h, w = tt.region.shape
    dark = crop_padded(page, tt.x0, tt.y0, w, h).astype(np.float32)
    np.divide(dark, _field_paper(ink.paper, tt), out=dark)
    np.subtract(1.0, dark, out=dark)
    np.divide(dark, ink.ink_ref, out=dark)
    np.clip(dark, 0.0, 1.0, out=dark)
    if tt.printed is not None:  # a template built without its blank has nothing to subtract
        np.subtract(dark, blank_darkness(tt, ink.blur), out=dark)
        np.clip(dark, 0.0, 1.0, out=dark)
    dark[kept(tt, "outside", lambda t: ~t.region)] = 0.0
    return dark


def _region_area(tt: TextTemplate) -> int:
    """The field's pixels whose ink counts (made once per form, kept in `derived`)."""
    return kept(tt, "area", lambda t: int(t.region.sum()))


def _field_paper(paper: np.ndarray, tt: TextTemplate) -> np.ndarray:
    """The reduced paper-level map resampled under the field. Where each of
    its pixels lies on the map is the same on every page (the map's shape is
    the canonical page's): made once per form, kept in the template's
    `derived`."""
    h, w = tt.region.shape
    maps = kept(tt, f"paper_maps@{paper.shape[0]}x{paper.shape[1]}",
                lambda t: np.stack(paper_maps(paper.shape, t.x0, t.y0, w, h)))
    return cv2.remap(paper, maps[0], maps[1], cv2.INTER_LINEAR)


def ocr_crop(grey: np.ndarray, registration: Registration, tt: TextTemplate) -> np.ndarray:
    """The field, upright at `OCR_PX_PER_MM`, paper flattened to white and the
    printed ruling and frame removed: what Tesseract sees and a reviewer is
    shown.

    The ruling is found in the crop itself (long horizontal runs, near where
    the template prints them) rather than masked from the template, so a
    registration a pixel or two off leaves no stubs of line for Tesseract to
    read as "—".
    """
    x, y, w, h = tt.field.bbox_mm
    # inset: the field's printed frame stays outside the crop
    inner = (x + FRAME_INSET_MM, y + FRAME_INSET_MM, w - 2 * FRAME_INSET_MM, h - 2 * FRAME_INSET_MM)
    crop = warp_region(grey, registration.homography, inner, OCR_PX_PER_MM)
    k = max(3, int(OCR_PX_PER_MM * 3) | 1)
    paper = cv2.dilate(crop, np.ones((k, k), np.uint8))
    # no clip needed: the max filter's window holds the pixel, so crop <= paper.
    # crop / max(paper, 1) * 255 in float32 as one expression would compute
    # it, in one buffer (a crop is ~0.5 Mpx: each temporary costs its pass
    # and its page faults)
    ratio = crop.astype(np.float32)
    np.divide(ratio, np.maximum(paper, 1, out=paper), out=ratio)
    flat = np.multiply(ratio, 255.0, out=ratio).astype(np.uint8)
    dark = np.less(flat, 240).view(np.uint8)  # 0/1, as astype gives
    run = int(RULE_RUN_MM * OCR_PX_PER_MM)
    # Horizontal runs only (a vertical one may be a scanner streak crossing
    # the writing), and only near where the template prints a rule: the tops
    # of a word's letters can make a long run too.
    near = _rules_mask(tt, flat.shape)
    flat[_rule_runs(dark, near, _rule_bands(tt, near), run)] = 255
    return _stretch(flat)


def _rule_runs(dark: np.ndarray, near: np.ndarray, bands: np.ndarray, run: int) -> np.ndarray:
    """The pixels of `dark` (0/1) in horizontal runs of at least `run`, grown by
    a pixel, where `near` holds: an opening by a row of pixels works row by
    row, and the growth reaches one row further, so only the `bands` of rows
    of `near` (`_rule_bands`) and one row either side are looked at, with the
    whole crop's result there."""
    rules = np.zeros(dark.shape, bool)
    for r0, r1 in bands.tolist():
        s0, s1 = max(r0 - 1, 0), min(r1 + 1, dark.shape[0])
        runs = cv2.morphologyEx(dark[s0:s1], cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
        grown = cv2.dilate(runs, np.ones((3, 3), np.uint8)).astype(bool)
        rules[r0:r1] = grown[r0 - s0 : r1 - s0] & near[r0:r1]
    return rules


def _deslant(crop: np.ndarray) -> np.ndarray:
    """The writing sheared upright: of `SLANTS`, the shear under which the
    ink's column profile is peakiest (slanted strokes stand up straight).
    Tesseract is trained on upright print; most handwriting leans."""
    ink = (crop < 140).astype(np.float32)
    h, w = crop.shape

    def shear(image: np.ndarray, slant: float, fill: float) -> np.ndarray:
        m = np.array([[1, slant, -slant * h / 2], [0, 1, 0]], dtype=np.float32)
        return cv2.warpAffine(image, m, (w, h), borderValue=fill)

    best = max(SLANTS, key=lambda s: float((shear(ink, s, 0.0).sum(axis=0) ** 2).sum()))
    return crop if best == 0.0 else shear(crop, best, 255)


def _for_tesseract(crop: np.ndarray) -> np.ndarray:
    """The crop deslanted and cut to its writing, with a white margin: on the
    whole field (a line of writing in a tall empty box, touching its top)
    Tesseract sometimes returned nothing at all."""
    crop = _deslant(crop)
    ys, xs = np.nonzero(crop < 140)
    if len(ys) == 0:
        return crop
    m = 16
    cut = crop[max(0, ys.min() - m) : ys.max() + m, max(0, xs.min() - m) : xs.max() + m]
    return cv2.copyMakeBorder(cut, m, m, m, m, cv2.BORDER_CONSTANT, value=255)


def _near_rules(tt: TextTemplate, shape: tuple[int, int]) -> np.ndarray:
    """Where the template's printed ruling lies (within `RULE_SLACK_MM`), in
    the coordinates of the inset OCR crop of `shape`."""
    slack = 2 * mm_to_px(RULE_SLACK_MM) + 1
    near = cv2.dilate(tt.printed_mask.astype(np.uint8), np.ones((slack, 1), np.uint8))
    i = mm_to_px(FRAME_INSET_MM)
    near = near[i : near.shape[0] - i, i : near.shape[1] - i]
    return cv2.resize(near, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST).astype(bool)


def _rules_mask(tt: TextTemplate, shape: tuple[int, int]) -> np.ndarray:
    """`_near_rules`, the same for every page (the crop's size is the
    field's at `OCR_PX_PER_MM`): made once per form, kept in the
    template's `derived`."""
    return kept(tt, f"near_rules@{shape[0]}x{shape[1]}", lambda t: _near_rules(t, shape))


def _rule_bands(tt: TextTemplate, near: np.ndarray) -> np.ndarray:
    """The bands of rows (start, end) of the OCR crop where `near` (its
    `_rules_mask`) holds a rule's place: made once per form, kept in the
    template's `derived`."""
    def bands(_: TextTemplate) -> np.ndarray:
        rows = np.concatenate([[False], near.any(axis=1), [False]]).astype(np.int8)
        return np.flatnonzero(np.diff(rows)).reshape(-1, 2)

    return kept(tt, f"rule_bands@{near.shape[0]}x{near.shape[1]}", bands)


def _stretch(flat: np.ndarray) -> np.ndarray:
    """Contrast from the writing's own ink to white: anything lighter than
    `BACKGROUND_CUT` of the way from the ink to the paper (bleed-through from
    the back, a faint streak) becomes paper, pencil becomes dark."""
    ink = percentile_u8(flat, 0.5)
    cut = 255.0 - BACKGROUND_CUT * (255.0 - ink)
    if cut - ink < 10:
        return flat
    # a pixel's output depends on its value alone: the float arithmetic done
    # once per grey level (the same operations, so the same bits) and looked up
    levels = (np.arange(256, dtype=np.float32) - ink) / (cut - ink) * 255.0
    return cv2.LUT(flat, np.clip(levels, 0, 255).astype(np.uint8))


def percentile_u8(image: np.ndarray, q: float) -> float:
    """`np.percentile(image, q)` of a uint8 `image` (its default, linear
    method, to the last bit), from the image's histogram: four times faster
    on an OCR crop than the partial sort."""
    n = image.size
    cumulative = np.cumsum(cv2.calcHist([image], [0], None, [256], [0, 256]).ravel())
    virtual = (n - 1) * (q / 100)
    below = int(np.floor(virtual))
    gamma = virtual - below
    # the values at sorted positions `below` and the next
    a, b = (float(np.searchsorted(cumulative, i, side="right")) for i in (below, min(below + 1, n - 1)))
    return b - (b - a) * (1 - gamma) if gamma >= 0.5 else a + (b - a) * gamma


def ocr_text(image: np.ndarray) -> tuple[str, float]:
    """Tesseract (`vie`) on a prepared crop: the text (lines joined by "\\n")
    and the mean word confidence 0..100 (0 when no word was found, or when
    the words leave more than `MAX_UNREAD` of the writing unread,
    `unread_share`: a skipped line is in no word's confidence)."""
    prepared = _for_tesseract(image)
    data = pytesseract.image_to_data(prepared, lang=OCR_LANG, config=OCR_CONFIG, output_type=pytesseract.Output.DICT)
    lines: dict[tuple[int, int, int], list[str]] = {}
    confs: list[float] = []
    for i, word in enumerate(data["text"]):
        conf = float(data["conf"][i])
        if conf < 0 or not word.strip():
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        lines.setdefault(key, []).append(word.strip())
        confs.append(conf)
    text = "\n".join(" ".join(words) for _, words in sorted(lines.items()))
    if not confs or unread_share(prepared, data) > MAX_UNREAD:
        return text, 0.0
    return text, float(np.mean(confs))


def unread_share(image: np.ndarray, data: dict) -> float:
    """The share of the writing in `image` (its letter-sized pieces of ink,
    `LETTER_MM`, by area) whose centre lies in none of the words Tesseract
    returned (`data`: `image_to_data`'s dict; each word's box grown 0.5 mm);
    0 when there is no such piece."""
    low, high, wide = (v * OCR_PX_PER_MM for v in LETTER_MM[:3])
    area = LETTER_MM[3] * OCR_PX_PER_MM**2
    n, _, stats, centres = cv2.connectedComponentsWithStats((image < 140).astype(np.uint8), connectivity=8)
    grow = 0.5 * OCR_PX_PER_MM
    boxes = np.array([(data["left"][i] - grow, data["top"][i] - grow,
                       data["left"][i] + data["width"][i] + grow, data["top"][i] + data["height"][i] + grow)
                      for i, word in enumerate(data["text"]) if float(data["conf"][i]) >= 0 and word.strip()])
    h, w, a = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_AREA]
    letter = (h >= low) & (h <= high) & (w <= wide) & (a >= area)
    total = float(a[letter].sum())
    if total == 0:
        return 0.0
    if len(boxes) == 0:
        return 1.0
    cx, cy = centres[1:, 0][:, None], centres[1:, 1][:, None]
    read = ((cx >= boxes[:, 0]) & (cx <= boxes[:, 2]) & (cy >= boxes[:, 1]) & (cy <= boxes[:, 3])).any(axis=1)
    return float(a[letter & ~read].sum()) / total


def looks_like_words(text: str) -> bool:
    """True when `text` reads as words: some run of at least `MIN_WORD_LETTERS`
    letters (any script, diacritics included), and letters at least
    `MIN_LETTER_SHARE` of its non-space characters. Digits alone ("12") are not
    a comment either: a number without a word is as likely a stray mark."""
    marks = [ch for ch in text if not ch.isspace()]
    if not marks:
        return False
    letters = sum(ch.isalpha() for ch in marks)
    if letters < MIN_LETTER_SHARE * len(marks):
        return False
    longest = max((len(run) for run in _LETTER_RUN.findall(text)), default=0)
    return longest >= MIN_WORD_LETTERS


# \w minus digits and "_": runs of letters (Vietnamese combining marks are
# letters' parts once NFC-composed, which Tesseract's output is).
_LETTER_RUN = re.compile(r"[^\W\d_]+")


def read_text_fields(
    grey: np.ndarray,
    registration: Registration,
    template: PageTemplate,
    *,
    ocr: bool = True,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    ink: PageInk | None = None,
) -> tuple[TextReading, ...]:
    """Read every text field of `template` on a registered page.

    Returns a tuple of `omr.reading.TextReading`: `blank` when the field's new
    ink is below `thresholds.text_blank_ink` (no OCR then); otherwise, with
    `ocr`, the OCR text and mean confidence, and the crop for review. `ink`
    is the page's `PageInk` if already estimated.
    """
    # estimated as `omr.read_page` does when not given (the paper from the half page)
    ink = ink or page_ink_in_view(registration, template)
    page = registration.page.ensure(
        (tt.x0, tt.y0, tt.x0 + tt.region.shape[1], tt.y0 + tt.region.shape[0]) for tt in template.texts
    )
    out: list[TextReading] = []
    for tt in template.texts:
        amount = field_ink(page, tt, ink)
        if amount < thresholds.text_blank_ink:
            out.append(TextReading(tt.field.question, round(amount, 5), True))
            continue
        crop = ocr_crop(grey, registration, tt)
        text, conf = ocr_text(crop) if ocr else ("", 0.0)
        out.append(TextReading(tt.field.question, round(amount, 5), False, text, round(conf, 1), crop))
    return tuple(out)

