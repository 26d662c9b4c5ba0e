"""Several writers on one PostgreSQL survey: nothing lost, nothing counted twice.

First the races themselves, made to happen on purpose with hand-built readings (as in
test_store.py): a transaction holds its work open while a second one on the same sheet
starts, which is exactly when a check-then-write goes wrong. Then two real `phieu scan`
processes, two stations, on overlapping inputs (the same files at both, and a second,
re-encoded copy of one ballot), checked against the generator's truth.
"""
from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import cv2
import pytest
import sqlalchemy as sa
from test_pipeline_e2e import assert_answers_match_truth, read_csv
from test_store import FORMS, reading, result

from fixtures.box import make_ballot_box
from pipeline.scan.recorder import flag_missing_pages, record_page
from pipeline.store import schema
from pipeline.store.database import (
    get_or_create_batch,
    open_store,
    refresh_sheet_status,
    resolve_flags,
    utcnow,
)

pytestmark = pytest.mark.slow  # two stations scanning into one PostgreSQL store

HOLD_S = 0.6  # how long the first writer keeps its transaction open


@pytest.fixture
def pg_store(postgres_server):
    store = open_store(postgres_server.new_database(f"t_race_{time.monotonic_ns()}"))
    with store.engine.begin() as conn:
        batch = get_or_create_batch(conn, "b1")
        for sid in (1, 2, 3):
            conn.execute(sa.insert(schema.sources).values(
                id=sid, batch_id=batch, path=f"/scans/box{sid}.pdf", sha256=f"{sid:064d}",
                size=1, kind="pdf", page_count=10, status="partial", added_at=utcnow()))
    yield store
    store.engine.dispose()


def _put(conn, source_id, index, page_reading):
    return record_page(conn, result(source_id, index, page_reading), batch_id=1, forms=FORMS,
                       relative=str, page_path=None, crop_paths={})


def _slow_and_fast(store, slow, fast):
    """Run `slow(conn)` in a transaction held open HOLD_S after it, and `fast(conn)` in
    another started while the first is open; returns (slow's result, fast's result)."""
    out: dict[str, object] = {}
    inside = threading.Event()

    def first() -> None:
        with store.engine.begin() as conn:
            out["slow"] = slow(conn)
            inside.set()
            time.sleep(HOLD_S)

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(30)
    with store.engine.begin() as conn:
        out["fast"] = fast(conn)
    thread.join()
    return out["slow"], out["fast"]


def _read_pages(store, serial):
    p = schema.pages
    with store.engine.connect() as conn:
        return conn.execute(sa.select(p.c.page_number, p.c.status)
                            .where(p.c.serial == serial).order_by(p.c.id)).all()


def test_two_stations_storing_copies_of_one_page_count_it_once(pg_store):
    # Page 1 of a two-page sheet is stored: the sheet row exists, so nothing in the
    # INSERT of the sheet makes the second station wait — only the sheet's lock does.
    with pg_store.engine.begin() as conn:
        assert _put(conn, 1, 1, reading(300, form="toy2", page=1)).status == "read"
    slow, fast = _slow_and_fast(pg_store,
                                lambda c: _put(c, 2, 1, reading(300, form="toy2", page=2)),
                                lambda c: _put(c, 3, 1, reading(300, form="toy2", page=2)))
    assert (slow.status, fast.status) == ("read", "duplicate")
    assert sorted(_read_pages(pg_store, 300)) == [(1, "read"), (2, "duplicate"), (2, "read")]


def test_a_new_serial_at_two_stations_at_once_is_one_sheet(pg_store):
    slow, fast = _slow_and_fast(pg_store, lambda c: _put(c, 1, 1, reading(101, q1=("2",))),
                                lambda c: _put(c, 2, 1, reading(101, q1=("3",))))
    assert (slow.status, fast.status) == ("read", "duplicate")
    a = schema.answers
    with pg_store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.sheets)).scalar_one() == 1
        assert conn.execute(sa.select(a.c.value).where(a.c.question == "q1")).scalars().all() == ["2"]


def test_end_of_scan_check_does_not_flag_a_page_another_station_is_storing(pg_store):
    with pg_store.engine.begin() as conn:
        _put(conn, 1, 1, reading(300, form="toy2", page=1))
    # Station B stores page 2 (held open); station A's end-of-scan check runs meanwhile.
    _slow_and_fast(pg_store, lambda c: _put(c, 2, 1, reading(300, form="toy2", page=2)),
                   lambda c: flag_missing_pages(c, FORMS))
    f = schema.flags
    with pg_store.engine.connect() as conn:
        open_flags = conn.execute(sa.select(f.c.reason).where(f.c.status == "open")).scalars().all()
        status = conn.execute(sa.select(schema.sheets.c.status)).scalar_one()
    assert open_flags == [] and status == "counted"


def test_two_reviewers_closing_two_flags_of_one_sheet_leave_it_reviewed(pg_store):
    with pg_store.engine.begin() as conn:
        _put(conn, 1, 1, reading(101, q1=("1", "2"), q1_status="flagged",
                                 reasons=("overvote", "marginal")))
    s = schema.sheets
    with pg_store.engine.connect() as conn:
        sheet_id, status = conn.execute(sa.select(s.c.id, s.c.status)).one()
    assert status == "needs_review"

    def decide(reason):
        def run(conn):
            resolve_flags(conn, sheet_id=sheet_id, reason=reason, resolution=f"person: {reason}")
            return refresh_sheet_status(conn, sheet_id)
        return run

    first, second = _slow_and_fast(pg_store, decide("overvote"), decide("marginal"))
    # Without the sheet's lock each saw the other's flag still open: needs_review forever.
    assert (first, second) == ("needs_review", "reviewed")
    with pg_store.engine.connect() as conn:
        assert conn.execute(sa.select(s.c.status)).scalar_one() == "reviewed"


STATION_SHEETS = 10


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    root = tmp_path_factory.mktemp("box")
    truth = make_ballot_box("mot-cua", STATION_SHEETS, root / "box", seed=5, formats=("images",),
                            mix={"scan": 1.0})
    return root / "box", truth


def test_two_scan_stations_on_overlapping_inputs_match_the_truth(box, postgres_server, tmp_path,
                                                                 run_phieu, phieu_process):
    folder, truth = box
    files = sorted({p.file for p in truth.pages})
    assert len(files) == STATION_SHEETS  # one image per sheet
    # A second capture of the first ballot: other bytes (another file), the same serial.
    again = tmp_path / "rescan" / ("again-" + Path(files[0]).stem + ".jpg")
    again.parent.mkdir()
    cv2.imwrite(str(again), cv2.imread(str(folder / files[0])), [cv2.IMWRITE_JPEG_QUALITY, 90])
    station_a = [folder / f for f in files[:7]]
    station_b = [again] + [folder / f for f in files[3:]]  # files 4-7 at both stations

    url = postgres_server.new_database(f"t_stations_{time.monotonic_ns()}")
    ws = tmp_path / "ws"  # one shared workspace folder: forms, settings, images
    assert run_phieu("init", ws, "--form", "mot-cua", "--store", url).code == 0
    procs = [phieu_process("scan", *paths, "--jobs", "1", cwd=ws)
             for paths in (station_a, station_b)]
    accounted = 0
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        # Each station's summary accounts for each of its pages (one per file here): read,
        # duplicate, stored by the other station while this one was reading it, or in a
        # file the other station had finished before this one came to it.
        counts = re.search(r"pages read: (\d+)(?:, [^,]*duplicates: (\d+))?"
                           r"(?:, [^:]*another scan meanwhile: (\d+))?", out)
        skipped = re.search(r"\((\d+) đã quét trước/already scanned", out)
        accounted += sum(int(n or 0) for n in counts.groups()) + int(skipped.group(1))
    assert accounted == len(station_a) + len(station_b)

    assert run_phieu("export", "pages", "-o", ws / "pages.csv", cwd=ws).code == 0
    pages = read_csv(ws / "pages.csv")
    # Every distinct file once, whichever station stored it; the rescan a duplicate.
    assert sorted(Path(s).name for s in pages.source) == sorted(files + [again.name])
    by_file = dict(zip((Path(s).name for s in pages.source), pages.status))
    assert by_file.pop(again.name) in {"duplicate", "read"}
    counted = [s for s in pages.status if s == "read"]
    assert len(counted) == STATION_SHEETS and list(pages.status).count("duplicate") == 1

    assert run_phieu("export", "responses", "-o", ws / "responses.csv", cwd=ws).code == 0
    responses = read_csv(ws / "responses.csv")
    assert sorted(map(int, responses.serial)) == [s.serial for s in truth.sheets]
    assert assert_answers_match_truth(responses, truth) > STATION_SHEETS * 4
    first = responses.set_index("serial").loc[str(truth.sheets[0].serial)]
    assert first["status"] == "needs_review"  # the duplicate waits for a person
    assert all((ws / "images").rglob("*.jpg")) and not list((ws / "images").rglob("*.tmp"))
