"""Reading one page image: pure functions of (image, known forms) -> reading.

`read_page(image, catalog)` runs the steps in order and returns a truthy
`PageReading` or a falsy `PageFailure` with its reason (never an exception for
a bad page). The steps are public for tests, tools and re-decisions:
`find_streaks` and `remove_streaks` (a feeder's lines down the whole scan,
taken out first), `locate_page` (registration from whatever the picture holds: `register` on
the corner markers, `omr.align` on the QR code's corners and the printed
page, which also checks every registration; then `identify`),
`register` (corner markers -> homography, orientation, `PageQuality`),
`identify` (QR payload -> `PageIdentity`), `score_targets` (raw new-ink scores,
no thresholds), `decide` (scores -> states -> question decisions, with
`DEFAULT_THRESHOLDS` from `omr.thresholds`) and `read_text_fields` (blank by
ink, else Tesseract `vie`). `prepare_template` builds a form's `FormTemplate`
once from `forms` geometry and blank rasters; a `Catalog` holds the known ones.
`decode_image` turns bytes into pixels; `overlay` draws what was read and
`summary` says it in lines of text.
No files, no database, no parallelism here: the pipeline does those.
"""
from omr.debug import overlay, summary
from omr.decide import decide, decide_text, target_state
from omr.decode import decode_image, to_grey
from omr.identify import identify
from omr.read_page import locate_page, read_page
from omr.reading import (
    DigitEvidence,
    PageFailure,
    PageQuality,
    PageReading,
    QuestionReading,
    Reading,
    TargetScore,
    TextReading,
)
from omr.register import Registration, register
from omr.score import TargetMeasure, score_targets
from omr.streaks import Streak, find_streaks, remove_streaks
from omr.template import CANON_PX_PER_MM, Catalog, FormTemplate, PageTemplate, prepare_template
from omr.text import read_text_fields
from omr.thresholds import DEFAULT_THRESHOLDS, Thresholds

__all__ = [
    "CANON_PX_PER_MM",
    "Catalog",
    "DEFAULT_THRESHOLDS",
    "DigitEvidence",
    "FormTemplate",
    "PageFailure",
    "PageQuality",
    "PageReading",
    "PageTemplate",
    "QuestionReading",
    "Reading",
    "Registration",
    "Streak",
    "TargetMeasure",
    "TargetScore",
    "TextReading",
    "Thresholds",
    "decide",
    "decide_text",
    "decode_image",
    "find_streaks",
    "identify",
    "locate_page",
    "overlay",
    "prepare_template",
    "read_page",
    "read_text_fields",
    "register",
    "remove_streaks",
    "score_targets",
    "summary",
    "target_state",
    "to_grey",
]
