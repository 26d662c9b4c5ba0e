"""The survey store: migrations, one-transaction page records, sheets, flags, exports.

Readings are built by hand here (no images), so these tests pin the store's rules:
a page is stored once, a serial counts once, a person's answer sits beside the
machine's, every page shows in pages.csv.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from forms.identity import PageIdentity
from forms.model import Form, Option, Question, Section
from omr.reading import (
    UNKNOWN_SERIAL,
    PageFailure,
    PageQuality,
    PageReading,
    QuestionReading,
    TargetScore,
    TextReading,
)
from pipeline.outputs import export
from pipeline.scan.inputs import IngestProblem, PageTask
from pipeline.scan.recorder import FormInfo, flag_missing_pages, record_page
from pipeline.scan.workers import PageResult
from pipeline.store import schema
from pipeline.store.database import get_or_create_batch, head_revision, open_store, utcnow
from pipeline.store.sheets import close_flags, missing_detail, settle_complete, settle_missing

OPTS = tuple(Option(str(i), f"Mức {i}") for i in range(1, 4))
FORM = Form(
    id="toy", version=1, title="Phiếu thử", office="UBND", intro="", instructions="",
    sections=(Section("A", (
        Question("q1", "single", "Câu 1", OPTS, mark="box"),
        Question("q2", "multi", "Câu 2", OPTS, mark="box"),
        Question("y_kien", "text", "Ý kiến", lines=3),
    )),),
)
INFO = FormInfo("toy", 1, 1, {"q1": "single", "q2": "multi", "y_kien": "text"},
                {"q1": 1, "q2": 1, "y_kien": 1})
TWO_PAGE = FormInfo("toy2", 1, 2, {"a": "single", "b": "single"}, {"a": 1, "b": 2})
FORMS = {("toy", 1): INFO, ("toy2", 1): TWO_PAGE}
QUALITY = PageQuality(4, 0, 0.1, 0.2, 7.9, 120.0)


def reading(serial: int, q1=("2",), q1_status="answered", q2=(), text="", form="toy",
            page=1, reasons=()) -> PageReading:
    targets = tuple(
        TargetScore("q1", o.code, 0.5 if o.code in q1 else 0.0,
                    "marked" if o.code in q1 else "empty") for o in OPTS
    )
    questions = (
        QuestionReading("q1", q1_status, q1 if q1_status == "answered" else (), reasons),
        QuestionReading("q2", "answered" if q2 else "no_answer", q2),
    )
    texts = (TextReading("y_kien", 0.05 if text else 0.0, not text, text, 91.0 if text else 0.0),)
    if form == "toy2":
        questions = (QuestionReading("a" if page == 1 else "b", "answered", ("1",)),)
        texts = ()
    return PageReading(PageIdentity(form, 1, page, serial), QUALITY, targets, questions, texts)


def result(source_id: int, index: int, value) -> PageResult:
    task = PageTask(source_id, f"/scans/box{source_id}.pdf", "pdf", index, 200)
    if isinstance(value, IngestProblem):
        return PageResult(task, None, value, None, 0.0, False, (), 0.01)
    return PageResult(task, value, None, b"jpeg", 4.0, True, (), 0.01)


@pytest.fixture
def store(tmp_path: Path):
    s = open_store(f"sqlite:///{tmp_path / 'survey.sqlite'}")
    with s.engine.begin() as conn:
        batch = get_or_create_batch(conn, "b1")
        for sid in (1, 2):
            conn.execute(sa.insert(schema.sources).values(
                id=sid, batch_id=batch, path=f"/scans/box{sid}.pdf", sha256=f"{sid:064d}",
                size=1, kind="pdf", page_count=10, status="partial", added_at=utcnow()))
    return s


def put(store, source_id, index, value):
    with store.engine.begin() as conn:
        return record_page(conn, result(source_id, index, value), batch_id=1, forms=FORMS,
                           relative=str, page_path=None, crop_paths={})


def count(store, table, *where) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


def test_migrations_create_the_schema_the_code_describes(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    open_store(url)
    store = open_store(url)  # a second open is a no-op, not an error
    inspector = sa.inspect(store.engine)
    for table in schema.metadata.sorted_tables:
        db_columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert db_columns == {c.name for c in table.columns}, table.name
    with store.engine.connect() as conn:
        version = conn.execute(sa.text("select version_num from alembic_version")).scalar_one()
    assert version == head_revision()


def test_a_store_made_by_an_older_phieu_is_upgraded_with_its_data(tmp_path):
    """A store at revision 0003 (sheets unique per form and serial), with pages that
    refer to its sheets, upgrades on open: SQLite rebuilds the sheets table without
    losing a row or a reference."""
    from alembic import command

    from pipeline.store.database import _alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0003")
        conn.execute(sa.text("INSERT INTO batches (id, name, created_at) VALUES (1, 'b', '2026-09-01')"))
        conn.execute(sa.text(
            "INSERT INTO sheets (id, form, version, serial, status, batch_id, first_scanned_at) "
            "VALUES (7, 'f', 1, 101, 'counted', 1, '2026-09-01')"))
        conn.execute(sa.text(
            "INSERT INTO sources (id, batch_id, path, sha256, size, kind, page_count, status, added_at) "
            "VALUES (1, 1, 'a.pdf', 'x', 1, 'pdf', 1, 'complete', '2026-09-01')"))
        conn.execute(sa.text(
            "INSERT INTO pages (id, source_id, page_index, status, sheet_id, page_number, "
            "scanned_at) VALUES (1, 1, 1, 'read', 7, 1, '2026-09-01')"))
    engine.dispose()
    store = open_store(url)
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("select version_num from alembic_version")).scalar_one() == head_revision()
        assert conn.execute(sa.text("select id, serial from sheets")).all() == [(7, 101)]
        assert conn.execute(sa.text("select sheet_id from pages")).scalar_one() == 7
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar_one() == 1
    # the new key: the same serial of another version is another sheet
    with store.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO sheets (form, version, serial, status, batch_id, first_scanned_at) "
            "VALUES ('f', 2, 101, 'counted', 1, '2026-09-02')"))
        with pytest.raises(sa.exc.IntegrityError):
            with conn.begin_nested():
                conn.execute(sa.text(
                    "INSERT INTO sheets (form, version, serial, status, batch_id, first_scanned_at) "
                    "VALUES ('f', 2, 101, 'counted', 1, '2026-09-03')"))


def test_a_read_page_makes_a_counted_sheet_with_machine_answers(store):
    out = put(store, 1, 1, reading(101, q2=("1", "3"), text="Cán bộ nhiệt tình"))
    assert out.status == "read" and out.serial == 101 and out.flags == ()
    frame = export.responses_frame(store, FORM)
    row = frame.iloc[0]
    assert (row.serial, row.status, row.flagged) == (101, "counted", "")
    assert (row.q1, row.q2, row.y_kien) == ("2", "1|3", "Cán bộ nhiệt tình")
    assert row.batch == "b1" and row.scanned_at.endswith("+00:00")


def test_a_page_is_stored_once(store):
    put(store, 1, 1, reading(101))
    assert put(store, 1, 1, reading(101)).status == "already"
    assert count(store, schema.pages) == 1
    assert count(store, schema.target_scores) == 3


def test_same_serial_again_is_a_duplicate_never_counted_twice(store):
    put(store, 1, 1, reading(101, q1=("2",)))
    out = put(store, 2, 5, reading(101, q1=("3",)))
    assert out.status == "duplicate" and out.flags == ("duplicate",)
    frame = export.responses_frame(store, FORM)
    assert len(frame) == 1
    assert frame.iloc[0].q1 == "2" and frame.iloc[0].status == "needs_review"
    pages = export.pages_frame(store)
    assert list(pages.status) == ["read", "duplicate"]
    assert "box1.pdf" in pages.iloc[1].message


def test_flagged_question_is_listed_and_left_empty(store):
    put(store, 1, 1, reading(7, q1=(), q1_status="flagged", reasons=("overvote",)))
    row = export.responses_frame(store, FORM).iloc[0]
    assert (row.status, row.flagged, row.q1) == ("needs_review", "q1", "")
    with store.engine.connect() as conn:
        flag = conn.execute(sa.select(schema.flags)).one()
    assert (flag.reason, flag.question, flag.status) == ("overvote", "q1", "open")


def test_a_persons_answer_wins_in_exports_and_keeps_the_machines(store):
    put(store, 1, 1, reading(7, q1=(), q1_status="flagged", reasons=("marginal",)))
    with store.engine.begin() as conn:
        conn.execute(sa.insert(schema.answers).values(
            sheet_id=1, question="q1", source="person", value="3", status="answered",
            created_at=utcnow()))
    assert export.responses_frame(store, FORM).iloc[0].q1 == "3"
    assert count(store, schema.answers, schema.answers.c.question == "q1") == 2


def test_blank_ballot_is_flagged(store):
    out = put(store, 1, 1, reading(9, q1=(), q1_status="no_answer"))
    assert out.flags == ("blank_ballot",)


def test_failures_are_pages_with_reasons_and_flags(store):
    put(store, 1, 1, IngestProblem("corrupt_pdf", "box1.pdf: PDF hỏng"))
    put(store, 1, 2, PageFailure("no_markers", "Không tìm thấy dấu định vị"))
    put(store, 1, 3, PageFailure("unknown_form", "form x", PageIdentity("x", 1, 1, 5)))
    pages = export.pages_frame(store)
    assert list(pages.reason) == ["corrupt_pdf", "no_markers", "unknown_form"]
    assert list(pages.status) == ["failed"] * 3
    assert pages.serial.iloc[2] == 5 and pages.form.iloc[2] == "x"
    with store.engine.connect() as conn:
        reasons = sorted(conn.execute(sa.select(schema.flags.c.reason)).scalars())
    assert reasons == ["unknown_form", "unreadable", "unreadable"]


def read_by_print(**kw) -> PageFailure:
    """A page whose QR code was not read, identified by its print (as `omr.read_page`
    returns it): failed `qr_unreadable`, with the reading under `UNKNOWN_SERIAL`."""
    return PageFailure("qr_unreadable", "nhận ra từ nội dung in: toy v1 trang 1",
                       quality=QUALITY, reading=reading(UNKNOWN_SERIAL, **kw))


def test_a_page_read_by_its_print_keeps_the_machines_reading_and_counts_for_nothing(store):
    out = put(store, 1, 1, read_by_print(q1=(), q1_status="flagged", reasons=("marginal",),
                                         q2=("1", "3"), text="Tốt lắm"))
    assert (out.status, out.reason, out.form, out.serial, out.flags) == (
        "failed", "qr_unreadable", "toy", None, ("unreadable",))
    p, pa = schema.pages, schema.page_answers
    with store.engine.connect() as conn:
        page = conn.execute(sa.select(p.c.id, p.c.status, p.c.form, p.c.version, p.c.page_number,
                                      p.c.serial, p.c.sheet_id)).one()
        answers = {r.question: (r.status, r.value, r.reasons, r.confidence) for r in
                   conn.execute(sa.select(pa).where(pa.c.page_id == page.id))}
    assert tuple(page)[1:] == ("failed", "toy", 1, 1, None, None)  # no serial, no sheet
    assert answers == {"q1": ("flagged", "", "marginal", None),
                       "q2": ("answered", "1|3", "", None),
                       "y_kien": ("answered", "Tốt lắm", "", 91.0)}
    assert count(store, schema.target_scores, schema.target_scores.c.page_id == page.id) == 3
    # Never counted: no sheet, no answer, no question flag; one page item waits for a person.
    assert count(store, schema.sheets) == 0 and count(store, schema.answers) == 0
    with store.engine.connect() as conn:
        flags = conn.execute(sa.select(schema.flags.c.reason, schema.flags.c.page_id,
                                       schema.flags.c.question)).all()
    assert flags == [("unreadable", page.id, None)]
    pages = export.pages_frame(store)
    assert (pages.status.iloc[0], pages.form.iloc[0], pages.reason.iloc[0]) == (
        "failed", "toy", "qr_unreadable")
    assert pd.isna(pages.serial.iloc[0])
    assert put(store, 1, 1, read_by_print()).status == "already"  # stored once


def test_the_worker_keeps_the_registered_page_and_crops_of_a_page_read_by_its_print(
        tmp_path, monkeypatch):
    """What crosses back from a worker for a page read by its print: its registered image
    (review crops come from the layout) and its comments' crops, no pixel array."""
    import dataclasses

    import cv2
    import numpy as np

    import omr
    from omr.warp import CanonicalPage
    from pipeline.scan.workers import PageReader

    registered = np.full((297 * 8, 210 * 8), 255, np.uint8)  # the input, at 8 px/mm
    page = CanonicalPage([registered], np.diag([6 / 8, 6 / 8, 1.0]), 8.0)
    crop = np.full((40, 300), 200, np.uint8)
    read = dataclasses.replace(reading(UNKNOWN_SERIAL, text="Tốt lắm"), page=page)
    read = dataclasses.replace(read, texts=tuple(dataclasses.replace(t, crop=crop)
                                                 for t in read.texts))
    failure = PageFailure("qr_unreadable", "by its print", quality=QUALITY, image=registered,
                          reading=read)
    monkeypatch.setattr(omr, "read_page", lambda image, catalog: failure)
    scan = tmp_path / "scan.png"
    cv2.imwrite(str(scan), np.full((1100, 850), 250, np.uint8))
    result = PageReader(catalog=None).read(PageTask(1, str(scan), "image", 1, 200))
    assert result.image_registered and result.image_px_per_mm == 4.0
    assert cv2.imdecode(np.frombuffer(result.page_jpeg, np.uint8), 0).shape == (297 * 4, 210 * 4)
    assert [q for q, _ in result.crops] == ["y_kien"]
    kept = result.reading
    assert isinstance(kept, PageFailure) and kept.image is None and kept.reading is not None
    assert kept.reading.page is None and all(t.crop is None for t in kept.reading.texts)


def test_missing_page_flag_opens_then_closes_when_the_page_arrives(store):
    put(store, 1, 1, reading(300, form="toy2", page=1))
    with store.engine.begin() as conn:
        assert flag_missing_pages(conn, FORMS) == 1
        assert flag_missing_pages(conn, FORMS) == 0  # idempotent
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(schema.sheets.c.status)).scalar_one() == "needs_review"
    put(store, 2, 1, reading(300, form="toy2", page=2))
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(schema.sheets.c.status)).scalar_one() == "counted"
        assert conn.execute(sa.select(schema.flags.c.status)).scalar_one() == "resolved"


def missing_flag(store) -> tuple[str, str, str]:
    f = schema.flags
    with store.engine.connect() as conn:
        return tuple(conn.execute(sa.select(f.c.status, f.c.detail, f.c.resolution)
                                .where(f.c.reason == "missing_page")).one())


def test_one_rule_settles_a_missing_page_at_the_end_of_a_scan_and_in_keying(store):
    """`sheets.settle_missing` serves the recorder (end of a scan) and keying alike: the
    same detail; a flag the machine closed is opened again when the page is gone again
    (a counted page set back to duplicate); one a person resolved stays resolved."""
    put(store, 1, 1, reading(310, form="toy2", page=1))
    with store.engine.begin() as conn:
        assert flag_missing_pages(conn, FORMS) == 1
    assert missing_flag(store) == ("open", missing_detail([2]), "")
    assert missing_detail([2]) == "Thiếu trang 2 của phiếu / page(s) 2 of this sheet not scanned"
    put(store, 2, 1, reading(310, form="toy2", page=2))
    assert missing_flag(store)[0] == "resolved"
    p = schema.pages
    with store.engine.begin() as conn:  # page 2 set back (another copy of the sheet counts)
        conn.execute(sa.update(p).where(p.c.source_id == 2).values(status="duplicate"))
        assert flag_missing_pages(conn, FORMS) == 1  # the machine's own flag, open again
    assert missing_flag(store) == ("open", missing_detail([2]), "")
    with store.engine.begin() as conn:  # keying settles the same way: nothing new
        assert settle_missing(conn, 1, 2, "keyed") == []
        conn.execute(sa.update(schema.flags).values(status="resolved",
                                                    resolution="person: an: accept"))
        assert flag_missing_pages(conn, FORMS) == 0
        assert settle_missing(conn, 1, 2, "keyed") == []
    assert missing_flag(store)[::2] == ("resolved", "person: an: accept")
    with store.engine.begin() as conn:  # no page of it counted: nothing of it waits
        conn.execute(sa.update(p).values(status="duplicate"))
        conn.execute(sa.update(schema.flags).values(status="open", resolution=""))
        assert settle_missing(conn, 1, 2, "keyed") == []
    assert missing_flag(store)[0] == "resolved"


def blank_page(serial: int, page: int) -> PageReading:
    question = QuestionReading("a" if page == 1 else "b", "no_answer")
    return PageReading(PageIdentity("toy2", 1, page, serial), QUALITY, (), (question,), ())


def blank_flag(store) -> tuple[str, str]:
    f = schema.flags
    with store.engine.connect() as conn:
        return tuple(conn.execute(sa.select(f.c.status, f.c.resolution)
                                .where(f.c.reason == "blank_ballot")).one())


def test_a_blank_ballot_the_machine_closed_is_flagged_again_one_a_person_resolved_is_not(store):
    put(store, 1, 1, blank_page(400, 1))
    assert put(store, 1, 2, blank_page(400, 2)).flags == ("blank_ballot",)
    with store.engine.begin() as conn:  # as a key-in undone closes it (the sheet lacked a page)
        close_flags(conn, 1, "blank_ballot", "the sheet lacks a page again")
    assert blank_flag(store) == ("resolved", "machine: the sheet lacks a page again")
    with store.engine.begin() as conn:
        assert settle_complete(conn, 1, 2, "the page is back") == ["blank_ballot"]
    assert blank_flag(store) == ("open", "")
    with store.engine.begin() as conn:
        conn.execute(sa.update(schema.flags).values(status="resolved", resolution="person: an: accept"))
        assert settle_complete(conn, 1, 2, "the page is back") == []
    assert blank_flag(store) == ("resolved", "person: an: accept")


def test_a_sheet_is_blank_only_when_no_answer_a_person_gave_says_otherwise(store):
    put(store, 1, 1, blank_page(401, 1))
    with store.engine.begin() as conn:  # page 1 keyed or decided by a person: answered
        conn.execute(sa.insert(schema.answers).values(
            sheet_id=1, page_id=1, question="a", source="person", value="1", status="answered",
            created_at=utcnow()))
    assert put(store, 1, 2, blank_page(401, 2)).flags == ()
    assert count(store, schema.flags, schema.flags.c.reason == "blank_ballot") == 0


def test_csv_export_has_bom_and_reads_back(store, tmp_path):
    put(store, 1, 1, reading(101, text="Thủ tục nhanh gọn"))
    path = export.write_frame(export.responses_csv_frame(store, FORM), tmp_path / "r.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["serial", "status", "flagged", "sheet_flags", "q1", "q2", "y_kien"]
    assert rows[0]["y_kien"] == "Thủ tục nhanh gọn"
    xlsx = export.write_frame(export.comments_csv_frame(store), tmp_path / "c.xlsx")
    back = pd.read_excel(xlsx)
    assert list(back.columns) == list(export.COMMENTS_COLUMNS)
    assert back.text.iloc[0] == "Thủ tục nhanh gọn"
