"""Free-text fields: blank or written by new ink; written ones through Tesseract.

The blank/written decision uses the same new-ink measure as the targets (so a
speck or a ruled line is not "writing") and costs nothing; OCR runs only on
written fields, on a crop warped from the full-resolution input at
`OCR_PX_PER_MM` with the printed ruling whitened and the paper flattened.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytesseract

from omr.reading import TextReading
from omr.register import Registration, warp_region
from omr.score import darkness_patch, new_ink, ink_reference, paper_level
from omr.template import PageTemplate, TextTemplate
from omr.thresholds import DEFAULT_THRESHOLDS, Thresholds

# ~300 dpi: Tesseract reads best with letters 20-40 px high.
OCR_PX_PER_MM = 12.0
OCR_LANG = "vie"
# One uniform block of text; the field holds a few lines of a comment.
OCR_CONFIG = "--psm 6"


def field_ink(page: np.ndarray, tt: TextTemplate, paper: np.ndarray, ink_ref: float) -> float:
    """Fraction of the field (printed ruling excluded) that is new ink."""
    h, w = tt.region.shape
    dark = darkness_patch(page, paper, tt.x0, tt.y0, w, h, ink_ref)
    area = int(tt.region.sum())
    return float(new_ink(dark, tt.region).sum() / area) if area else 0.0


def ocr_crop(grey: np.ndarray, registration: Registration, tt: TextTemplate) -> np.ndarray:
    """The field, upright at `OCR_PX_PER_MM`, paper flattened to white and the
    printed ruling whitened: what Tesseract sees and a reviewer is shown."""
    crop = warp_region(grey, registration.homography, tt.field.bbox_mm, OCR_PX_PER_MM)
    # Paper level: a max filter wider than a pen stroke, then divide.
    k = max(3, int(OCR_PX_PER_MM * 3) | 1)
    paper = cv2.dilate(crop, np.ones((k, k), np.uint8))
    flat = np.clip(crop.astype(np.float32) / np.maximum(paper, 1) * 255.0, 0, 255).astype(np.uint8)
    printed = cv2.resize(
        tt.printed_mask.astype(np.uint8), (flat.shape[1], flat.shape[0]), interpolation=cv2.INTER_NEAREST
    ).astype(bool)
    flat[printed] = 255
    return flat


def ocr_text(image: np.ndarray) -> tuple[str, float]:
    """Tesseract (`vie`) on a prepared crop: the text (lines joined by "\\n")
    and the mean word confidence 0..100 (0 when no word was found)."""
    data = pytesseract.image_to_data(
        image, lang=OCR_LANG, config=OCR_CONFIG, output_type=pytesseract.Output.DICT
    )
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
    return text, (float(np.mean(confs)) if confs else 0.0)


def read_text_fields(
    grey: np.ndarray,
    registration: Registration,
    template: PageTemplate,
    *,
    ocr: bool = True,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> tuple[TextReading, ...]:
    """Read every text field of `template` on a registered page.

    Returns a tuple of `omr.reading.TextReading`: `blank` when the field's new
    ink is below `thresholds.text_blank_ink` (no OCR then); otherwise, with
    `ocr`, the OCR text and mean confidence, and the crop for review.
    """
    page = registration.image
    paper = paper_level(page)
    ref = ink_reference(page, paper)
    out: list[TextReading] = []
    for tt in template.texts:
        ink = field_ink(page, tt, paper, ref)
        blank = ink < thresholds.text_blank_ink
        if blank:
            out.append(TextReading(tt.field.question, round(ink, 5), True))
            continue
        crop = ocr_crop(grey, registration, tt)
        text, conf = ocr_text(crop) if ocr else ("", 0.0)
        out.append(TextReading(tt.field.question, round(ink, 5), False, text, round(conf, 1), crop))
    return tuple(out)

