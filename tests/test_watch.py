"""`phieu watch`: a file is read only once complete, a duplicate is skipped by content,
a stopped watch resumes with nothing lost or doubled, files move only when asked."""
from __future__ import annotations

from pathlib import Path

import cv2
import pytest
import sqlalchemy as sa

from forms.library import load_form
from forms.render import render_page_images, render_pdf
from pipeline.scan import driver
from pipeline.scan.templates import prepare_forms
from pipeline.scan.watch import Watcher, ends_complete, watch
from pipeline.store import schema
from pipeline.store.database import open_store
from pipeline.store.survey import init_survey

pytestmark = pytest.mark.slow  # a watched folder polled


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("watch-printed")
    form = load_form("mot-cua")
    for serial in (11, 12):
        page = render_page_images(form, 150, serial=serial)[0]
        cv2.imwrite(str(root / f"sheet{serial}.png"), page)
    render_pdf(form, root / "three.pdf", copies=3, first_serial=21)
    return root


@pytest.fixture(scope="module")
def prepared():
    return prepare_forms([load_form("mot-cua")])


@pytest.fixture
def survey(tmp_path):
    return init_survey(tmp_path / "ws", ["mot-cua"])


@pytest.fixture
def inbox(tmp_path) -> Path:
    folder = tmp_path / "scan-to-folder"
    folder.mkdir()
    return folder


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _pages(survey) -> list[tuple[str, int, str, int | None]]:
    s, p = schema.sources, schema.pages
    store = open_store(survey.store_url)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(s.c.path, p.c.page_index, p.c.status, p.c.serial)
                            .join(s, s.c.id == p.c.source_id).order_by(p.c.id)).all()
    store.engine.dispose()
    return [(Path(r.path).name, r.page_index, r.status, r.serial) for r in rows]


def test_a_file_written_in_chunks_is_read_only_when_complete(survey, inbox, printed, prepared):
    clock = Clock()
    watcher = Watcher(survey, [inbox], prepared=prepared, settle=2.0, jobs=1, clock=clock)
    data = (printed / "sheet11.png").read_bytes()
    target = inbox / "copier-0001.png"
    chunks = [data[i:i + len(data) // 4 + 1] for i in range(0, len(data), len(data) // 4 + 1)]
    with open(target, "wb") as fh:
        for chunk in chunks[:-1]:
            fh.write(chunk)
            fh.flush()
            assert watcher.poll() == []
            clock.sleep(0.5)  # the copier's pause between writes, shorter than settle
        # The copier stalls longer than `settle`: the file is stable but does not end as a
        # PNG ends, so it is still not taken.
        clock.sleep(10)
        assert watcher.poll() == [] and not ends_complete(target)
        fh.write(chunks[-1])
    assert watcher.poll() == []  # changed since the last look: the wait starts again
    clock.sleep(1.0)
    assert watcher.poll() == [] and _pages(survey) == []
    clock.sleep(1.5)
    events = watcher.poll()
    assert [e.kind for e in events] == ["stored"]
    assert "số 11" in events[0].text and "copier-0001.png" in events[0].text
    assert _pages(survey) == [("copier-0001.png", 1, "read", 11)]
    clock.sleep(5)
    assert watcher.poll() == []  # taken once


def test_a_file_renamed_into_place_is_read_after_one_settle(survey, inbox, printed, prepared):
    clock = Clock()
    watcher = Watcher(survey, [inbox], prepared=prepared, settle=2.0, jobs=1, clock=clock)
    (inbox / "scan.png.part").write_bytes((printed / "sheet12.png").read_bytes())
    assert watcher.poll() == []  # a temporary name is not a scan
    (inbox / "scan.png.part").rename(inbox / "scan.png")
    assert watcher.poll() == []
    clock.sleep(2.0)
    assert [e.kind for e in watcher.poll()] == ["stored"]
    assert _pages(survey) == [("scan.png", 1, "read", 12)]


def test_each_new_file_is_hashed_once(survey, inbox, printed, prepared, monkeypatch):
    from pipeline.scan import inputs
    from pipeline.scan import watch as watch_module

    hashed: list[str] = []
    real = inputs.sha256_file

    def counted(path):
        hashed.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(inputs, "sha256_file", counted)
    monkeypatch.setattr(watch_module, "sha256_file", counted, raising=False)  # wherever it is named
    clock = Clock()
    watcher = Watcher(survey, [inbox], prepared=prepared, settle=1.0, jobs=1, clock=clock)
    (inbox / "one.png").write_bytes((printed / "sheet12.png").read_bytes())
    assert watcher.poll() == []
    clock.sleep(1.0)
    assert [e.kind for e in watcher.poll()] == ["stored"]
    assert hashed == ["one.png"]  # known by its hash, then scanned without hashing it again


def test_a_duplicate_is_skipped_by_content_and_nothing_moves_unasked(survey, inbox, printed, prepared):
    clock = Clock()
    (inbox / "a.png").write_bytes((printed / "sheet11.png").read_bytes())
    (inbox / "b.png").write_bytes((printed / "sheet11.png").read_bytes())  # same content, one look
    lines: list[str] = []
    watch(survey, [inbox], on_event=lambda e: lines.append(e.text), prepared=prepared, settle=1.0,
          jobs=1, max_polls=3, sleep=clock.sleep, clock=clock)
    (inbox / "later-copy.png").write_bytes((printed / "sheet11.png").read_bytes())  # a later look
    totals = watch(survey, [inbox], on_event=lambda e: lines.append(e.text), prepared=prepared,
                   settle=1.0, jobs=1, max_polls=3, sleep=clock.sleep, clock=clock)
    assert _pages(survey) == [("a.png", 1, "read", 11)]
    assert any("b.png" in line and "a.png" in line for line in lines)
    assert any(line.startswith("later-copy.png: đã có / already stored") for line in lines)
    assert totals.stored == 0 and totals.known == 3  # the restart sees a and b again
    assert sorted(p.name for p in inbox.iterdir()) == ["a.png", "b.png", "later-copy.png"]


@pytest.mark.slow
def test_a_stopped_watch_resumes_with_nothing_lost_or_doubled(survey, inbox, printed, prepared,
                                                              monkeypatch, tmp_path):
    clock = Clock()
    (inbox / "three.pdf").write_bytes((printed / "three.pdf").read_bytes())
    (inbox / "sheet12.png").write_bytes((printed / "sheet12.png").read_bytes())
    real_record = driver.record_page
    calls = {"n": 0}

    def record_then_stop(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # Ctrl-C while the second page is being stored
        return real_record(*args, **kwargs)

    monkeypatch.setattr(driver, "record_page", record_then_stop)
    first = watch(survey, [inbox], on_event=lambda e: None, prepared=prepared, settle=1.0, jobs=1,
                  max_polls=10, sleep=clock.sleep, clock=clock)
    assert first.stored == 0
    assert len(_pages(survey)) == 1  # one page stored, the rest not yet
    monkeypatch.setattr(driver, "record_page", real_record)

    # Started again, now moving finished files away.
    done = tmp_path / "done"
    lines: list[str] = []
    watch(survey, [inbox], on_event=lambda e: lines.append(e.text), prepared=prepared, settle=1.0,
          jobs=1, move_done=done, max_polls=4, sleep=clock.sleep, clock=clock)
    pages = _pages(survey)
    assert sorted((name, index) for name, index, _, _ in pages) == [
        ("sheet12.png", 1), ("three.pdf", 1), ("three.pdf", 2), ("three.pdf", 3)]
    assert sorted(serial for *_, serial in pages) == [12, 21, 22, 23]
    assert {status for _, _, status, _ in pages} == {"read"}
    assert any("Tiếp tục / resuming" in line for line in lines)
    assert sorted(p.name for p in done.iterdir()) == ["sheet12.png", "three.pdf"]
    assert list(inbox.iterdir()) == []
    store = open_store(survey.store_url)
    with store.engine.connect() as conn:
        statuses = conn.execute(sa.select(schema.sources.c.status)).scalars().all()
        sheets = conn.execute(sa.select(sa.func.count()).select_from(schema.sheets)).scalar()
    store.engine.dispose()
    assert statuses == ["complete", "complete"] and sheets == 4


def test_idle_exit_ends_a_bounded_run(survey, inbox, prepared):
    clock = Clock()
    totals = watch(survey, [inbox], on_event=lambda e: None, prepared=prepared, idle_exit=5,
                   interval=1.0, sleep=clock.sleep, clock=clock)
    assert totals.polls == 6 and totals.stored == 0


@pytest.mark.slow
def test_watch_command_reads_a_folder(run_phieu, tmp_path, printed, inbox):
    ws = tmp_path / "cli-ws"
    assert run_phieu("init", ws, "--form", "mot-cua").code == 0
    (inbox / "sheet12.png").write_bytes((printed / "sheet12.png").read_bytes())
    result = run_phieu("watch", inbox, "--survey", ws, "--settle", "0.2", "--interval", "0.2",
                       "--idle-exit", "0.5", "-j", "1")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert any(line.startswith("sheet12.png: phiếu/sheet mot-cua số 12") for line in lines)
    assert lines[-1].startswith("Đã dừng / stopped: 1 tệp mới/new files")
    assert (inbox / "sheet12.png").exists()  # never moved unasked


@pytest.mark.slow
def test_ctrl_c_stops_the_watch_cleanly(phieu_process, tmp_path, printed, inbox):
    import signal
    import time

    ws = tmp_path / "sig-ws"
    init_survey(ws, ["mot-cua"])
    (inbox / "sheet11.png").write_bytes((printed / "sheet11.png").read_bytes())
    proc = phieu_process("watch", inbox, "--survey", ws, "--settle", "0.2", "--interval", "0.2",
                         "-j", "1", cwd=tmp_path)
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if line.startswith("sheet11.png:"):
            break
    assert lines[-1].startswith("sheet11.png: phiếu/sheet mot-cua số 11"), lines
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.strip().splitlines()[-1].startswith("Đã dừng / stopped: 1 tệp mới/new files")
    assert "Traceback" not in err


def test_a_file_that_never_ends_is_taken_after_a_minute_as_damaged(survey, inbox, printed, prepared):
    from pipeline.scan.watch import GIVE_UP_WAITING_S

    clock = Clock()
    watcher = Watcher(survey, [inbox], prepared=prepared, settle=2.0, jobs=1, clock=clock)
    data = (printed / "three.pdf").read_bytes()
    (inbox / "cut.pdf").write_bytes(data[: len(data) // 2])  # a copy that died half-way
    assert not ends_complete(inbox / "cut.pdf") and ends_complete(printed / "three.pdf")
    assert watcher.poll() == []
    clock.sleep(GIVE_UP_WAITING_S - 1)
    assert watcher.poll() == []  # still waited for
    clock.sleep(1)
    events = watcher.poll()
    assert [e.kind for e in events if e.kind == "stored"] == ["stored"]
    assert "corrupt_pdf" in events[-1].text
    assert _pages(survey) == [("cut.pdf", 1, "failed", None)]
