"""What the reader precomputes once per form: the blank page's ink, and for every
target its matching patch and the region whose new ink is measured.

Everything is at the canonical working scale `CANON_PX_PER_MM` (the registered
page is warped to it), built from `forms` geometry and the blank rasters the
caller renders (`forms.render.render_page_images`), so no coordinate is
invented here.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import cv2
import numpy as np

from forms.geometry import MARKER_IDS, PAGE_SIZE_MM, BBox, Corner, PageGeometry, Target, TextField, marker_bbox
from forms.model import Form

if TYPE_CHECKING:  # built by omr.align and omr.coverage, which read this module's scale
    from omr.align import PrintTiles
    from omr.coverage import FoldReference

# 6 px/mm (152 dpi): a 0.3 mm pencil stroke is ~2 px wide, a 5 mm box 30 px,
# and the whole A4 page 1260x1782 px, cheap to warp and to score.
CANON_PX_PER_MM = 6.0

# Blank-form pixels darker than this (darkness 0..1) are printed ink.
PRINT_DARKNESS = 0.25
# Printed ink is grown by this much before it is excluded from new ink, so a
# registration residue of a pixel or two does not turn the printed box line
# into "new ink".
PRINT_GUARD_MM = 0.35
# The box interior that counts starts this far inside the printed border: a
# stroke from the neighbouring box grazing the border does not reach it.
BOX_INSET_MM = 0.6
# Padding of a box's patch around its printed square (room for snapping).
BOX_PAD_MM = 1.0
# Ring around a printed digit: from a fraction of the digit's size (a tight
# circle touches the digit) out to at most this far from the digit's centre,
# and never past half-way to the nearest other target.
RING_INNER_FACTOR = 0.45
RING_OUTER_MAX_MM = 3.8
RING_SECTORS = 16
# Over the digit's own box the glyph is excluded with a guard of only this
# many pixels: after the snap the residue is under a pixel, and a wider guard
# would leave no room to see a stroke across the digit.
DIGIT_GUARD_PX = 1
# The glyph's rim is left out of a shading's coverage by this many pixels more
# than its own guard: the printed edge never cancels exactly.
FILL_RIM_PX = 1
# The middle of a digit: within this of its centre, where a circle round the
# digit never reaches (it keeps ~1.8 mm away, `omr.score.OVER_MM`) and a
# blackout leaves no paper.
MIDDLE_MM = 1.1
# The digit's own box, grown by this much and minus its glyph, is measured too
# (with the ring): the ink of a tick or a cross drawn over the digit lies there.
DIGIT_INNER_GROW_MM = 0.4
# Around a digit every new stroke is looked at out to this far from its centre
# (beyond the ring): a tick beside the digit or a line under it lies there, and
# whose it is is decided by how near it is to this digit and to the others.
DIGIT_ZONE_MM = 5.5
# A comment box is not snapped like a target: its frame and ruling are kept
# out of the measured region by a wider margin (a phone photo's page is not
# quite flat, the ruling may lie half a millimetre off).
TEXT_INSET_MM = 1.2
TEXT_GUARD_MM = 0.8
# Local search radius of the snap (a homography is off by a few px).
SEARCH_MM = 1.2
# Round a digit, pixels within NEAR_PRINT_PX of any of the blank's print
# darker than NEAR_PRINT_LEVEL (a thin grey rule is lighter than
# PRINT_DARKNESS at this scale): where a blur the model misses leaves residue
# (`omr.score.stroke_core`, `omr.score.digit_strokes`).
NEAR_PRINT_PX = 3
NEAR_PRINT_LEVEL = 0.08
# A digit's glyph and this many pixels round it, within its own box: where a
# stroke laid along the glyph darkens it (`omr.score.glyph_darkening_mm2`).
THICK_RIM_PX = 3


# Candidate blurs of a page (canonical px): a crisp 300 dpi scan ~0, a phone
# photo out of focus ~2.
BLUR_SIGMAS = (0.0, 0.5, 0.8, 1.1, 1.5, 2.0, 2.6, 3.4)


def mm_to_px(value_mm: float) -> int:
    """A length in mm as a whole number of canonical pixels."""
    return int(round(value_mm * CANON_PX_PER_MM))


def snap_at_reach(offset_mm: tuple[float, float]) -> bool:
    """Whether a snap's offset (`TargetScore.offset_mm`, mm rounded to 0.01)
    lies at the edge of its search (`SEARCH_MM`, in whole canonical pixels):
    its best match is there because the print lies further off, so where the
    target is measured may hold the print's own lines, not the target's inside."""
    reach = mm_to_px(SEARCH_MM) / CANON_PX_PER_MM
    return max(abs(offset_mm[0]), abs(offset_mm[1])) >= reach - 0.5 / CANON_PX_PER_MM


def sector_of(angle: np.ndarray) -> np.ndarray:
    """The sector (of RING_SECTORS, 0 from the left going up through the top)
    of each angle round a digit's centre, in radians as `np.arctan2(dy, dx)`
    gives them. The one numbering of the ring: the template's ring, the
    strokes round a digit and the crossed-out measure all use it."""
    return np.minimum(((angle + np.pi) / (2 * np.pi) * RING_SECTORS).astype(np.intp), RING_SECTORS - 1)


@dataclass(frozen=True)
class TargetTemplate:
    """One target at the canonical scale.

    `x0, y0` is the top-left (canonical px) of the target's patch on the blank
    page; `printed` is the blank's darkness in the patch (what the snap
    matches), `region` the pixels whose new ink counts (printed ink excluded),
    `sector` each region pixel's angular sector around a digit (-1 outside;
    all -1 for a box), and `inner` (digits) the digit's box minus its glyph.
    """

    target: Target
    x0: int
    y0: int
    printed: np.ndarray = field(repr=False, compare=False)
    region: np.ndarray = field(repr=False, compare=False)
    sector: np.ndarray = field(repr=False, compare=False)
    region_px: int = 0
    # Digits only: the digit's own box minus its glyph, where a tick or a
    # cross drawn over the digit leaves ink (None for a box).
    inner: np.ndarray | None = field(default=None, repr=False, compare=False)
    centre: tuple[float, float] = (0.0, 0.0)  # the target's centre in patch px
    # Digits only, per patch pixel: the distance (mm) to this digit's box and
    # to the nearest other target's box (whose a stroke is), this digit's
    # printed glyph (strokes across it are bridged over it), and where new
    # ink may count at all (the zone minus other printed ink).
    own_mm: np.ndarray | None = field(default=None, repr=False, compare=False)
    other_mm: np.ndarray | None = field(default=None, repr=False, compare=False)
    glyph: np.ndarray | None = field(default=None, repr=False, compare=False)
    zone: np.ndarray | None = field(default=None, repr=False, compare=False)
    # The digit's grown box (plus a pixel for a 3x3 mean) as (y0, y1, x0, x1)
    # in the patch, and within it `inner` less a rim round the glyph: where
    # a shading's coverage is measured.
    box_crop: tuple[int, int, int, int] = (0, 0, 0, 0)
    fill_region: np.ndarray | None = field(default=None, repr=False, compare=False)
    # Fixed masks and counts the scorer reads for every page: the patch's
    # pixels near any print in it (`NEAR_PRINT_PX`; digits and boxes), and, for
    # digits only, the rows and columns in
    # the `box_crop` window of the glyph's rim within the box (`THICK_RIM_PX`),
    # and the pixels of `fill_region` and of `inner` within the `box_crop`
    # window (at least 1: shares are taken of them).
    near_print: np.ndarray | None = field(default=None, repr=False, compare=False)
    # Digits: the blank's print in the patch other than the digit's glyph (a row's
    # rule, other targets, labels) at the faint `NEAR_PRINT_LEVEL`: what divides
    # the digit's cell of the form from its neighbours' (`omr.score._in_cell`).
    printed_other: np.ndarray | None = field(default=None, repr=False, compare=False)
    rim_rows: np.ndarray | None = field(default=None, repr=False, compare=False)
    rim_cols: np.ndarray | None = field(default=None, repr=False, compare=False)
    # Digits: the digit's middle in the `box_crop` window (`inner` within
    # MIDDLE_MM of its centre), which a blackout hides and a circle never
    # reaches, and its pixels (at least 1).
    middle: np.ndarray | None = field(default=None, repr=False, compare=False)
    middle_px: int = 1
    # Digits: the paper round the digit, off the print, beyond the ring (where
    # no circle round it lies), whose level tells a shading of the digit from
    # grey all round it (a shadow, a smudge): `omr.reading.DigitEvidence.fill_local`.
    surround: np.ndarray | None = field(default=None, repr=False, compare=False)
    # Digits: the zone off the print grown by 1 px, where a faint stroke's 3x3
    # mean can draw on (`omr.score.faint_stroke_mm`'s cheap bound). Boxes: the
    # counted interior off the print grown by 1 px, which a faint stroke
    # through the box crosses (`omr.score.box_faint_mm`).
    faint_reach: np.ndarray | None = field(default=None, repr=False, compare=False)
    fill_px: int = 1
    inner_box_px: int = 1
    # Where new ink can change what is measured (the scorer's cheap bound: no
    # pixel there as dark as the least that counts, nothing to measure). A box:
    # the window (y0, y1, x0, x1) of the patch round `region` grown by 2 px (a
    # stroke's core is closed, 1 px, and its rim kept, 1 px, before the region
    # is taken). A digit: `inner` grown by 1 px (a 3x3 mean), in the `box_crop`
    # window.
    reach: tuple[int, int, int, int] = (0, 0, 0, 0)
    # Boxes: the bounding window (y0, y1, x0, x1) of `region`, the counted
    # interior whose sides a stroke across the box joins (`omr.score.crosses_box`).
    interior: tuple[int, int, int, int] = (0, 0, 0, 0)
    inner_reach: np.ndarray | None = field(default=None, repr=False, compare=False)
    # Digits: the ring's pixels (`sector` >= 0), as indices into the flattened
    # patch, and their sectors, in the patch's order.
    ring_px: np.ndarray | None = field(default=None, repr=False, compare=False)
    ring_sector: np.ndarray | None = field(default=None, repr=False, compare=False)
    # Digits: `fill_region` grown by 1 px (a 3x3 mean), in the `box_crop` window:
    # where no pixel is as dark as a shading's, no shading is seen.
    fill_reach: np.ndarray | None = field(default=None, repr=False, compare=False)
    # The printed patch has no structure to snap to (a box on blank paper never
    # is; the check is the snap's own).
    flat: bool = False
    # What the scorer derives from the page's blur (the blank blurred as the page
    # is, at each of `BLUR_SIGMAS`), made on first use and kept with the
    # template (built once per form, read for every page): see `kept`.
    # Empty when the catalog is built or sent to a worker.
    derived: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, int]:
        return self.printed.shape


@dataclass(frozen=True)
class TextTemplate:
    """A text field at the canonical scale: its rectangle and the printed ink
    (ruled lines, the field's frame) to ignore inside it."""

    field: TextField
    x0: int
    y0: int
    # `dataclasses.field` spelt out: the attribute `field` shadows the bare name here.
    printed_mask: np.ndarray = dataclasses.field(repr=False, compare=False)
    region: np.ndarray = dataclasses.field(repr=False, compare=False)
    printed: np.ndarray | None = dataclasses.field(default=None, repr=False, compare=False)  # blank darkness
    # The blank blurred as a page is, made on first use (`omr.score.blank_darkness`).
    derived: dict[str, np.ndarray] = dataclasses.field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class PageTemplate:
    """One printed page of a form, ready for reading: its targets and text
    fields, the blank page, and what the print check (`print_tiles`) and the
    fold test (`folds`) compare every page with, cut from the blank once."""

    geometry: PageGeometry
    targets: tuple[TargetTemplate, ...]
    texts: tuple[TextTemplate, ...]
    blank: np.ndarray = field(repr=False, compare=False)  # canonical grey blank page
    print_tiles: PrintTiles = field(repr=False, compare=False)
    folds: FoldReference = field(repr=False, compare=False)
    # The blank round each marker blurred at each candidate blur (`blurred_markers`):
    # what every page's blur is measured against.
    markers_blurred: np.ndarray = field(repr=False, compare=False)
    # What the scorer makes of the targets of one patch size together, made on
    # first use and kept, as `TargetTemplate.derived`: their blanks blurred as
    # the page is, stacked per blur (`omr.score.blank_stacks`), and the digits'
    # bound masks stacked (`omr.score.group_digit_peaks`).
    derived: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class FormTemplate:
    """A form with every page precomputed; built once, used for every sheet."""

    form: Form
    pages: Mapping[int, PageTemplate]
    # What every page of the form reads alike (`target_shapes`, `question_types`,
    # `question_order`), made on first use and kept, as `PageTemplate.derived`
    # (plain dicts, so a catalog still pickles to a worker; given out as
    # `Mapping`s: read, never changed).
    derived: dict[str, Mapping[Any, Any]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def key(self) -> tuple[str, int]:
        return (self.form.id, self.form.version)

    def target_shapes(self) -> Mapping[tuple[str, str], str]:
        """(question, option) -> "box" | "digit", over all pages."""
        return kept(self, "target_shapes", lambda _: {
            (tt.target.question, tt.target.option): tt.target.shape
            for page in self.pages.values()
            for tt in page.targets
        })

    def question_types(self) -> Mapping[str, str]:
        """Question id -> "single" | "multi" | "text"."""
        return kept(self, "question_types", lambda _: {q.id: q.type for q in self.form.questions()})

    def question_order(self) -> Mapping[str, int]:
        """Question id -> its place in the form (a page's questions are listed in it)."""
        return kept(self, "question_order", lambda _: {q.id: i for i, q in enumerate(self.form.questions())})


@dataclass(frozen=True)
class Catalog:
    """The forms a survey knows, keyed by (form id, version)."""

    templates: Mapping[tuple[str, int], FormTemplate]

    @classmethod
    def of(cls, templates: Iterable[FormTemplate]) -> Catalog:
        """A catalog of `templates` (a later duplicate key replaces an earlier one)."""
        return cls({t.key: t for t in templates})

    def get(self, form_id: str, version: int) -> FormTemplate | None:
        return self.templates.get((form_id, version))

    def qr_boxes(self) -> tuple[BBox, ...]:
        """Every distinct place a known page prints its QR code (usually one)."""
        boxes = {
            page.geometry.qr_bbox_mm
            for t in self.templates.values()
            for page in t.pages.values()
        }
        return tuple(sorted(boxes))

    def describe(self) -> str:
        """The known forms as "id v1, id v2", for messages."""
        return ", ".join(f"{k[0]} v{k[1]}" for k in sorted(self.templates)) or "(none)"


def canonical_blank(raster: np.ndarray) -> np.ndarray:
    """A blank page raster (grey or BGR, any dpi, A4 portrait) resampled to the
    canonical scale. The raster must cover the whole page."""
    grey = raster if raster.ndim == 2 else cv2.cvtColor(raster, cv2.COLOR_BGR2GRAY)
    size = (mm_to_px(PAGE_SIZE_MM[0]), mm_to_px(PAGE_SIZE_MM[1]))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def _printed_mask(blank: np.ndarray, guard_px: int) -> np.ndarray:
    """Printed ink of the blank, grown by `guard_px`."""
    darkness = 1.0 - blank.astype(np.float32) / 255.0
    mask = (darkness > PRINT_DARKNESS).astype(np.uint8)
    k = 2 * guard_px + 1
    return cv2.dilate(mask, np.ones((k, k), np.uint8)).astype(bool)


def crop_padded(a: np.ndarray, x0: int, y0: int, w: int, h: int) -> np.ndarray:
    """a[y0:y0+h, x0:x0+w] with zero padding outside the array."""
    out = np.zeros((h, w), a.dtype)
    ys, xs = max(0, y0), max(0, x0)
    ye, xe = min(a.shape[0], y0 + h), min(a.shape[1], x0 + w)
    if ye > ys and xe > xs:
        out[ys - y0 : ye - y0, xs - x0 : xe - x0] = a[ys:ye, xs:xe]
    return out


class _Keeps(Protocol):
    """A template that keeps what is made of it (frozen: `derived` is read-only, its dict is not)."""

    @property
    def derived(self) -> dict[str, Any]: ...


_Keeper = TypeVar("_Keeper", bound=_Keeps)
_Made = TypeVar("_Made")


def kept(tt: _Keeper, name: str, make: Callable[[_Keeper], _Made]) -> _Made:
    """What the reader makes of a target's, text field's, page's or form's
    template, made on first use and kept in the template (`derived`, under
    `name`): templates are built once per form and read for every page. It
    may depend on the page's blur (one of `BLUR_SIGMAS`, in `name`) or shape,
    or be a mask in another form (its pixels as indices); the masks that
    depend on the template alone are made with it. What `make` gives is what
    the template's `derived` holds (arrays; a form's plain dicts)."""
    value: _Made | None = tt.derived.get(name)
    if value is None:
        value = make(tt)
        tt.derived[name] = value
    return value


def _centre(bbox: BBox) -> tuple[float, float]:
    return bbox[0] + bbox[2] / 2, bbox[1] + bbox[3] / 2


def _ring_outer_mm(target: Target, others: Sequence[Target]) -> float:
    cx, cy = _centre(target.bbox_mm)
    dists = [
        np.hypot(*(np.subtract(_centre(o.bbox_mm), (cx, cy))))
        for o in others
        if o is not target
    ]
    nearest = min(dists) if dists else 2 * RING_OUTER_MAX_MM
    return min(RING_OUTER_MAX_MM, nearest / 2)


def _box_template(target: Target, darkness: np.ndarray, printed: np.ndarray) -> TargetTemplate:
    x, y, w, h = target.bbox_mm
    pad = BOX_PAD_MM
    x0, y0 = mm_to_px(x - pad), mm_to_px(y - pad)
    pw, ph = mm_to_px(w + 2 * pad), mm_to_px(h + 2 * pad)
    region = np.zeros((ph, pw), bool)
    inset = mm_to_px(pad + BOX_INSET_MM)
    region[inset : ph - inset, inset : pw - inset] = True
    region &= ~crop_padded(printed, x0, y0, pw, ph)
    patch = crop_padded(darkness, x0, y0, pw, ph)
    near_print = _dilated(patch > NEAR_PRINT_LEVEL, NEAR_PRINT_PX)
    return TargetTemplate(
        target, x0, y0,
        printed=patch,
        region=region,
        sector=np.full((ph, pw), -1, np.int8),
        region_px=int(region.sum()),
        reach=_window(_dilated(region, 2)),
        interior=_window(region),
        flat=_flat(patch),
        near_print=near_print,
        faint_reach=_dilated(region & ~near_print, 1),
    )


def _flat(printed: np.ndarray) -> bool:
    """Whether a printed patch has no structure to snap to."""
    return float(printed.std()) < 1e-3


def _window(mask: np.ndarray) -> tuple[int, int, int, int]:
    """The bounding window (y0, y1, x0, x1) of a mask's pixels ((0, 0, 0, 0): none)."""
    ys, xs = np.nonzero(mask)
    if not len(ys):
        return (0, 0, 0, 0)
    return (int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1)


def _dilated(mask: np.ndarray, px: int) -> np.ndarray:
    """`mask` grown by `px` pixels (a square of side 2 px + 1)."""
    k = 2 * px + 1
    return cv2.dilate(mask.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)


def _box_distance_mm(dx: np.ndarray, dy: np.ndarray, w: float, h: float) -> np.ndarray:
    """Distance (mm) from points (dx, dy), relative to a box's centre, to the
    w x h box (0 inside)."""
    return np.hypot(np.maximum(np.abs(dx) - w / 2, 0.0), np.maximum(np.abs(dy) - h / 2, 0.0))


def _digit_template(
    target: Target, darkness: np.ndarray, printed: np.ndarray,
    printed_tight: np.ndarray, others: Sequence[Target],
) -> TargetTemplate:
    cx, cy = _centre(target.bbox_mm)
    r_in = RING_INNER_FACTOR * max(target.bbox_mm[2], target.bbox_mm[3])
    r_out = max(_ring_outer_mm(target, others), r_in + 1.0)
    half = max(r_out + 0.3, DIGIT_ZONE_MM)
    x0, y0 = mm_to_px(cx - half), mm_to_px(cy - half)
    side = mm_to_px(2 * half)
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float32)
    dx = (xs + x0 + 0.5) / CANON_PX_PER_MM - cx
    dy = (ys + y0 + 0.5) / CANON_PX_PER_MM - cy
    r = np.hypot(dx, dy)
    printed_here = crop_padded(printed, x0, y0, side, side)
    region = (r >= r_in) & (r <= r_out) & ~printed_here
    sector = sector_of(np.arctan2(dy, dx)).astype(np.int8)
    sector[~region] = -1
    bw, bh = target.bbox_mm[2], target.bbox_mm[3]
    tight = crop_padded(printed_tight, x0, y0, side, side)
    own_box = (np.abs(dx) <= bw / 2 + DIGIT_INNER_GROW_MM) & (np.abs(dy) <= bh / 2 + DIGIT_INNER_GROW_MM)
    inner = own_box & ~tight
    own_mm = _box_distance_mm(dx, dy, bw, bh)
    other_mm = np.full((side, side), 99.0, np.float32)
    for o in others:
        if o is target:
            continue
        ox, oy = _centre(o.bbox_mm)
        if abs(ox - cx) > half + 20 or abs(oy - cy) > half + 20:
            continue
        other_mm = np.minimum(other_mm, _box_distance_mm(dx + cx - ox, dy + cy - oy, o.bbox_mm[2], o.bbox_mm[3]))
    glyph = own_box & tight
    zone = (r <= half) & (~printed_here | own_box) & ~glyph
    ys_box, xs_box = np.nonzero(own_box)
    crop = (max(int(ys_box.min()) - 1, 0), int(ys_box.max()) + 2, max(int(xs_box.min()) - 1, 0), int(xs_box.max()) + 2)
    rim = _dilated(glyph, FILL_RIM_PX)
    fill_region = (inner & ~rim)[crop[0] : crop[1], crop[2] : crop[3]]
    patch = crop_padded(darkness, x0, y0, side, side)
    window = (slice(crop[0], crop[1]), slice(crop[2], crop[3]))
    glyph_rim = _dilated(glyph[window], THICK_RIM_PX) & (inner | glyph)[window]
    rim_rows, rim_cols = np.nonzero(glyph_rim)
    middle = ((r <= MIDDLE_MM) & inner)[window]
    near_print = _dilated(patch > NEAR_PRINT_LEVEL, NEAR_PRINT_PX)
    return TargetTemplate(
        target, x0, y0,
        printed=patch,
        region=region,
        sector=sector,
        region_px=int(region.sum()),
        inner=inner,
        centre=(cx * CANON_PX_PER_MM - 0.5 - x0, cy * CANON_PX_PER_MM - 0.5 - y0),
        own_mm=own_mm.astype(np.float32),
        other_mm=other_mm.astype(np.float32),
        glyph=glyph,
        zone=zone,
        box_crop=crop,
        fill_region=fill_region,
        near_print=near_print,
        printed_other=(patch > NEAR_PRINT_LEVEL) & ~glyph,
        rim_rows=rim_rows,
        rim_cols=rim_cols,
        middle=middle,
        middle_px=max(int(middle.sum()), 1),
        faint_reach=_dilated(zone & ~near_print, 1),
        surround=zone & ~near_print & (r > r_out + 0.3),
        fill_px=max(int(fill_region.sum()), 1),
        inner_box_px=max(int(inner[window].sum()), 1),
        inner_reach=_dilated(inner[window], 1),
        fill_reach=_dilated(fill_region, 1),
        ring_px=np.flatnonzero(sector >= 0),
        ring_sector=sector[sector >= 0],
        flat=_flat(patch),
    )


def _text_template(
    tf: TextField, printed: np.ndarray, printed_wide: np.ndarray, darkness: np.ndarray
) -> TextTemplate:
    x, y, w, h = tf.bbox_mm
    x0, y0, pw, ph = mm_to_px(x), mm_to_px(y), mm_to_px(w), mm_to_px(h)
    region = np.zeros((ph, pw), bool)
    inset = mm_to_px(TEXT_INSET_MM)
    region[inset : ph - inset, inset : pw - inset] = True
    return TextTemplate(
        tf, x0, y0, printed_mask=crop_padded(printed, x0, y0, pw, ph),
        region=region & ~crop_padded(printed_wide, x0, y0, pw, ph),
        printed=crop_padded(darkness, x0, y0, pw, ph),
    )


def prepare_page(geometry: PageGeometry, blank_raster: np.ndarray) -> PageTemplate:
    """Precompute one page from its geometry and its blank raster (any dpi)."""
    # imported here: both modules build on this one's scale and templates
    from omr.align import prepare_print_tiles, varying_areas
    from omr.coverage import prepare_fold_reference

    blank = canonical_blank(blank_raster)
    darkness = 1.0 - blank.astype(np.float32) / 255.0
    printed = _printed_mask(blank, mm_to_px(PRINT_GUARD_MM))
    printed_tight = _printed_mask(blank, DIGIT_GUARD_PX)
    targets = tuple(
        _digit_template(t, darkness, printed, printed_tight, geometry.targets)
        if t.shape == "digit"
        else _box_template(t, darkness, printed)
        for t in geometry.targets
    )
    printed_wide = _printed_mask(blank, mm_to_px(TEXT_GUARD_MM))
    texts = tuple(_text_template(tf, printed, printed_wide, darkness) for tf in geometry.text_fields)
    skip = varying_areas(geometry)
    return PageTemplate(geometry, targets, texts, blank, prepare_print_tiles(blank, skip),
                        prepare_fold_reference(blank, skip), blurred_markers(blank))


def marker_window(corner: Corner) -> tuple[int, int, int]:
    """(x0, y0, side) in canonical px of the square round marker `corner` with 1 mm of
    paper on each side: where a page's blur is measured (`omr.score.estimate_blur`)."""
    x, y, w, _ = marker_bbox(corner)
    return mm_to_px(x - 1.0), mm_to_px(y - 1.0), mm_to_px(w + 2.0)


def blurred_markers(blank: np.ndarray) -> np.ndarray:
    """The darkness (0..1) of `blank` in each marker's `marker_window`, blurred by each
    of `BLUR_SIGMAS`: shape (markers in `MARKER_IDS` order, sigmas, side, side). The
    same for every page of a form, so made once with its template."""
    models = []
    for corner in MARKER_IDS:
        x0, y0, side = marker_window(corner)
        sharp = 1.0 - crop_padded(blank, x0, y0, side, side).astype(np.float32) / 255.0
        models.append([cv2.GaussianBlur(sharp, (0, 0), sigma) if sigma > 0 else sharp
                       for sigma in BLUR_SIGMAS])
    return np.array(models, dtype=np.float32)


def prepare_template(
    form: Form, page_geometries: Sequence[PageGeometry], blank_pages: Sequence[np.ndarray]
) -> FormTemplate:
    """Everything the reader needs about `form`, computed once.

    Parameters
    ----------
    form:
        The validated form (question types decide overvotes).
    page_geometries:
        One `PageGeometry` per printed page, from `forms.layout`.
    blank_pages:
        The blank rasters of the same pages, in the same order (grey or BGR,
        any dpi, e.g. `forms.render.render_page_images(form, 150, serial)`).
    """
    if len(page_geometries) != len(blank_pages):
        raise ValueError(
            f"form {form.id!r}: {len(page_geometries)} page geometries but "
            f"{len(blank_pages)} blank rasters"
        )
    pages = {g.page: prepare_page(g, b) for g, b in zip(page_geometries, blank_pages)}
    return FormTemplate(form, pages)
