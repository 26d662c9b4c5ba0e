"""The survey's forms, prepared for the recorder (`form_infos`, cheap) and for the
reader (`prepare_templates`: blank pages rendered and templates precomputed, ~1 s a form,
or ~0.3 s when the blank is in the on-disk cache, `pipeline.scan.blank_cache`), and both at
once for a process that stays up (`prepare_forms`: `phieu watch`, the capture page)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.scan.recorder import FormInfo

# Blank reference pages are rendered at this resolution and resampled by omr to its
# canonical scale (6 px/mm, ~152 dpi); rendering above it keeps printed edges crisp
# after resampling, and it is done once per scan.
BLANK_DPI = 200


def form_info(form: Any, layout: Any | None = None) -> FormInfo:
    """A form's page count, question types and question pages (from its layout)."""
    from forms.layout import layout_form

    layout = layout or layout_form(form)
    return FormInfo(
        form_id=form.id,
        version=form.version,
        page_count=len(layout.pages),
        question_types={q.id: q.type for q in form.questions()},
        question_pages=dict(layout.question_pages),
    )


def form_infos(forms: Iterable[Any]) -> dict[tuple[str, int], FormInfo]:
    """`FormInfo` of each form, keyed by (form id, version)."""
    return {(f.id, f.version): form_info(f) for f in forms}


def canonical_blanks(form: Any, layout: Any, *, cache: bool = True,
                     cache_dir: Path | None = None) -> list[Any]:
    """`form`'s blank pages at omr's canonical scale: from the on-disk cache when it
    holds this exact form (drawn by this code), else rendered at `BLANK_DPI` and kept."""
    from forms.geometry import PAGE_SIZE_MM
    from forms.render import render_page_images
    from omr.template import CANON_PX_PER_MM, canonical_blank, mm_to_px
    from pipeline.scan import blank_cache

    shape = (mm_to_px(PAGE_SIZE_MM[1]), mm_to_px(PAGE_SIZE_MM[0]))
    path = key = None
    if cache:
        key = blank_cache.blank_key(form, BLANK_DPI, CANON_PX_PER_MM)
        path = blank_cache.cache_path(cache_dir or blank_cache.default_cache_dir(), form, key)
        found = blank_cache.load_blanks(path, key, len(layout.pages), shape)
        if found is not None:
            return found
    blanks = [canonical_blank(raster) for raster in render_page_images(form, BLANK_DPI)]
    if path is not None and key is not None:
        blank_cache.save_blanks(path, key, blanks)
    return blanks


def prepare_templates(forms: Iterable[Any], *, cache: bool = True, cache_dir: Path | None = None) -> Any:
    """The omr `Catalog` of `forms`: each form laid out, its blank pages rendered at
    `BLANK_DPI` (or taken from the on-disk cache, unless `cache` is False), its reading
    templates prepared."""
    from forms.layout import layout_form
    from omr import Catalog, prepare_template

    templates = []
    for form in forms:
        layout = layout_form(form)
        blanks = canonical_blanks(form, layout, cache=cache, cache_dir=cache_dir)
        templates.append(prepare_template(form, [p.geometry for p in layout.pages], blanks))
    return Catalog.of(templates)


@dataclass(frozen=True)
class PreparedForms:
    """A survey's forms ready for the recorder and the reader, for a process that reads
    many times (`phieu watch`, the capture page): prepared once, passed to `scan`."""

    forms: tuple[Any, ...]
    infos: dict[tuple[str, int], FormInfo]
    catalog: Any


def prepare_forms(forms: Iterable[Any]) -> PreparedForms:
    """`forms` laid out and their reading templates prepared (the blank cache is used)."""
    forms = tuple(forms)
    return PreparedForms(forms, form_infos(forms), prepare_templates(forms))
