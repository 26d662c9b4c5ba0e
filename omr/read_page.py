"""`read_page`: one page image in, one `Reading` out. The steps, in order:
locate (register and identify, `locate_page`) -> score -> decide -> text
fields -> what the picture does not show (`off_page`, `folded`).

Any page, however bad, comes back as a value: a `PageReading`, or a falsy
`PageFailure` whose reason and message say what to do. Nothing here reads or
writes files; the pipeline does that, and parallelism.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from forms.geometry import Corner
from forms.identity import PageIdentity
from omr.align import (
    CHECK_STAGE,
    frame_seeds,
    marker_seeds,
    measure,
    not_lined_up,
    print_registration,
    quick_check,
    refine,
    register_by_content,
)
from omr.coverage import TARGET_REACH_MM, fold_extent, folded_questions, judge_folds, outside_capture
from omr.decide import FOLDED, OFF_PAGE, decide, decide_text
from omr.decode import to_grey
from omr.failures import MESSAGES, FailureReason, failure
from omr.identify import identify, locate_qr
from omr.ink import page_ink_in_view
from omr.reading import UNKNOWN_SERIAL, PageFailure, PageReading, QuestionReading, Reading
from omr.register import Registration, detect_markers, pyramid, register
from omr.score import score_targets, scored_areas
from omr.streaks import find_streaks, remove_streaks
from omr.template import Catalog, FormTemplate, PageTemplate
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
    `PageFailure` with its reason. A page whose QR code could not be read but
    whose print identified its form and page is read all the same and comes
    back as `PageFailure("qr_unreadable")` with that `reading` (its serial
    `UNKNOWN_SERIAL`): only a person can say whose sheet it is.
    """
    try:
        grey = to_grey(image)
    except ValueError as err:
        return failure(FailureReason.NOT_AN_IMAGE, str(err))
    streaks = find_streaks(grey)
    grey = remove_streaks(grey, streaks)
    located = locate_page(grey, catalog)
    if isinstance(located, PageFailure):
        return located
    registration, identity = located.registration, located.identity
    template, page_template = located.template, located.page_template
    quality = replace(registration.quality, streak_columns=tuple(s.x0 + 1 for s in streaks))
    ink = page_ink_in_view(registration, page_template, qr_read=located.serial_known, shape=grey.shape)
    measures = score_targets(registration.page.ensure(scored_areas(page_template)), page_template, ink)
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
    order = template.question_order()
    all_questions = sorted(
        (_flag(q, hidden, under_fold) for q in questions + text_questions),
        key=lambda q: order.get(q.question, len(order)),
    )
    reading = PageReading(
        identity=identity,
        quality=quality,
        targets=targets,
        questions=tuple(all_questions),
        texts=texts,
        page=registration.page,
    )
    if not located.serial_known:
        # read, but whose sheet it is only a person can say: never counted
        # until the serial is entered
        return failure(
            FailureReason.QR_UNREADABLE,
            f"nhận ra từ nội dung in: {identity.form_id} v{identity.version} trang {identity.page}; cần nhập "
            f"số phiếu / recognised from its print: {identity.form_id} v{identity.version} page "
            f"{identity.page}; the serial must be entered",
            quality=quality, reading=reading,
        )
    return reading


@dataclass(frozen=True)
class Located:
    """A page registered and identified, with its form and page templates.
    `serial_known` is False for a page identified by its print alone (its QR
    code unread): `identity.serial` is then `UNKNOWN_SERIAL`."""

    registration: Registration
    identity: PageIdentity
    template: FormTemplate
    page_template: PageTemplate
    serial_known: bool = True

    def __iter__(self) -> Iterator[Any]:
        return iter((self.registration, self.identity, self.template, self.page_template))

    def __bool__(self) -> bool:
        return True


def locate_page(grey: np.ndarray, catalog: Catalog) -> Located | PageFailure:
    """Register and identify a page from whatever the picture holds.

    Three or four corner markers give the homography directly (the fast
    path); the QR code is then read where the layout prints it, and the
    printed content validates the fit (`omr.align.quick_check`,
    `omr.align.measure`), refining it when it does not line up. With fewer
    markers (a photo framed tightly, corners out of the frame or folded) the
    QR code found anywhere in the picture gives the identity and, with the
    markers found, a first homography that the printed page refines
    (`omr.align.refine`). When no QR code can be read, the page is registered
    and identified by its print (`_by_print`): read, but its serial unknown.
    A page fails only when nothing lines up, or its print lines up with more
    than one known page.
    """
    levels = pyramid(grey)
    markers = detect_markers(grey, levels)
    by_markers = register(grey, levels, markers)
    if isinstance(by_markers, Registration):
        identity = identify(grey, by_markers, catalog.qr_boxes())
        if isinstance(identity, PageFailure):
            return _by_print(levels, markers, by_markers, catalog, identity)
        found = _templates(catalog, identity, by_markers)
        if isinstance(found, PageFailure):
            return found
        template, page_template = found
        registration = _validated(levels, by_markers, page_template)
        if isinstance(registration, PageFailure):
            return replace(registration, identity=identity)
        return Located(registration, identity, template, page_template)
    qr = locate_qr(grey)
    if qr is None:
        failed = failure(by_markers.reason, _detail(by_markers) + "; không thấy mã QR / no QR code found")
        return _by_print(levels, markers, None, catalog, failed)
    found = _templates(catalog, qr.identity, None)
    if isinstance(found, PageFailure):
        return found
    template, page_template = found
    by_content = register_by_content(levels, markers, qr.corners, page_template, qr.identity)
    if isinstance(by_content, PageFailure):
        return by_content
    return Located(by_content, qr.identity, template, page_template)


def _detail(failed: PageFailure) -> str:
    """The detail `failure` added in parentheses after the reason's message."""
    start = len(MESSAGES[failed.reason]) + 2
    return failed.message[start:-1] if len(failed.message) > start else ""


def _templates(
    catalog: Catalog, identity: PageIdentity, registration: Registration | None
) -> tuple[FormTemplate, PageTemplate] | PageFailure:
    quality = registration.quality if registration is not None else None
    template = catalog.get(identity.form_id, identity.version)
    if template is None:
        return failure(
            FailureReason.UNKNOWN_FORM,
            f"{identity.form_id} v{identity.version}; known: {catalog.describe()}",
            identity=identity, quality=quality, image=registration.image if registration is not None else None,
        )
    page_template = template.pages.get(identity.page)
    if page_template is None:
        return failure(
            FailureReason.UNKNOWN_PAGE,
            f"{identity.form_id} v{identity.version} page {identity.page}; "
            f"pages: {sorted(template.pages)}",
            identity=identity, quality=quality, image=registration.image if registration is not None else None,
        )
    return template, page_template


def _validated(
    levels: Sequence[np.ndarray], by_markers: Registration, page_template: PageTemplate
) -> Registration | PageFailure:
    """The markers' registration checked against the printed content; refitted
    on the content (seeded by the markers) when the print does not line up.
    Four markers that fit well are checked on a sample of the print first
    (`omr.align.quick_check`), the whole grid when it does not vouch for them."""
    tiles = page_template.print_tiles
    shape = levels[0].shape
    fit = quick_check(by_markers, tiles, shape) or measure(by_markers.half, tiles.at(CHECK_STAGE),
                                                          by_markers.homography, shape)
    if fit.good:
        quality = replace(by_markers.quality, content_residual_mm=round(fit.residual_mm, 4))
        return replace(by_markers, quality=quality)
    refined = refine(levels, tiles, by_markers.homography, coarse=False)
    if not refined.good:
        return not_lined_up(refined, by_markers.quality, by_markers.image, None)
    return print_registration(levels, refined, by_markers.markers, "content+markers")


def _by_print(
    levels: Sequence[np.ndarray], markers: dict[Corner, np.ndarray], by_markers: Registration | None,
    catalog: Catalog, failed: PageFailure,
) -> Located | PageFailure:
    """A page whose QR code cannot be read, registered and identified by its
    print: the registration of its markers (three or four), else a first fit
    from the markers found (`omr.align.marker_seeds`: one or two), or with
    none from the paper in the picture (`omr.align.frame_seeds`: a tightly
    framed photo), refined on the print of every page the catalog knows. The
    page whose print lines up, if it is the only one, is the page; its serial,
    printed only in the QR code, stays unknown (`UNKNOWN_SERIAL`) for a person to enter. `failed`
    (why the page could not be located otherwise) is returned when no known
    page lines up; a page whose print lines up with more than one known page
    fails `qr_unreadable`, naming them, never given to one of them."""
    pages = [(t, p) for t in catalog.templates.values() for p in t.pages.values()]
    fits: list[tuple[FormTemplate, PageTemplate, Registration]] = []
    if by_markers is not None:
        for template, page_template in pages:
            registration = _validated(levels, by_markers, page_template)
            if isinstance(registration, Registration):
                fits.append((template, page_template, registration))
    else:
        seeds = marker_seeds(markers) if markers else [(seed, {}) for seed in frame_seeds(levels)]
        for seed, group in seeds:
            for template, page_template in pages:
                fit = refine(levels, page_template.print_tiles, seed)
                if fit.usable:
                    by = "content+markers" if group else "content+frame"
                    fits.append((template, page_template, print_registration(levels, fit, group, by)))
            if fits:
                break
    if not fits:
        return failure(failed.reason, _detail(failed) + "; nội dung in không khớp trang nào đã biết / the print "
                       "lines up with no known page", quality=failed.quality, image=failed.image)
    if len(fits) > 1:
        names = ", ".join(f"{t.form.id} v{t.form.version} p{p.geometry.page}" for t, p, _ in fits)
        return failure(FailureReason.QR_UNREADABLE,
                       f"nội dung in khớp với nhiều trang / the print lines up with more than one page: "
                       f"{names}; chọn mẫu phiếu và trang khi duyệt / choose the form and page in review")
    template, page_template, registration = fits[0]
    identity = PageIdentity(template.form.id, template.form.version, page_template.geometry.page, UNKNOWN_SERIAL)
    return Located(registration, identity, template, page_template, serial_known=False)


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
