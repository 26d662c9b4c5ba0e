"""What reading one page produces: plain data, no behaviour.

Scores are kept raw (a fraction of the target's region newly inked) and the
marked / marginal / empty state is a separate step applied with named
thresholds (`omr.decide`), so a store can re-decide without rescanning.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from forms.identity import PageIdentity

if TYPE_CHECKING:  # `omr.failures` builds `PageFailure`s: it imports this module
    from omr.failures import FailureReason
    from omr.warp import CanonicalPage

TargetState = Literal["marked", "marginal", "empty"]
QuestionStatus = Literal["answered", "no_answer", "flagged"]


@dataclass(frozen=True)
class PageQuality:
    """How well the page registered; kept in the store for review and audits."""

    markers_found: int  # 0..4: the corner markers the homography was fitted on (a stray one dropped)
    rotation: int  # 0, 90, 180 or 270: how the page was fed, clockwise
    reprojection_error_mm: float  # mean marker corner error after the homography
    skew_deg: float  # small residual rotation beyond the 90° steps
    scale_px_per_mm: float  # of the input image
    sharpness: float  # variance of the Laplacian on the registered page (blur gauge)
    # What the homography was fitted on: "markers" (three or four corner markers),
    # or "content" with what seeded it ("qr", "markers", or "frame": the picture's
    # frame, when neither was read): see `omr.align`.
    registered_by: str = "markers"
    # Mean distance (mm) of the printed content from where the homography puts it
    # (`omr.align.measure`); nan when not measured.
    content_residual_mm: float = float("nan")
    # Scanner streaks (`omr.streaks`) taken out of the image before it was read:
    # the image columns they ran down (a dirty feeder glass draws the same ones on
    # every page).
    streak_columns: tuple[int, ...] = ()


@dataclass(frozen=True)
class DigitEvidence:
    """A printed digit's raw evidence of a mark (`omr.score` measures it):
    lengths in mm of extent, the rest shares 0..1.

    `ring`: share of the sectors round the digit inked (a circle: all).
    `through_mm`: the longest stroke of this digit's over the digit itself.
    `beside_mm`: the longest of its strokes off the digit that is a straight
    line under it (an underline). `tick_mm`: the longest of its strokes off
    the digit bent as a tick beside it is, not round it. `arc_mm`: the
    longest of its other strokes off the digit (an arc round it, a circle
    begun and abandoned; a dash at its side): evidence of ink, never a mark. `between_mm`: the longest
    stroke whose owner, this digit or another target, is unclear. `fill`,
    `solid`: the share of the digit's box (glyph excluded) under light ink (a
    shading) or dark ink (blacked out). `inner_mm2`: all new ink over the
    digit's box (mm2), however broken: a stroke mostly hidden by the glyph.
    `thick_mm2`: how much more of the digit's box (glyph included) is dark
    than in the blank's print blurred as the page is (mm2, signed): the glyph
    darkened or thickened by a stroke drawn along it."""

    ring: float = 0.0
    through_mm: float = 0.0
    beside_mm: float = 0.0
    arc_mm: float = 0.0
    between_mm: float = 0.0
    fill: float = 0.0
    solid: float = 0.0
    inner_mm2: float = 0.0
    thick_mm2: float = 0.0
    tick_mm: float = 0.0
    # Ink (mm2) near the digit, off its glyph, in pieces too small to be
    # strokes: a light grainy pencil mark broken into crumbs, or specks.
    crumbs_mm2: float = 0.0
    # The share of the digit's middle (its box within `omr.template.MIDDLE_MM`
    # of its centre, the glyph left out) under dark new ink: a digit blacked
    # out hides it; a circle round the digit, however heavy the pen, never
    # reaches it.
    hidden: float = 0.0
    # The longest faint stroke near the digit, off the print (mm): ink too
    # light to be measured as a stroke (a light pencil circle on a photo).
    # Evidence of ink from `SPECK_MM` (a shorter piece is a blob), never of a
    # mark.
    faint_mm: float = 0.0
    # `fill` measured above the paper round the digit (beyond its ring, off the
    # print: the median of its 3x3 mean new darkness) rather than above the
    # page's paper level: a shading of the digit leaves the paper round it
    # white, so the two agree; a shadow or a smudge greys it too.
    fill_local: float = 0.0
    # New ink over the digit's middle, glyph included (mm2, signed, less the
    # page's median over its digits): the blank's print blurred as the page is
    # taken off the page's darkness within `omr.template.MIDDLE_MM` of its
    # centre, where a circle round the digit never comes. A stroke across the
    # digit adds to it even where the bold print hides most of the stroke.
    middle_mm2: float = 0.0
    # The extent (mm) of the ink in the digit's middle, measured where
    # `middle_mm2` tells of a stroke's least ink on a digit circled all round
    # (`omr.score.middle_extent_mm`): a line across the middle has its length
    # (as a uniform line's variance gives it), a blob less than its width (a
    # 1 mm2 speck 0.98 mm); 0 for ink centred off the middle (an arc of a
    # circle drawn off the centre, across the digit).
    middle_mm: float = 0.0

    @property
    def longest_mm(self) -> float:
        """The longest stroke measured near the digit, of any kind or owner (mm)."""
        return max(self.through_mm, self.beside_mm, self.tick_mm, self.arc_mm, self.between_mm)

    def summary(self) -> float:
        """One number 0..1 for people (overlays, stored score): the strongest
        part, lengths counted full from 4 mm (a tick over a digit)."""
        return float(min(1.0, max(self.ring, self.longest_mm / 4.0, self.fill, self.solid)))

    def rounded(self) -> DigitEvidence:
        return DigitEvidence(*(round(v, 3) for v in (
            self.ring, self.through_mm, self.beside_mm, self.arc_mm, self.between_mm,
            self.fill, self.solid, self.inner_mm2, self.thick_mm2, self.tick_mm, self.crumbs_mm2, self.hidden,
            self.faint_mm, self.fill_local, self.middle_mm2, self.middle_mm)))


@dataclass(frozen=True)
class TargetScore:
    """One target's measurement and state. `score` is, for a box, the fraction
    of its interior newly inked; for a digit a summary of `digit` (0..1, for
    people); `digit` keeps the evidence a digit's state is decided on.
    `filled` (decided from the raw `solid` and `digit`): the target carries the printed correction rule's mark
    (filled in solid; a digit also circled and crossed out), which cancels it when another target of the
    question is marked."""

    question: str
    option: str
    score: float
    state: TargetState
    offset_mm: tuple[float, float] = (0.0, 0.0)  # snap found by the local search
    digit: DigitEvidence | None = None
    solid: float = 0.0  # share of the target's box under dark ink (raw)
    filled: bool = False
    across: bool = False  # a box: a stroke crosses its interior side to side (`omr.score.crosses_box`)
    faint_mm: float = 0.0  # a box: its longest faint stroke, mm (`omr.score.box_faint_mm`)


@dataclass(frozen=True)
class QuestionReading:
    """The decision for one question, derived from its targets' states."""

    question: str
    status: QuestionStatus
    value: tuple[str, ...] = ()  # chosen option codes (empty for no answer / flagged)
    reasons: tuple[str, ...] = ()  # "marginal", "overvote", "correction", "between", ...
    # Options carrying the printed correction rule's mark beside another mark
    # (filled in solid; a digit circled and crossed out): cancelled by the
    # rule (never counted). With status "answered" the rule was
    # clear and `value` is the other mark; with "correction" among `reasons` a
    # person decides, shown the rule (`omr.decide.CORRECTION_RULE`).
    corrected: tuple[str, ...] = ()


@dataclass(frozen=True)
class TextReading:
    """A free-text field: blank or written; the OCR text and its confidence."""

    question: str
    ink: float  # fraction of the field newly inked
    blank: bool
    text: str = ""
    confidence: float = 0.0  # 0..100, Tesseract's mean word confidence
    crop: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class PageReading:
    """A page that registered and was identified. Truthy."""

    identity: PageIdentity
    quality: PageQuality
    targets: tuple[TargetScore, ...]
    questions: tuple[QuestionReading, ...]
    texts: tuple[TextReading, ...]
    # The registered page (upright, canonical scale; warped on demand), for
    # review's picture of it (`CanonicalPage.picture`) and a debug overlay.
    page: CanonicalPage | None = field(default=None, repr=False, compare=False)

    def __bool__(self) -> bool:
        return True


# The serial of a page identified by its print alone (its QR code unread): the
# serial is printed only in the QR code, and no sheet carries a negative one
# (`forms.render.render_pdf` starts at 0 or more).
UNKNOWN_SERIAL = -1


@dataclass(frozen=True)
class PageFailure:
    """A page that could not be read, and why. Falsy, like a failed estimate.

    `reading`: what was read all the same of a `qr_unreadable` page that its
    print registered and identified (`omr.read_page`): every answer, under an
    identity whose serial is `UNKNOWN_SERIAL`. It counts for nothing until a
    person says whose sheet it is."""

    reason: FailureReason  # why, `omr.failures.failure` makes one with its message
    message: str  # one sentence a clerk can act on (Vietnamese first, English second)
    identity: PageIdentity | None = None  # known when the QR was read but the form is not
    quality: PageQuality | None = None
    image: np.ndarray | None = field(default=None, repr=False, compare=False)
    reading: PageReading | None = field(default=None, repr=False, compare=False)

    def __bool__(self) -> bool:
        return False


Reading = PageReading | PageFailure
