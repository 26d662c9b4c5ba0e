"""The on-disk cache of prepared blanks: the same templates as rendering afresh, keyed by
the form's content, and a corrupt or foreign cache file is never trusted."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from forms.layout import layout_form
from forms.library import load_form
from pipeline.scan import blank_cache
from pipeline.scan.templates import BLANK_DPI, canonical_blanks, prepare_templates

pytestmark = pytest.mark.slow  # fresh processes preparing forms


@pytest.fixture(scope="module")
def form():
    return load_form("mot-cua")


def _entry(form, cache_dir):
    from omr.template import CANON_PX_PER_MM

    return blank_cache.cache_path(cache_dir, form, blank_cache.blank_key(form, BLANK_DPI, CANON_PX_PER_MM))


def test_cached_templates_equal_fresh_ones(form, tmp_path):
    fresh = prepare_templates([form], cache=False)
    prepare_templates([form], cache_dir=tmp_path)  # fills the cache
    assert _entry(form, tmp_path).is_file()
    cached = prepare_templates([form], cache_dir=tmp_path)
    for number, page in fresh.get(form.id, form.version).pages.items():
        other = cached.get(form.id, form.version).pages[number]
        assert np.array_equal(page.blank, other.blank)
        for a, b in zip(page.targets, other.targets, strict=True):
            assert np.array_equal(a.printed, b.printed) and np.array_equal(a.region, b.region)


def test_the_key_follows_the_form_content(form):
    changed = dataclasses.replace(form, title=form.title + " (sửa)")
    assert blank_cache.blank_key(form, BLANK_DPI, 6.0) == blank_cache.blank_key(form, BLANK_DPI, 6.0)
    assert blank_cache.blank_key(form, BLANK_DPI, 6.0) != blank_cache.blank_key(changed, BLANK_DPI, 6.0)
    assert blank_cache.blank_key(form, BLANK_DPI, 6.0) != blank_cache.blank_key(form, 300, 6.0)


def test_a_corrupt_or_foreign_cache_file_is_rebuilt(form, tmp_path):
    layout = layout_form(form)
    good = canonical_blanks(form, layout, cache_dir=tmp_path)
    path = _entry(form, tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # truncated (a crash, a full disk)
    assert blank_cache.load_blanks(path, "x", 1, good[0].shape) is None
    again = canonical_blanks(form, layout, cache_dir=tmp_path)
    assert all(np.array_equal(a, b) for a, b in zip(good, again, strict=True))
    assert path.read_bytes() != data[: len(data) // 2]  # rewritten whole
    # A file holding another key (renamed by hand, a collision) is not taken.
    key = blank_cache.blank_key(form, BLANK_DPI, 6.0)
    assert blank_cache.load_blanks(path, key, len(layout.pages), good[0].shape) is not None
    assert blank_cache.load_blanks(path, "0" * 64, len(layout.pages), good[0].shape) is None
    # Pixels flipped inside the archive fail its checksum.
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    assert blank_cache.load_blanks(path, key, len(layout.pages), good[0].shape) is None


def test_an_unwritable_cache_only_costs_time(form, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    blanks = canonical_blanks(form, layout_form(form), cache_dir=blocked)
    assert len(blanks) == len(layout_form(form).pages)


def test_an_entry_interrupted_while_written_is_never_under_its_name(tmp_path, monkeypatch):
    from collections import Counter

    from forms import durable

    monkeypatch.setattr(durable, "_REACHED", Counter())
    monkeypatch.setenv(durable.FAULT_ENV, "cache.write@1:raise")
    entry = tmp_path / "blanks" / "f-v1-key.npz"
    with pytest.raises(durable.FaultInjected):
        blank_cache.save_blanks(entry, "key", [np.zeros((4, 3), np.uint8)])
    assert list(entry.parent.iterdir()) == []  # neither the entry nor a temporary file
    monkeypatch.delenv(durable.FAULT_ENV)
    assert blank_cache.save_blanks(entry, "key", [np.zeros((4, 3), np.uint8)])
    assert blank_cache.load_blanks(entry, "key", 1, (4, 3)) is not None


def test_the_key_is_the_same_in_every_process():
    """A form holds sets (a scale's satisfied codes), whose order Python randomises per
    process: the key must not follow it, or no run would ever find the last one's blank."""
    import os
    import subprocess
    import sys

    code = ("from forms.library import load_form; from pipeline.scan import blank_cache; "
            "print(blank_cache.blank_key(load_form('sipas'), 200, 6.0))")
    keys = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout
            for seed in range(1, 7)}
    assert len(keys) == 1
