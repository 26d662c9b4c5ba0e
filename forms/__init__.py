"""What a form is: a questionnaire YAML -> a validated model -> a layout in mm -> a PDF.

`load_form` (a shipped id such as ``mot-cua`` or a path) and `load_definition`
validate a questionnaire and return a `Form`; `layout_form` places it on A4
pages and returns a `Layout` whose pages hold the `PageGeometry` the reader
uses; `render_pdf` prints sheets with markers, QR codes and serials and writes
the layout JSON beside the PDF (`layout_json`); `render_page_images` gives the
printed pages as grey images (the blank reference for reading and fixtures).
Errors a user can meet derive from `PhieuError` (`forms.errors`).
"""
from forms.definition import load_definition, parse_definition
from forms.errors import BadInput, FormDefinitionError, PhieuError
from forms.geometry import PageGeometry, Target, TextField, marker_bbox
from forms.identity import PageIdentity, decode_payload, encode_payload, format_serial
from forms.layout import Layout, PageLayout, layout_form
from forms.library import list_forms, load_form
from forms.model import Form, Matrix, Option, Question, Scale, Section
from forms.render import (
    layout_json,
    layout_path_for,
    rasterize_pdf,
    render_page_images,
    render_pdf,
)

__all__ = [
    "BadInput", "Form", "FormDefinitionError", "Layout", "Matrix", "Option", "PageGeometry",
    "PageIdentity", "PageLayout", "PhieuError", "Question", "Scale", "Section", "Target",
    "TextField", "decode_payload", "encode_payload", "format_serial", "layout_form",
    "layout_json", "layout_path_for", "list_forms", "load_definition", "load_form",
    "marker_bbox", "parse_definition", "rasterize_pdf", "render_page_images", "render_pdf",
]
