"""A scanned workspace with pages the reader cannot read, to key in.

Two forms in one survey. mot-cua (one page): sheets 1 and 2 scanned as they are; sheet 3
scanned with its QR code painted over (an unreadable page of a sheet never seen); sheet 1
again with its QR code painted over (a copy of a page already counted). sipas (two pages):
sheet 101's page 1 as it is and its page 2 with the QR code painted over (a sheet missing
its page 2, whose page 2 waits to be keyed). Built once per test module (~15 s).
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

DPI = 200
QR_MARGIN_MM = 3.0  # the scan may sit a millimetre or two off; paint the quiet zone too


@dataclass(frozen=True)
class KeyingBox:
    workspace: Path
    mot_cua: object  # fixtures BoxTruth
    sipas: object
    files: dict[str, Path]  # what each blanked file is: "new", "copy", "page2"


def page_png(pdf: Path, index: int, out: Path, qr_bbox_mm: tuple | None = None) -> Path:
    """Page `index` (1-based) of `pdf` as a PNG at `DPI`; with `qr_bbox_mm`, the QR code
    painted white (the reader then fails the page: `qr_unreadable`)."""
    stem = out.with_suffix("")
    subprocess.run(["pdftoppm", "-r", str(DPI), "-f", str(index), "-l", str(index), "-png",
                    "-singlefile", str(pdf), str(stem)], check=True)
    if qr_bbox_mm is not None:
        image = np.array(Image.open(out).convert("L"))
        scale = DPI / 25.4
        x, y, w, h = qr_bbox_mm
        x0, y0 = int((x - QR_MARGIN_MM) * scale), int((y - QR_MARGIN_MM) * scale)
        x1, y1 = int((x + w + QR_MARGIN_MM) * scale), int((y + h + QR_MARGIN_MM) * scale)
        image[max(0, y0):y1, max(0, x0):x1] = 255
        Image.fromarray(image).save(out)
    return out


def build_keying_box(root: Path, store: str = "survey.sqlite") -> KeyingBox:
    """Generate and scan the workspace under `root` (its store: `store`, a URL or the
    workspace's SQLite file)."""
    from fixtures.box import make_ballot_box
    from fixtures.respond import FillOptions
    from forms import load_form
    from forms.layout import layout_form
    from pipeline.scan.driver import scan
    from pipeline.store.survey import init_survey

    calm = FillOptions(overvote_rate=0.0, marginal_rate=0.0)
    mot = make_ballot_box("mot-cua", 3, root / "mot", seed=5, mix={"scan": 1.0},
                          comment_rate=0.0, fill=calm)
    sip = make_ballot_box("sipas", 1, root / "sip", seed=5, mix={"scan": 1.0}, comment_rate=0.0,
                          first_serial=101, fill=calm)
    qr_mot = layout_form(load_form("mot-cua")).pages[0].geometry.qr_bbox_mm
    qr_sip = layout_form(load_form("sipas")).pages[1].geometry.qr_bbox_mm
    pages = root / "pages"
    pages.mkdir()
    mot_pdf, sip_pdf = root / "mot" / "batch-001.pdf", root / "sip" / "batch-001.pdf"
    readable = [page_png(mot_pdf, 1, pages / "a1-sheet1.png"),
                page_png(mot_pdf, 2, pages / "a2-sheet2.png"),
                page_png(sip_pdf, 1, pages / "b1-sipas-p1.png")]
    files = {
        "new": page_png(mot_pdf, 3, pages / "c1-sheet3-noqr.png", tuple(qr_mot)),
        "copy": page_png(mot_pdf, 1, pages / "c2-sheet1-again-noqr.png", tuple(qr_mot)),
        "page2": page_png(sip_pdf, 2, pages / "c3-sipas-p2-noqr.png", tuple(qr_sip)),
    }
    survey = init_survey(root / "ws", ["mot-cua", "sipas"], store=store)
    scan(survey, [*readable, *files.values()], batch="hop-1", jobs=1)
    return KeyingBox(survey.root, mot, sip, files)


def typed_answers(sheet_truth, questions) -> dict[str, str]:
    """What a clerk reading the paper keys for `questions` (ids) of a sheet: the codes
    marked, `none` when nothing is, the comment written."""
    out = {}
    for qid in questions:
        truth = sheet_truth.question(qid)
        if truth.type == "text":
            out[qid] = truth.text
        elif not truth.expected:
            out[qid] = "none"
        else:
            out[qid] = "|".join(truth.expected)
    return out
