"""`read_page`: one page image in, one `Reading` out. The steps, in order:
locate (register and identify, `locate_page`) -> score -> decide -> text
fields -> what the picture does not show (`off_page`, `folded`).

Any page, however bad, comes back as a value: a `PageReading`, or a falsy
`PageFailure` whose reason and message say what to do. Nothing here reads or
writes files; the pipeline does that, and parallelism.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from forms.identity import PageIdentity
from omr.align import CHECK_STAGE, input_px_per_mm, measure, not_lined_up, quick_check, refine, register_by_content
from omr.coverage import TARGET_REACH_MM, fold_extent, folded_questions, judge_folds, outside_capture
from omr.decide import FOLDED, OFF_PAGE, decide, decide_text
from omr.decode import to_grey
from omr.failures import MESSAGES, failure
from omr.identify import identify, locate_qr
from omr.ink import page_ink_in_view
from omr.reading import PageFailure, PageReading, QuestionReading, Reading
from omr.register import Registration, detect_markers, pyramid, register
from omr.register import registration as make_registration
from omr.score import score_targets
from omr.template import CANON_PX_PER_MM, Catalog, FormTemplate, PageTemplate
from omr.text import read_text_fields
from omr.thresholds import DEFAULT_THRESHOLDS, Thresholds

# Around a target, how far a fold must stay to leave what the scorer looks at
# in view: a digit's ring reaches ~2.3 mm beyond the printed digit.
FOLD_REACH_MM = 2.5


def read_page(
    image: np.ndarray,
    catalog: Catalog,
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    ocr: bool = True,
) -> Reading:
    """Read one page.

    Parameters
    ----------
    image:
        The decoded page: grey or BGR(A), uint8/uint16/float, any dpi, any of
        the four feed orientations, with or without a scanner background.
    catalog:
        The forms the survey knows (`Catalog.of(prepare_template(...) ...)`).
    thresholds:
        Decision thresholds; the raw scores in the result do not depend on them.
    ocr:
        Run Tesseract on written comment fields. Without it a written field is
        flagged `not_transcribed` (blank fields need no OCR either way).

    Returns
    -------
    A truthy `PageReading` (identity, quality, every target's score and state,
    one decision per question, text fields, the registered page), or a falsy
    `PageFailure` with its reason.
    """
    try:
        grey = to_grey(image)
    except ValueError as err:
        return failure("not_an_image", str(err))
    located = locate_page(grey, catalog)
    if not located:
        return located
    registration, identity, template, page_template = located
    quality, page = registration.quality, registration.image
    ink = page_ink_in_view(page, page_template.blank, registration, page_template.geometry.qr_bbox_mm)
    measures = score_targets(page, page_template, ink)
    targets, questions = decide(measures, template.question_types(), template.target_shapes(), thresholds)
    texts = read_text_fields(grey, registration, page_template, ocr=ocr, thresholds=thresholds, ink=ink)
    text_questions = tuple(decide_text(t, ocr, thresholds) for t in texts)
    hidden = outside_capture(
        [(t.question, t.bbox_mm, TARGET_REACH_MM) for t in page_template.geometry.targets]
        + [(f.question, f.bbox_mm, 0.0) for f in page_template.geometry.text_fields],
        registration.homography, grey.shape,
    )
    cells = judge_folds(registration.half, page_template.folds, registration.homography, grey.shape)
    under_fold = folded_questions(
        fold_extent(cells),
        [(t.question, t.bbox_mm, FOLD_REACH_MM) for t in page_template.geometry.targets]
        + [(f.question, f.bbox_mm, 0.0) for f in page_template.geometry.text_fields],
    )
    order = {q.id: i for i, q in enumerate(template.form.questions())}
    all_questions = sorted(
        (_flag(q, hidden, under_fold) for q in questions + text_questions),
        key=lambda q: order.get(q.question, len(order)),
    )
    return PageReading(
        identity=identity,
        quality=quality,
        targets=targets,
        questions=tuple(all_questions),
        texts=texts,
        image=page,
        px_per_mm=CANON_PX_PER_MM,
    )


@dataclass(frozen=True)
class Located:
    """A page registered and identified, with its form and page templates."""

    registration: Registration
    identity: PageIdentity
    template: FormTemplate
    page_template: PageTemplate

    def __iter__(self) -> Iterator[Any]:
        return iter((self.registration, self.identity, self.template, self.page_template))

    def __bool__(self) -> bool:
        return True


def locate_page(grey: np.ndarray, catalog: Catalog) -> Located | PageFailure:
    """Register and identify a page from whatever the picture holds.

    Three or four corner markers give the homography directly (the fast
    path); the QR code is then read where the layout prints it, and the
    printed content validates the fit (`omr.align.check`), refining it when it
    does not line up. With fewer markers (a photo framed tightly, corners out
    of the frame or folded) the QR code found anywhere in the picture gives
    the identity and, with the markers found, a first homography that the
    printed page refines (`omr.align.refine`). A page fails only when no QR
    code is found with too few markers, or when the printed content does not
    line up.
    """
    levels = pyramid(grey)
    markers = detect_markers(grey, levels)
    by_markers = register(grey, levels, markers)
    if by_markers:
        identity = identify(grey, by_markers, catalog.qr_boxes())
        if not identity:
            return identity
        found = _templates(catalog, identity, by_markers)
        if not found:
            return found
        return _validated(grey, levels, by_markers, identity, *found)
    qr = locate_qr(grey)
    if qr is None:
        return failure(by_markers.reason, _detail(by_markers) + "; không thấy mã QR / no QR code found")
    found = _templates(catalog, qr.identity, None)
    if not found:
        return found
    template, page_template = found
    registration = register_by_content(levels, markers, qr.corners, page_template, qr.identity)
    if not registration:
        return registration
    return Located(registration, qr.identity, template, page_template)


def _detail(failed: PageFailure) -> str:
    """The detail `failure` added in parentheses after the reason's message."""
    start = len(MESSAGES[failed.reason]) + 2
    return failed.message[start:-1] if len(failed.message) > start else ""


def _templates(
    catalog: Catalog, identity: PageIdentity, registration: Registration | None
) -> tuple[FormTemplate, PageTemplate] | PageFailure:
    quality = registration.quality if registration is not None else None
    page = registration.image if registration is not None else None
    template = catalog.get(identity.form_id, identity.version)
    if template is None:
        return failure(
            "unknown_form",
            f"{identity.form_id} v{identity.version}; known: {catalog.describe()}",
            identity=identity, quality=quality, image=page,
        )
    page_template = template.pages.get(identity.page)
    if page_template is None:
        return failure(
            "unknown_page",
            f"{identity.form_id} v{identity.version} page {identity.page}; "
            f"pages: {sorted(template.pages)}",
            identity=identity, quality=quality, image=page,
        )
    return template, page_template


def _validated(
    grey: np.ndarray, levels: list[np.ndarray], by_markers: Registration, identity: PageIdentity,
    template: FormTemplate, page_template: PageTemplate,
) -> Located | PageFailure:
    """The markers' registration checked against the printed content; refitted
    on the content (seeded by the markers) when the print does not line up.
    Four markers that fit well are checked on a sample of the print first
    (`omr.align.quick_check`), the whole grid when it does not vouch for them."""
    tiles = page_template.print_tiles
    fit = quick_check(by_markers, tiles, grey.shape) or measure(
        by_markers.half, tiles.at(CHECK_STAGE), by_markers.homography, grey.shape)
    if fit.good:
        quality = replace(by_markers.quality, content_residual_mm=round(fit.residual_mm, 4))
        return Located(replace(by_markers, quality=quality), identity, template, page_template)
    refined = refine(levels, tiles, by_markers.homography, coarse=False)
    if not refined.good:
        return not_lined_up(refined, by_markers.quality, by_markers.image, identity)
    px_per_mm = input_px_per_mm(refined.homography)
    registration = make_registration(
        levels, refined.homography, by_markers.markers, refined.residual_mm, px_per_mm,
        "content+markers", refined.residual_mm,
    )
    return Located(registration, identity, template, page_template)


def _flag(question: QuestionReading, hidden: frozenset[str], under_fold: frozenset[str]) -> QuestionReading:
    if question.question in hidden:
        question = flag_off_page(question)
    if question.question in under_fold:
        question = flag_hidden(question, FOLDED)
    return question


def flag_off_page(question: QuestionReading) -> QuestionReading:
    """A question with an area outside the captured image: flagged, never read
    as blank (what is not in the image was warped in as white paper)."""
    return flag_hidden(question, OFF_PAGE)


def flag_hidden(question: QuestionReading, reason: str) -> QuestionReading:
    """A question the picture does not show (`off_page`, `folded`): flagged
    with `reason`, its value dropped, never read as blank."""
    reasons = question.reasons if reason in question.reasons else question.reasons + (reason,)
    return QuestionReading(question.question, "flagged", (), reasons, question.corrected)
