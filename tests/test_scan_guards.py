"""Inputs and workspaces that used to lose data or stop with a traceback (issue 12):
each empty or unreadable file is its own failed row, an unreadable folder is reported,
the workspace's own images are not rescanned, a replaced file is finished, a typo in
`store:` is refused, `init` refuses a file, another form file and a read-only place,
a huge PDF page and a damaged TIFF keep what can be read, serial ranges never overlap."""
from __future__ import annotations

import os
import sqlite3
import struct
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from reportlab.pdfgen import canvas

from forms.errors import BadInput
from pipeline.scan import inputs as scan_inputs
from pipeline.scan.inputs import MAX_RENDER_PIXELS, count_pages, load_page, probe
from pipeline.store.database import open_store
from pipeline.store.serials import reserve_serials, serial_ranges
from pipeline.store.survey import init_survey

pytestmark = pytest.mark.slow  # real scans of odd inputs


@pytest.fixture(scope="module")
def blank(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("blank") / "ws"
    init_survey(ws, ["mot-cua"])
    return ws


@pytest.fixture
def ws(blank, tmp_path) -> Path:
    import shutil

    return Path(shutil.copytree(blank, tmp_path / "ws"))


def rows(ws: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(ws / "survey.sqlite")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_every_empty_file_is_its_own_failed_row(ws, tmp_path, run_phieu):
    box = tmp_path / "box"
    box.mkdir()
    for name in ("a.pdf", "b.jpg", "c.tif"):
        (box / name).write_bytes(b"")
    run = run_phieu("scan", box, cwd=ws)
    assert run.code == 0, run.err
    assert "same content" not in run.out + run.err
    got = rows(ws, "select s.path, p.status, p.reason from pages p join sources s on s.id = p.source_id")
    assert sorted((Path(p).name, st, r) for p, st, r in got) == [
        ("a.pdf", "failed", "empty_file"), ("b.jpg", "failed", "empty_file"), ("c.tif", "failed", "empty_file")]
    again = run_phieu("scan", box, cwd=ws)  # a re-run skips them: no new rows
    assert again.code == 0 and len(rows(ws, "select id from pages")) == 3
    (box / "a.pdf").write_bytes(b"%PDF-1.4 copied again, still damaged")  # content at last
    assert run_phieu("scan", box / "a.pdf", cwd=ws).code == 0
    assert rows(ws, "select count(*) from flags f join pages p on p.id = f.page_id where "
                    "p.reason = 'empty_file' and f.status = 'open'") == [(2,)]  # a.pdf's closed


def test_an_unreadable_file_is_a_failed_row_and_the_batch_goes_on(ws, tmp_path, run_phieu, monkeypatch):
    box = tmp_path / "box"
    box.mkdir()
    (box / "locked.pdf").write_bytes(b"%PDF-1.4 secret")
    (box / "z.jpg").write_bytes(b"")
    real = scan_inputs.sha256_file

    def no_permission(path: Path):  # root reads anything: chmod 000 cannot show it here
        if Path(path).name == "locked.pdf":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(scan_inputs, "sha256_file", no_permission)
    run = run_phieu("scan", box, cwd=ws)
    assert run.code == 0, run.err
    assert "locked.pdf" in run.err and "permission" in run.err
    got = sorted((Path(p).name, r) for p, r in rows(
        ws, "select s.path, p.reason from pages p join sources s on s.id = p.source_id"))
    assert got == [("locked.pdf", "unreadable_file"), ("z.jpg", "empty_file")]
    assert rows(ws, "select count(*) from flags where reason = 'unreadable' and status = 'open'") == [(2,)]


def test_an_unreadable_folder_is_reported_not_passed_over(ws, tmp_path, run_phieu, monkeypatch):
    box = tmp_path / "box"
    (box / "locked").mkdir(parents=True)
    (box / "locked" / "x.pdf").write_bytes(b"")
    (box / "y.jpg").write_bytes(b"")
    real = os.scandir

    def scandir(path=".", *args):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args)

    monkeypatch.setattr(os, "scandir", scandir)
    run = run_phieu("scan", box, cwd=ws)
    assert run.code == 2 and "locked" in run.err and "permission" in run.err, run.err
    assert [Path(p).name for (p,) in rows(ws, "select path from sources")] == ["y.jpg"]


def test_scanning_the_workspace_leaves_its_own_images_out(ws, run_phieu):
    (ws / "images" / "s00001").mkdir(parents=True)
    (ws / "images" / "s00001" / "p0001.jpg").write_bytes(b"not really")
    (ws / "scan.jpg").write_bytes(b"")
    run = run_phieu("scan", ".", cwd=ws)
    assert run.code == 0, run.err
    assert [Path(p).name for (p,) in rows(ws, "select path from sources")] == ["scan.jpg"]
    assert "left out 1" in run.err


def test_a_partial_file_replaced_by_new_bytes_is_finished(ws, tmp_path, run_phieu):
    path = (tmp_path / "batch.jpg").resolve()
    db = sqlite3.connect(ws / "survey.sqlite")
    db.execute("insert into batches (id, name, created_at) values (1, 'old', '2026-09-01')")
    db.execute("insert into sources (id, batch_id, path, sha256, size, kind, page_count, status, added_at) "
               f"values (1, 1, '{path}', '{'a' * 64}', 9, 'pdf', 3, 'partial', '2026-09-01')")
    db.commit()
    db.close()
    path.write_bytes(b"")  # the file now holds other bytes
    run = run_phieu("scan", path, cwd=ws)
    assert run.code == 0, run.err
    assert rows(ws, "select status from sources where id = 1") == [("complete",)]
    assert rows(ws, "select page_index, status, reason from pages where source_id = 1") == [
        (1, "failed", "file_replaced"), (2, "failed", "file_replaced"), (3, "failed", "file_replaced")]
    status = run_phieu("status", cwd=ws)
    assert "batch.jpg" not in status.out  # nothing left "to run again"


@pytest.mark.parametrize("store", ["survy.sqlite", "postgress://u@h/db", "sqlite:////nowhere/x.sqlite"])
def test_a_typo_in_store_is_refused_and_nothing_is_created(ws, run_phieu, store):
    settings = yaml.safe_load((ws / "survey.yaml").read_text(encoding="utf-8"))
    settings["store"] = store
    (ws / "survey.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    for command in (["status"], ["export", "pages", "-o", "p.csv"], ["scan", "x.jpg"]):
        (ws / "x.jpg").write_bytes(b"")
        run = run_phieu(*command, cwd=ws)
        assert run.code == 4, (command, run.err)
        assert "store" in run.err and "Traceback" not in run.err
    assert not (ws / "survy.sqlite").exists()


def test_open_store_without_create_refuses_a_missing_file(tmp_path):
    from forms.errors import SurveyError

    with pytest.raises(SurveyError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path / 'none.sqlite'}", create=False)
    assert not (tmp_path / "none.sqlite").exists()


def test_init_refuses_a_file_another_form_file_and_images_pointing_at_a_file(tmp_path, run_phieu):
    (tmp_path / "taken").write_text("x")
    run = run_phieu("init", tmp_path / "taken", "--form", "mot-cua")
    assert run.code == 2 and "is a file" in run.err and "Traceback" not in run.err
    from forms.errors import SurveyError

    with pytest.raises(SurveyError, match="is a file"):
        init_survey(tmp_path / "taken", ["mot-cua"])
    ws = tmp_path / "ws"
    (ws / "forms").mkdir(parents=True)
    (ws / "forms" / "mot-cua-v1.yaml").write_text("# my own edits\n", encoding="utf-8")
    run = run_phieu("init", ws, "--form", "mot-cua")
    assert run.code == 4 and "already exists with other content" in run.err
    assert (ws / "forms" / "mot-cua-v1.yaml").read_text(encoding="utf-8") == "# my own edits\n"
    ws2 = tmp_path / "ws2"
    assert run_phieu("init", ws2, "--form", "mot-cua").code == 0
    (ws2 / "pics").write_text("x")
    settings = yaml.safe_load((ws2 / "survey.yaml").read_text(encoding="utf-8"))
    settings["images"] = "pics"
    (ws2 / "survey.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    run = run_phieu("status", cwd=ws2)
    assert run.code == 4 and "images" in run.err


def test_init_on_a_read_only_place_says_so(tmp_path, run_phieu, monkeypatch):
    def read_only(self, *args, **kwargs):
        raise OSError(30, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)  # root writes anywhere: simulate the mount
    run = run_phieu("init", tmp_path / "ws", "--form", "mot-cua")
    assert run.code == 4 and "Read-only" in run.err and "Traceback" not in run.err


def test_a_huge_vector_pdf_page_is_rendered_whole_under_the_pixel_cap(tmp_path):
    path = tmp_path / "poster.pdf"
    side = 5000 / 25.4 * 72  # 5 m
    c = canvas.Canvas(str(path), pagesize=(side, side))
    c.rect(100, 100, side - 200, side - 200)
    c.showPage()
    c.save()
    grey = load_page(path, "pdf", 1, 200)
    assert isinstance(grey, np.ndarray)
    assert grey.size <= MAX_RENDER_PIXELS * 1.01


def test_a_damaged_multipage_tiff_keeps_its_readable_frames(tmp_path):
    path = tmp_path / "batch.tif"
    frames = [Image.new("L", (200, 300), 255 - 40 * i) for i in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    data = bytearray(path.read_bytes())
    # The second frame's link to the next frame points past the end of the file.
    ifd = struct.unpack("<I", data[4:8])[0]
    ifd = struct.unpack("<I", data[ifd + 2 + 12 * struct.unpack("<H", data[ifd:ifd + 2])[0]:][:4])[0]
    link = ifd + 2 + 12 * struct.unpack("<H", data[ifd:ifd + 2])[0]
    data[link:link + 4] = struct.pack("<I", 10**8)
    path.write_bytes(bytes(data))
    assert count_pages(probe(path)) == 3  # two readable frames and the damaged one
    assert all(isinstance(load_page(path, "tiff", i, 200), np.ndarray) for i in (1, 2))
    assert load_page(path, "tiff", 3, 200).reason == "unreadable_frame"


def test_serial_ranges_never_overlap(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    a = reserve_serials(store, "sipas", 1, 100, label="Phòng A")
    b = reserve_serials(store, "sipas", 1, 50, label="Phòng B")
    assert (a.first, a.last, b.first, b.last) == (1, 100, 101, 150)
    with pytest.raises(BadInput, match="overlap"):
        reserve_serials(store, "sipas", 1, 10, first=95)
    c = reserve_serials(store, "sipas", 1, 10, first=500)
    assert reserve_serials(store, "sipas", 1, 1).first == 510 and c.first == 500
    assert reserve_serials(store, "mot-cua", 1, 5).first == 1  # per form
    assert len(serial_ranges(store, "sipas")) == 4


def test_forms_render_for_a_survey_takes_the_next_range_and_outside_warns(ws, tmp_path, run_phieu):
    run = run_phieu("forms", "render", "mot-cua", "--survey", ws, "--copies", "2", "--label", "A",
                    "--out", tmp_path / "a.pdf")
    assert run.code == 0, run.err
    run = run_phieu("forms", "render", "mot-cua", "--survey", ws, "--copies", "3",
                    "--out", tmp_path / "b.pdf")
    assert run.code == 0 and "3–5" in run.out, run.out
    import json

    assert json.loads((tmp_path / "b.layout.json").read_text())["first_serial"] == 3
    outside = run_phieu("forms", "render", "mot-cua", "--out", tmp_path / "c.pdf")
    assert outside.code == 0 and "serials must be unique" in outside.err
