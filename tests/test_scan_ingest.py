"""Ingest: files and folders to sources, page counts, pages loaded one at a time, and
every kind of bad input turned into a reason (never an exception that stops a batch)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from forms.errors import BadInput
from pipeline.scan.inputs import IngestProblem, count_pages, expand_paths, load_page, probe


def make_pdf(path: Path, pages: int, encrypt: str | None = None) -> Path:
    c = canvas.Canvas(str(path), encrypt=encrypt)
    for i in range(pages):
        c.drawString(100, 700, f"trang {i + 1}")
        c.showPage()
    c.save()
    return path


def make_tiff(path: Path, frames: int) -> Path:
    images = [Image.fromarray(np.full((60, 40), 40 * i, np.uint8)) for i in range(frames)]
    images[0].save(path, save_all=True, append_images=images[1:], compression="tiff_deflate")
    return path


def test_folders_expand_recursively_sorted_and_skip_non_scans(tmp_path):
    (tmp_path / "b").mkdir()
    for name in ("b/2.jpg", "a.PDF", "b/10.png", "b/1.png", "notes.txt", ".hidden.png"):
        (tmp_path / name).write_bytes(b"x")
    out = expand_paths([tmp_path])
    assert [p.name for p in out.files] == ["a.PDF", "1.png", "2.jpg", "10.png"]
    assert sorted(p.name for p in out.skipped) == [".hidden.png", "notes.txt"]


def test_explicit_files_are_always_taken_once(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("không phải ảnh")
    assert expand_paths([f, f]).files == (f.resolve(),)


def test_no_input_is_a_clear_error(tmp_path):
    with pytest.raises(BadInput, match="no scan files"):
        expand_paths([tmp_path])
    with pytest.raises(BadInput, match="not found"):
        expand_paths([tmp_path / "missing.pdf"])


def test_pdf_pages_are_counted_and_rasterised_one_at_a_time(tmp_path):
    pdf = probe(make_pdf(tmp_path / "box.pdf", 3))
    assert pdf.kind == "pdf" and count_pages(pdf) == 3
    page = load_page(pdf.path, "pdf", 2, 100)
    assert page.dtype == np.uint8 and page.ndim == 2
    assert abs(page.shape[0] - round(11.69 * 100)) <= 2  # A4/Letter height at 100 dpi


def test_tiff_frames_load_one_by_one(tmp_path):
    tif = probe(make_tiff(tmp_path / "box.tif", 3))
    assert tif.kind == "tiff" and count_pages(tif) == 3
    assert int(load_page(tif.path, "tiff", 3, 200)[0, 0]) == 80


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("empty.pdf", b"", "empty_file"),
        ("corrupt.pdf", b"%PDF-1.4\n1 0 obj garbage", "corrupt_pdf"),
        ("notes.jpg", "Đây không phải là ảnh".encode(), "not_an_image"),
    ],
    ids=["empty", "corrupt", "text-named-jpg"],
)
def test_bad_files_give_a_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    problem = count_pages(probe(path))
    assert isinstance(problem, IngestProblem) and not problem
    assert problem.reason == reason and name in problem.message


def test_password_protected_pdf_is_recognised(tmp_path):
    problem = count_pages(probe(make_pdf(tmp_path / "locked.pdf", 1, encrypt="bí-mật")))
    assert isinstance(problem, IngestProblem) and problem.reason == "encrypted_pdf"
    assert "password" in problem.message


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow says so on the cut file
def test_a_damaged_tiff_frame_is_a_reason(tmp_path):
    tif = make_tiff(tmp_path / "box.tif", 2)
    data = bytearray(tif.read_bytes())
    # Cut the file so that the second frame's data is gone but both IFDs may still parse.
    truncated = tmp_path / "cut.tif"
    truncated.write_bytes(bytes(data[: len(data) * 2 // 3]))
    results = [load_page(truncated, "tiff", i, 200) for i in (1, 2)]
    assert any(isinstance(r, IngestProblem) and r.reason == "unreadable_frame" for r in results)


def test_file_kind_comes_from_content_not_name(tmp_path):
    pdf = make_pdf(tmp_path / "scan.jpg", 1)  # misnamed
    assert probe(pdf).kind == "pdf"


def test_a_scanned_pdf_page_is_extracted_not_rendered(tmp_path):
    """A page that is one full-page JPEG (a feeder scan) takes the fast path and gives the
    same picture as rendering it; a vector page is rendered."""
    from reportlab.lib.pagesizes import A4

    from pipeline.scan.inputs import scanned_pdf_pages

    rng = np.random.default_rng(0)
    scan = np.full((1170, 827), 235, np.uint8)  # A4 at ~100 dpi
    scan[200:400, 100:700] = rng.integers(0, 120, (200, 600), dtype=np.uint8)
    jpg = tmp_path / "scan.jpg"
    Image.fromarray(scan).save(jpg, quality=90)
    pdf = tmp_path / "mixed.pdf"
    c = canvas.Canvas(str(pdf), pagesize=A4)
    c.drawImage(str(jpg), 0, 0, width=A4[0], height=A4[1])
    c.showPage()
    c.drawString(100, 700, "trang chữ / a vector page")
    c.showPage()
    c.save()
    direct = scanned_pdf_pages(pdf, 2)
    assert list(direct) == [1] and 99 <= direct[1] <= 102
    fast = load_page(pdf, "pdf", 1, 100, direct[1])
    slow = load_page(pdf, "pdf", 1, 100)
    assert fast.shape == scan.shape
    assert abs(fast.shape[0] - slow.shape[0]) <= 2
    assert abs(float(fast.mean()) - float(slow.mean())) < 2.0
    assert load_page(pdf, "pdf", 2, 100, 0.0).shape == slow.shape


def test_a_reader_crash_or_a_vanished_file_is_a_failed_page_not_a_stopped_batch(tmp_path, monkeypatch):
    """Injected failures: the reader raising on one page, a file deleted after triage."""
    import omr
    from pipeline.scan.inputs import PageTask
    from pipeline.scan.workers import PageReader

    def crash(image, catalog):
        raise RuntimeError("boom")

    monkeypatch.setattr(omr, "read_page", crash)
    img = tmp_path / "page.png"
    Image.fromarray(np.full((300, 200), 200, np.uint8)).save(img)
    result = PageReader(catalog=None).read(PageTask(1, str(img), "image", 1, 200))
    assert result.problem.reason == "reader_error" and "boom" in result.problem.message
    assert result.page_jpeg  # the page is still kept for a person to look at
    img.unlink()
    gone = PageReader(catalog=None).read(PageTask(1, str(img), "image", 1, 200))
    assert gone.problem.reason == "unreadable_file" and "page.png" in gone.problem.message


def test_files_are_described_once_before_the_store_is_asked(tmp_path):
    """Ingest's one pass: every file hashed, probed and its pages counted, in order; the
    same bytes twice read once; a file with no page says why."""
    from pipeline.scan.inputs import describe_files, page_tasks

    a, b, empty = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "empty.pdf"
    Image.fromarray(np.full((300, 200), 200, np.uint8)).save(a)
    b.write_bytes(a.read_bytes())
    empty.write_bytes(b"")
    first, again, nothing = describe_files([a, b, empty])
    assert first.pages == 1 and first.repeat_of is None
    assert again.repeat_of == a and again.source.sha256 == first.source.sha256
    assert not nothing.pages and nothing.pages.reason == "empty_file"
    tasks = page_tasks(first, source_id=7, indexes=[1], dpi=200)
    assert [(t.source_id, t.index, t.kind, t.dpi) for t in tasks] == [(7, 1, "image", 200)]
    assert page_tasks(first, source_id=7, indexes=[], dpi=200) == ()
