"""The synthetic ballot box as a whole: files, page counts, truth, determinism, the CLI."""
from __future__ import annotations

import hashlib
import json
import re
import subprocess

import cv2
import numpy as np
import pytest
from PIL import Image

from cli import main
from fixtures.box import make_ballot_box, mix_from_text, parse_mix, patch_region, print_patches
from fixtures.truth import BoxTruth, load_truth, truth_from_json, truth_to_json, write_truth
from fixtures.writers import page_count
from forms import layout_form, load_form, render_page_images
from forms.errors import BadInput
from forms.identity import PageIdentity, encode_payload

DPI = 100  # small pages: these tests are about files and truth, not about pixels


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    out = tmp_path_factory.mktemp("box")
    truth = make_ballot_box("sipas", 5, out, seed=4, dpi=DPI, formats=("mixed",), pages_per_file=2,
                            mix={"scan": 1, "upside_down": 1, "sideways": 1, "phone": 1, "folded": 1})
    return out, truth


@pytest.mark.slow
def test_truth_file_matches_returned_truth(box):
    out, truth = box
    assert load_truth(out) == truth
    assert load_truth(out / "truth.json") == truth


def test_every_page_is_in_a_file_that_holds_it(box):
    out, truth = box
    form = load_form("sipas")
    n_pages = len(layout_form(form).pages)
    assert len(truth.pages) == 5 * n_pages
    assert [s.serial for s in truth.sheets] == [1, 2, 3, 4, 5]
    by_file: dict[str, list[int]] = {}
    for p in truth.pages:
        by_file.setdefault(p.file, []).append(p.index)
    files = {f.name for f in out.iterdir()} - {"truth.json"}
    assert files == set(by_file)
    for name, indices in by_file.items():
        assert indices == list(range(1, len(indices) + 1))
        assert page_count(out / name) == len(indices)
        if name.endswith(".pdf"):
            info = subprocess.run(["pdfinfo", str(out / name)], capture_output=True, text=True,
                                  check=True).stdout
            assert re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1) == str(len(indices))
        elif name.endswith(".tiff"):
            with Image.open(out / name) as im:
                assert im.n_frames == len(indices)
        else:
            assert cv2.imread(str(out / name), cv2.IMREAD_UNCHANGED) is not None
    assert {n.rsplit(".", 1)[1] for n in files} == {"pdf", "tiff", "jpg", "png"}


def test_pages_of_a_sheet_follow_each_other(box):
    _, truth = box
    order = [(p.serial, p.page) for p in truth.pages]
    assert order == sorted(order)


def test_capture_kinds_and_parameters_are_recorded(box):
    _, truth = box
    kinds = {p.capture for p in truth.pages}
    assert kinds <= {"scan", "upside_down", "sideways", "phone", "folded"} and len(kinds) >= 3
    for p in truth.pages:
        assert "written" in p.params and p.params["written"]["format"] in p.file
        if p.capture != "phone":
            assert p.params["dpi"] == DPI


@pytest.mark.slow
def test_same_seed_same_bytes_other_seed_other_box(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder, seed in ((a, 1), (b, 1), (c, 2)):
        make_ballot_box("mot-cua", 3, folder, seed=seed, dpi=DPI, formats=("pdf", "tiff", "jpg"),
                        pages_per_file=1)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_printed_patch_is_the_renderers_qr_and_serial():
    """The per-sheet patch comes from the real renderer: pasted into the blank of
    serial 1 it gives exactly the renderer's own page for that serial."""
    form = load_form("mot-cua")
    geo = layout_form(form).pages[0].geometry
    blank = render_page_images(form, DPI, serial=1)[0]
    region = patch_region([geo], DPI / 25.4, blank.shape)
    (patch,) = print_patches(form, 8, 1, DPI, region)
    x0, y0, x1, y1 = region
    pasted = blank.copy()
    pasted[y0:y1, x0:x1] = patch
    assert np.array_equal(pasted, render_page_images(form, DPI, serial=8)[0])
    assert geo.qr_bbox_mm[0] * DPI / 25.4 >= x0 and geo.serial_bbox_mm[1] * DPI / 25.4 < y1
    assert not np.array_equal(patch, blank[y0:y1, x0:x1])  # serial 8 is not serial 1


@pytest.mark.slow
def test_qr_of_each_page_carries_its_serial(tmp_path):
    import zxingcpp

    truth = make_ballot_box("mot-cua", 2, tmp_path, seed=3, dpi=200, formats=("png",),
                            mix={"scan": 1}, first_serial=41)
    form = load_form("mot-cua")
    for p in truth.pages:
        image = cv2.imread(str(tmp_path / p.file), cv2.IMREAD_GRAYSCALE)
        texts = [r.text for r in zxingcpp.read_barcodes(image)]
        assert encode_payload(PageIdentity(form.id, form.version, p.page, p.serial)) in texts


def test_truth_round_trips_and_bad_truth_is_refused(box, tmp_path):
    _, truth = box
    assert truth_from_json(json.loads(json.dumps(truth_to_json(truth)))) == truth
    path = write_truth(truth, tmp_path / "t.json")
    assert load_truth(path) == truth
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    with pytest.raises(BadInput, match="bad.json"):
        load_truth(tmp_path / "bad.json")
    with pytest.raises(BadInput, match="nowhere"):
        load_truth(tmp_path / "nowhere")
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(BadInput, match="broken.json"):
        load_truth(tmp_path / "broken.json")


def test_mix_is_checked():
    assert parse_mix({"scan": 3, "phone": 1}) == {"scan": 0.75, "phone": 0.25}
    with pytest.raises(BadInput, match="fax"):
        parse_mix({"fax": 1})
    with pytest.raises(BadInput, match="zero"):
        parse_mix({"scan": 0})
    with pytest.raises(BadInput, match="-1"):
        parse_mix({"scan": -1})
    assert mix_from_text("scan=0.6, phone=0.4") == {"scan": 0.6, "phone": 0.4}
    with pytest.raises(BadInput, match="phone"):
        mix_from_text("scan=0.6,phone")


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(BadInput, match="sheets"):
        make_ballot_box("mot-cua", 0, tmp_path)
    with pytest.raises(BadInput, match="gif"):
        make_ballot_box("mot-cua", 1, tmp_path, formats=("gif",))
    with pytest.raises(BadInput, match="1.5"):
        make_ballot_box("mot-cua", 1, tmp_path, comment_rate=1.5)
    with pytest.raises(BadInput, match="600"):
        make_ballot_box("mot-cua", 1, tmp_path, dpi=1200)


def test_synth_command(tmp_path, capsys):
    out = tmp_path / "hom"
    code = main(["synth", "--form", "mot-cua", "--sheets", "2", "--out", str(out), "--seed", "5",
                 "--dpi", "100", "--mix", "scan=0.5,phone=0.5", "--format", "tiff"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "2" in printed and str(out) in printed
    truth = load_truth(out)
    assert isinstance(truth, BoxTruth) and len(truth.sheets) == 2
    assert {p.capture for p in truth.pages} <= {"scan", "phone"}
    assert all(p.file.endswith(".tiff") for p in truth.pages)


def test_synth_command_reports_a_bad_mix_in_one_line(tmp_path, capsys):
    code = main(["synth", "--form", "mot-cua", "--sheets", "1", "--out", str(tmp_path),
                 "--mix", "scan=abc"])
    assert code != 0
    err = capsys.readouterr().err.strip()
    assert "scan=abc" in err and "\n" not in err


def test_a_new_box_replaces_an_old_one_in_the_same_folder(tmp_path):
    make_ballot_box("mot-cua", 3, tmp_path, seed=1, dpi=DPI, formats=("jpg",), mix={"scan": 1})
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    truth = make_ballot_box("mot-cua", 1, tmp_path, seed=1, dpi=DPI, formats=("pdf",), mix={"scan": 1})
    files = {p.name for p in tmp_path.iterdir()}
    assert files == {p.file for p in truth.pages} | {"truth.json", "notes.txt"}
