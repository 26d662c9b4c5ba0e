"""Comments on their way out: the publishing rule, topics by keyword, the suggestion a
clerk starts from, and comments.xlsx with the handwriting embedded."""
from __future__ import annotations

import pandas as pd
from openpyxl import load_workbook
from PIL import Image, ImageDraw

from forms.model import CommentTopic
from omr.thresholds import DEFAULT_THRESHOLDS
from pipeline.outputs.comments import (
    OTHER_TOPIC,
    UNREAD_TOPIC,
    ShownAs,
    shown_as,
    topic_counts,
    topic_of,
    write_comments_xlsx,
)
from pipeline.review.suggest import PREFILL_MIN_CONFIDENCE, suggestion

TOPICS = (CommentTopic("Cơ sở vật chất", ("nhà vệ sinh", "ghế", "quạt")),
          CommentTopic("Thái độ", ("thái độ", "nhiệt tình")))
LIMIT = DEFAULT_THRESHOLDS.ocr_min_confidence


def test_a_persons_decision_wins_and_the_machine_needs_the_flagging_threshold():
    assert shown_as("answered", "x", 0.0, True) == ShownAs.PERSON
    assert shown_as("no_answer", "Cảm ơn", 99.0, False) == ShownAs.NONE
    assert shown_as("invalid", "Cảm ơn", 99.0, False) == ShownAs.IMAGE  # illegible
    assert shown_as(None, "Cảm ơn", LIMIT, False) == ShownAs.OCR
    assert shown_as(None, "Cảm ơn", LIMIT - 0.1, False) == ShownAs.IMAGE
    assert shown_as(None, "Cảm ơn", 99.0, True) == ShownAs.IMAGE  # still waiting for a person
    assert shown_as(None, "|", 99.0, False) == ShownAs.IMAGE  # junk is never a comment


def test_topics_by_whole_keyword_first_topic_wins():
    assert topic_of("Nhà vệ sinh bẩn, thiếu GHẾ", ShownAs.PERSON, TOPICS) == "Cơ sở vật chất"
    assert topic_of("Cán bộ nhiệt tình, thái độ tốt", ShownAs.OCR, TOPICS) == "Thái độ"
    # whole words only: "ghế" is not inside "ghếch", "quạt" not in "quạtt"
    assert topic_of("ghếch quạtt", ShownAs.PERSON, TOPICS) == OTHER_TOPIC
    # a keyword of two words matches across a line break
    assert topic_of("nhà\nvệ sinh", ShownAs.PERSON, TOPICS) == "Cơ sở vật chất"
    assert topic_of("Nhà vệ sinh bẩn", ShownAs.IMAGE, TOPICS) == UNREAD_TOPIC  # no text to read
    # NFD input (as some keyboards send it) matches an NFC keyword
    import unicodedata
    assert topic_of(unicodedata.normalize("NFD", "thiếu ghế"), ShownAs.PERSON, TOPICS) == "Cơ sở vật chất"
    counts = topic_counts(["Thái độ", OTHER_TOPIC, "Thái độ"], TOPICS)
    assert counts == (("Cơ sở vật chất", 0), ("Thái độ", 2), (OTHER_TOPIC, 1))


def test_suggestion_only_where_it_saves_keys():
    assert suggestion("Cán bộ tận tình", PREFILL_MIN_CONFIDENCE) == "Cán bộ tận tình"
    assert suggestion("Cán bộ tận tình", PREFILL_MIN_CONFIDENCE - 1) == ""
    assert suggestion("| ,", 99.0) == "" and suggestion("", 99.0) == "" and suggestion("ok", None) == ""


def test_comments_xlsx_embeds_each_crop(tmp_path):
    for name in ("a.png", "b.png"):
        crop = Image.new("L", (1800, 300), 255)
        ImageDraw.Draw(crop).line((20, 150, 1700, 160), fill=0, width=6)
        crop.save(tmp_path / name)
    frame = pd.DataFrame({
        "serial": [1001, 1002, 1003, 1004], "question": ["y_kien"] * 4,
        "text": ["Thiếu ghế ngồi", "tôi r›phí", "", "Cảm ơn"],
        "confidence": [40.0, 80.0, 0.0, 97.0],
        "crop": ["a.png", "b.png", "", "gone.png"],
        "flagged": [False, True, False, False],
        "shown_as": ["person", "image", "none", "ocr"],
        "form": ["mot-cua"] * 4, "status": ["reviewed"] * 4,
    })
    path = write_comments_xlsx(frame, {"mot-cua": TOPICS}, tmp_path / "y-kien.xlsx", tmp_path)
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [1001, 1002, 1004]  # "no comment" left out
    person, image, ocr = rows
    assert person[2:5] == ("Cơ sở vật chất", "Cán bộ đã chép hoặc xác nhận / typed or confirmed by a person",
                           "Thiếu ghế ngồi")
    assert image[3].startswith("Chỉ có ảnh") and image[4] is None and image[5] == "tôi r›phí"
    assert ocr[4] == "Cảm ơn" and ocr[6] == "(không có ảnh / no image)"
    anchors = sorted(img.anchor._from.row + 1 for img in sheet._images)
    assert anchors == [2, 3]  # an image beside each comment whose crop exists
    assert all(img.width <= 520 for img in sheet._images)


def test_the_keystroke_model_of_the_keying_benchmark():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from comment_transcribe import correction_keys, telex_keys, typing_keys

    assert [telex_keys(c) for c in "aăâđệẸ "] == [1, 2, 2, 2, 3, 2, 1]
    assert typing_keys("Cảm ơn") == 8  # C, a+r, m, space, o+w, n
    assert correction_keys("Cảm ơn", "Cảm ơn") == 0
    # one wrong letter: retype it (2 keys for "ơ") plus reaching it (2)
    assert correction_keys("Cảm on", "Cảm ơn") == 2 + 2


def test_comments_xlsx_keeps_a_formula_as_text_and_drops_what_excel_cannot_hold(tmp_path):
    from openpyxl import load_workbook

    frame = pd.DataFrame({
        "serial": [7, 8], "question": ["y_kien", "y_kien"],
        "text": ['=HYPERLINK("http://x.example","bấm")', "dòng một\x0bdòng hai"],
        "confidence": [99.0, 99.0], "crop": ["", ""], "flagged": [False, False],
        "shown_as": ["person", "person"], "form": ["mot-cua"] * 2, "status": ["reviewed"] * 2,
    })
    path = write_comments_xlsx(frame, {"mot-cua": TOPICS}, tmp_path / "y-kien.xlsx", tmp_path)
    sheet = load_workbook(path).active
    formula, broken = sheet["E2"], sheet["E3"]
    assert formula.data_type == "s" and formula.value.startswith("=HYPERLINK")
    assert broken.value == "dòng một\ndòng hai"
