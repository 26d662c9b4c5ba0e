"""`read_page`: one page image in, one `Reading` out. The steps, in order:
register -> identify -> look up the form -> score -> decide -> text fields.

Any page, however bad, comes back as a value: a `PageReading`, or a falsy
`PageFailure` whose reason and message say what to do. Nothing here reads or
writes files; the pipeline does that, and parallelism.
"""
from __future__ import annotations

import numpy as np

from omr.coverage import TARGET_REACH_MM, outside_capture
from omr.decide import OFF_PAGE, decide, decide_text
from omr.decode import to_grey
from omr.failures import failure
from omr.identify import identify
from omr.reading import PageReading, QuestionReading, Reading
from omr.register import register
from omr.score import page_ink, score_targets
from omr.template import CANON_PX_PER_MM, Catalog
from omr.text import read_text_fields
from omr.thresholds import DEFAULT_THRESHOLDS, Thresholds


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
    registration = register(grey)
    if not registration:
        return registration
    identity = identify(grey, registration, catalog.qr_boxes())
    if not identity:
        return identity
    quality, page = registration.quality, registration.image
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
    ink = page_ink(page, page_template.blank)
    measures = score_targets(page, page_template, ink)
    targets, questions = decide(measures, template.question_types(), template.target_shapes(), thresholds)
    texts = read_text_fields(grey, registration, page_template, ocr=ocr, thresholds=thresholds, ink=ink)
    text_questions = tuple(decide_text(t, ocr, thresholds) for t in texts)
    hidden = outside_capture(
        [(t.question, t.bbox_mm, TARGET_REACH_MM) for t in page_template.geometry.targets]
        + [(f.question, f.bbox_mm, 0.0) for f in page_template.geometry.text_fields],
        registration.homography, grey.shape,
    )
    order = {q.id: i for i, q in enumerate(template.form.questions())}
    all_questions = sorted(
        (flag_off_page(q) if q.question in hidden else q for q in questions + text_questions),
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


def flag_off_page(question: QuestionReading) -> QuestionReading:
    """A question with an area outside the captured image: flagged, never read
    as blank (what is not in the image was warped in as white paper)."""
    reasons = question.reasons if OFF_PAGE in question.reasons else question.reasons + (OFF_PAGE,)
    return QuestionReading(question.question, "flagged", (), reasons, question.corrected)
