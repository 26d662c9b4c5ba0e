"""A small hand-made form and responses frames with known counts, for the tally and report
tests (they do not depend on the form library or the store)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from forms.model import Form, Matrix, Option, Question, Scale, Section

LEVELS = ("Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng")
SCALE = Scale(
    id="muc_do",
    options=tuple(Option(str(i + 1), label, i + 1) for i, label in enumerate(LEVELS)),
    satisfied=frozenset({"4", "5"}),
)


def _rows(ids_texts: list[tuple[str, str]], group: str, matrix: str) -> tuple[Question, ...]:
    return tuple(
        Question(qid, "single", text, SCALE.options, "digit", scale="muc_do", group=group,
                 matrix=matrix)
        for qid, text in ids_texts
    )


def mini_form() -> Form:
    """Two criteria groups of scale questions, one plain single, one multi, one text."""
    linh_vuc = Question(
        "linh_vuc", "single", "Lĩnh vực giải quyết",
        (Option("dat_dai", "Đất đai"), Option("ho_tich", "Hộ tịch"), Option("khac", "Khác")),
        "box",
    )
    kenh = Question(
        "kenh", "multi", "Ông/Bà biết thủ tục qua đâu?",
        (Option("web", "Trang web"), Option("niem_yet", "Niêm yết"), Option("can_bo", "Cán bộ")),
        "box",
    )
    tiep_can = Matrix("m1", "Tiếp cận dịch vụ", "muc_do", "digit", _rows(
        [("tc1", "Nơi ngồi chờ có đủ chỗ ngồi"), ("tc2", "Trang thiết bị đầy đủ")],
        "tiep_can", "m1"))
    cong_chuc = Matrix("m2", "Công chức", "muc_do", "digit", _rows(
        [("cc1", "Công chức có thái độ giao tiếp lịch sự")], "cong_chuc", "m2"))
    y_kien = Question("y_kien", "text", "Ý kiến khác", lines=3)
    return Form(
        id="mini", version=1, title="Phiếu khảo sát thử", office="UBND xã Thử Nghiệm",
        intro="", instructions="",
        sections=(Section("I. Thông tin", (linh_vuc, kenh)),
                  Section("II. Đánh giá", (tiep_can, cong_chuc)),
                  Section("III. Ý kiến", (y_kien,))),
        scales={"muc_do": SCALE},
        groups={"tiep_can": "Tiếp cận dịch vụ", "cong_chuc": "Công chức"},
    )


COLUMNS = ["serial", "status", "flagged", "batch", "scanned_at",
           "linh_vuc", "kenh", "tc1", "tc2", "cc1", "y_kien"]


def frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def known_frame() -> pd.DataFrame:
    """Eight sheets whose counts are worked out by hand in test_tally.py."""
    return frame([
        ("1001", "counted", "", "1", "2026-07-03T09:00:00", "dat_dai", "web|can_bo", "5", "4", "4", "Tốt"),
        ("1002", "counted", "", "1", "2026-07-03T09:01:00", "dat_dai", "", "3", "", "5", ""),
        ("1003", "needs_review", "tc1", "1", "2026-08-14T10:00:00", "ho_tich", "web", "", "2", "1", ""),
        ("1004", "reviewed", "", "2", "2026-08-20T10:00:00", "ho_tich", "niem_yet", "4", "4", "4", "Chậm"),
        ("1005", "rejected", "", "2", "2026-09-01T10:00:00", "khac", "web", "1", "1", "1", ""),
        ("1006", "counted", "", "2", "2026-10-02T08:00:00", "", "can_bo", "2", "5", "3", ""),
        ("1007", "needs_review", "", "3", "2026-10-05T08:00:00", "khac", "web", "5", "5", "5", ""),
        ("1008", "counted", "", "3", "", "khac", "", "1", "3", "", ""),
    ])


def random_frame(n: int, seed: int) -> pd.DataFrame:
    """`n` sheets with random answers, statuses and flags (fixed seed)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        status = rng.choice(["counted"] * 6 + ["needs_review", "reviewed", "rejected"])
        answers = {}
        for qid in ("tc1", "tc2", "cc1"):
            answers[qid] = "" if rng.random() < 0.1 else str(rng.integers(1, 6))
        answers["linh_vuc"] = "" if rng.random() < 0.05 else str(
            rng.choice(["dat_dai", "ho_tich", "khac"]))
        answers["kenh"] = "|".join(c for c in ("web", "niem_yet", "can_bo") if rng.random() < 0.4)
        flagged = ""
        if status == "needs_review" and rng.random() < 0.8:
            flagged = "|".join(sorted(rng.choice(["tc1", "tc2", "cc1", "linh_vuc", "kenh"],
                                                 size=rng.integers(1, 3), replace=False)))
            for qid in flagged.split("|"):
                answers[qid] = ""  # a flagged question has no decided value yet
        month = int(rng.integers(1, 13))
        scanned = "" if rng.random() < 0.03 else f"2026-{month:02d}-{int(rng.integers(1, 29)):02d}T10:00:00"
        rows.append((str(5000 + i), status, flagged, str(rng.integers(1, 4)), scanned,
                     answers["linh_vuc"], answers["kenh"], answers["tc1"], answers["tc2"],
                     answers["cc1"], ""))
    return frame(rows)


def random_frame_for(form: Form, n: int, seed: int, *, review_share: float = 0.1) -> pd.DataFrame:
    """`n` sheets of any form with random answers: blanks, flags, rejected sheets, 3 batches,
    scan dates over 2026 (fixed seed). Scale answers lean to satisfied, as real ones do."""
    rng = np.random.default_rng(seed)
    questions = [q for q in form.questions()]
    rows = []
    for i in range(n):
        status = "counted"
        roll = rng.random()
        if roll < review_share:
            status = "needs_review"
        elif roll < review_share + 0.05:
            status = "reviewed"
        elif roll < review_share + 0.08:
            status = "rejected"
        record = {"serial": str(100001 + i), "status": status, "batch": f"hom-{rng.integers(1, 4)}",
                  "scanned_at": f"2026-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}T02:00:00+00:00"}
        flagged = []
        for q in questions:
            if q.type == "text":
                record[q.id] = "Cán bộ hướng dẫn tận tình" if rng.random() < 0.1 else ""
                continue
            if rng.random() < 0.05:
                record[q.id] = ""
                continue
            codes = [o.code for o in q.options]
            if q.scale:
                weights = np.array([0.04, 0.08, 0.18, 0.45, 0.25])[: len(codes)]
                picked = [codes[int(rng.choice(len(codes), p=weights / weights.sum()))]]
            elif q.type == "multi":
                picked = [c for c in codes if rng.random() < 0.3] or [codes[0]]
            else:
                picked = [codes[int(rng.integers(len(codes)))]]
            record[q.id] = "|".join(picked)
            if status == "needs_review" and rng.random() < 0.15:
                flagged.append(q.id)
                record[q.id] = ""
        record["flagged"] = "|".join(flagged)
        rows.append(record)
    columns = ["serial", "status", "flagged", "batch", "scanned_at", *(q.id for q in questions)]
    return pd.DataFrame(rows, columns=columns)
