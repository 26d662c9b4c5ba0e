"""Frozen layouts: the layout a survey's paper was printed from, kept beside its form.

A survey prints its forms once and reads them for months; the layout engine
(`forms.layout`) may change in between (wider columns, other line breaks). So a survey
does not recompute a form's layout: when it gets a form it writes the complete `Layout`
(every page's targets, text fields, QR and serial boxes, markers, and every text run,
rule and frame the renderer draws) to ``<stem>.frozen-layout.json`` beside its copy of
the YAML, with the fingerprint of the definition it was computed from. Loading that YAML
(`forms.library.load_form` with a path) attaches the frozen layout to the `Form`
(`Form.frozen`), and `layout_form` returns it: printing, the reader's templates, fixtures,
review crops, keying and the report all follow the paper that was printed.

The fingerprint (`definition_fingerprint`) is the SHA-256 of the YAML's *data*: what
`yaml.safe_load` gives, keys sorted, without `comment_topics`. So comments, blank lines,
quoting and key order may change (they change nothing on paper), and so may the comment
topics (not printed; the report's sorting of comments, which an office refines as the
comments come in). Anything else — a text, a label, an id, a code, a mark, a scale — is a
changed form: `FrozenFormChanged`, never a silent new layout. It is computed from the
file, not from `forms.model`, so a later phieu that adds a field to the model or
normalises a text differently still finds an unchanged file unchanged.

The file round-trips exactly (`layout_from_json(layout_to_json(L)) == L`): floats are
written as Python's shortest repr, which reads back to the same float.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from forms.durable import atomic_output
from forms.errors import FrozenFormChanged, SurveyError
from forms.geometry import MARKER_IDS, BBox, Corner, PageGeometry, Target, TextField
from forms.layout import Frame, Item, Layout, PageLayout, Rule, TextRun
from forms.model import Form

FORMAT = 1  # of the frozen-layout file; a reader refuses a format it does not know
SUFFIX = ".frozen-layout.json"
FINGERPRINT_PREFIX = "sha256-yaml-v1:"
NOT_FINGERPRINTED = ("comment_topics",)  # top-level keys that change nothing printed or read
FrozenBy = Literal["init", "first_use"]


class FrozenLayoutError(SurveyError):
    """A frozen-layout file cannot be used (damaged, or written by a newer phieu)."""


@dataclass(frozen=True)
class FrozenLayout:
    """A form's layout as frozen for a survey: `layout`, the `fingerprint` of the
    definition it was computed from, when (`frozen_at`, ISO 8601 UTC) and how
    (`frozen_by`: at `init`, or on the `first_use` of a workspace made before layouts
    were frozen, with the engine of that day)."""

    layout: Layout
    fingerprint: str
    frozen_by: str
    frozen_at: str
    path: str = field(default="", compare=False)  # where it was read from, for messages


def frozen_path_for(yaml_path: str | Path) -> Path:
    """Where the frozen layout of the form YAML `yaml_path` is kept:
    ``forms/mot-cua-v1.yaml`` -> ``forms/mot-cua-v1.frozen-layout.json``."""
    yaml_path = Path(yaml_path)
    return yaml_path.with_name(yaml_path.stem + SUFFIX)


# --- the fingerprint ----------------------------------------------------------------


def definition_fingerprint(yaml_text: str) -> str:
    """The fingerprint of a form definition's YAML text (see the module docstring)."""
    data = yaml.safe_load(yaml_text)
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in NOT_FINGERPRINTED}
    # default=str: YAML dates and the like; sort_keys: key order is not content.
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str,
                           separators=(",", ":"))
    return FINGERPRINT_PREFIX + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def file_fingerprint(yaml_path: Path) -> str:
    try:
        return definition_fingerprint(yaml_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise SurveyError(f"Không đọc được / cannot read {yaml_path}: {err}",
                          "restore the form file (it was readable when the survey was made)") from err


# --- (de)serialisation --------------------------------------------------------------


def _bbox(value: Any) -> BBox:
    x, y, w, h = (float(v) for v in value)
    return (x, y, w, h)


def _item_to_json(item: Item) -> dict[str, Any]:
    if isinstance(item, TextRun):
        return {"kind": "text", "x": item.x, "y": item.y, "text": item.text, "font": item.font,
                "size_pt": item.size_pt, "anchor": item.anchor, "grey": item.grey}
    if isinstance(item, Rule):
        return {"kind": "rule", "x1": item.x1, "y1": item.y1, "x2": item.x2, "y2": item.y2,
                "width": item.width, "grey": item.grey}
    return {"kind": "frame", "bbox": list(item.bbox), "width": item.width, "grey": item.grey}


def _item_from_json(data: dict[str, Any]) -> Item:
    kind = data["kind"]
    if kind == "text":
        anchor = data["anchor"]
        if anchor not in ("start", "middle", "end"):
            raise ValueError(f"unknown text anchor {anchor!r}")
        return TextRun(float(data["x"]), float(data["y"]), str(data["text"]), str(data["font"]),
                       float(data["size_pt"]), anchor, float(data["grey"]))
    if kind == "rule":
        return Rule(float(data["x1"]), float(data["y1"]), float(data["x2"]), float(data["y2"]),
                    float(data["width"]), float(data["grey"]))
    if kind == "frame":
        return Frame(_bbox(data["bbox"]), float(data["width"]), float(data["grey"]))
    raise ValueError(f"unknown drawing item kind {kind!r}")


def layout_to_json(layout: Layout) -> dict[str, Any]:
    """Every part of `layout` as JSON data (`layout_from_json` reads it back, equal)."""
    pages = []
    for page in layout.pages:
        geo = page.geometry
        pages.append({
            "page": geo.page,
            "qr_bbox_mm": list(geo.qr_bbox_mm),
            "serial_bbox_mm": list(geo.serial_bbox_mm),
            "markers": {corner: list(bbox) for corner, bbox in geo.markers.items()},
            "targets": [{"question": t.question, "option": t.option, "shape": t.shape,
                         "bbox_mm": list(t.bbox_mm)} for t in geo.targets],
            "text_fields": [{"question": f.question, "bbox_mm": list(f.bbox_mm)}
                            for f in geo.text_fields],
            "items": [_item_to_json(item) for item in page.items],
        })
    return {"form": layout.form_id, "version": layout.version,
            "question_pages": dict(layout.question_pages),
            "box_border_mm": layout.box_border_mm, "serial_pt": layout.serial_pt,
            "pages": pages}


def _target(data: dict[str, Any]) -> Target:
    shape = data["shape"]
    if shape not in ("box", "digit"):
        raise ValueError(f"unknown target shape {shape!r}")
    return Target(str(data["question"]), str(data["option"]), shape, _bbox(data["bbox_mm"]))


def _corner(name: str) -> Corner:
    for corner in MARKER_IDS:
        if corner == name:
            return corner
    raise ValueError(f"unknown marker corner {name!r}")


def layout_from_json(data: dict[str, Any]) -> Layout:
    """The `Layout` `layout_to_json` wrote. Raises KeyError, TypeError or ValueError on
    data of another shape (the caller names the file)."""
    pages = []
    for page in data["pages"]:
        geometry = PageGeometry(
            int(page["page"]),
            tuple(_target(t) for t in page["targets"]),
            tuple(TextField(str(f["question"]), _bbox(f["bbox_mm"])) for f in page["text_fields"]),
            _bbox(page["qr_bbox_mm"]),
            _bbox(page["serial_bbox_mm"]),
            {_corner(c): _bbox(b) for c, b in page["markers"].items()},
        )
        pages.append(PageLayout(geometry, tuple(_item_from_json(i) for i in page["items"])))
    question_pages = {str(q): int(p) for q, p in data["question_pages"].items()}
    return Layout(str(data["form"]), int(data["version"]), tuple(pages), question_pages,
                  float(data["box_border_mm"]), float(data["serial_pt"]))


# --- files --------------------------------------------------------------------------


def _engine() -> dict[str, str]:
    """Which layout engine computed a layout: phieu's version and a digest of the layout
    code (for a person looking into the file; nothing reads it back)."""
    from importlib import metadata

    try:
        version = metadata.version("phieu")
    except metadata.PackageNotFoundError:
        version = "unknown"
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in ("layout.py", "fonts.py", "geometry.py"):
        digest.update((here / name).read_bytes())
    return {"phieu": version, "layout_code_sha256": digest.hexdigest()}


def write_frozen(yaml_path: str | Path, layout: Layout, frozen_by: FrozenBy) -> FrozenLayout:
    """Freeze `layout` for the form YAML `yaml_path` (a survey's copy): written atomically
    to `frozen_path_for(yaml_path)`, with the fingerprint of the YAML as it is now.
    Raises `OSError` as it comes (the caller decides what a failed write means)."""
    yaml_path = Path(yaml_path)
    path = frozen_path_for(yaml_path)
    frozen = FrozenLayout(layout, file_fingerprint(yaml_path), frozen_by,
                          datetime.now(UTC).isoformat(timespec="seconds"), str(path))
    document = {
        "phieu_frozen_layout": FORMAT,
        "form": layout.form_id,
        "version": layout.version,
        "definition": yaml_path.name,
        "fingerprint": frozen.fingerprint,
        "frozen_by": frozen.frozen_by,
        "frozen_at": frozen.frozen_at,
        "engine": _engine(),
        "layout": layout_to_json(layout),
    }
    text = json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False)
    with atomic_output(path) as temp:
        temp.write_text(text + "\n", encoding="utf-8")
    return frozen


def read_frozen(path: str | Path) -> FrozenLayout:
    """The frozen layout in `path`. Raises `FrozenLayoutError` naming the file when it
    cannot be read, is damaged, or was written in a format this phieu does not know."""
    path = Path(path)
    restore = ("restore it from a backup of the survey folder; if there is none, delete it: "
               "the next command freezes the form again with this phieu's layout engine, and "
               "paper printed by another phieu version may then not read")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise FrozenLayoutError(
            f"Không đọc được bố cục đã cố định / cannot read the frozen layout {path}: {err}",
            restore) from err
    if not isinstance(document, dict):
        raise FrozenLayoutError(f"{path}: không phải bố cục đã cố định / not a frozen layout",
                                restore)
    found = document.get("phieu_frozen_layout")
    if found != FORMAT:
        raise FrozenLayoutError(
            f"{path}: định dạng {found!r} không biết / frozen-layout format {found!r} is not "
            f"known to this phieu (it reads format {FORMAT})",
            "use the phieu version that wrote it, or a newer one")
    try:
        layout = layout_from_json(document["layout"])
        return FrozenLayout(layout, str(document["fingerprint"]), str(document["frozen_by"]),
                            str(document["frozen_at"]), str(path))
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise FrozenLayoutError(
            f"{path}: bố cục đã cố định bị hỏng / the frozen layout is damaged ({err!r})",
            restore) from err


def attach_frozen(form: Form, yaml_path: str | Path) -> Form:
    """`form` (loaded from `yaml_path`) with the frozen layout kept beside that file, or
    `form` itself when there is none. Raises `FrozenFormChanged` when the YAML was edited
    since the layout was frozen, and `FrozenLayoutError` when the file is unusable."""
    yaml_path = Path(yaml_path)
    path = frozen_path_for(yaml_path)
    if not path.is_file():
        return form
    frozen = read_frozen(path)
    if frozen.fingerprint != file_fingerprint(yaml_path):
        raise FrozenFormChanged(
            f"{yaml_path}: mẫu phiếu đã bị sửa sau khi bố cục được cố định / the form was "
            f"edited after its layout was frozen in {path.name} (paper printed for this "
            f"survey follows that layout; phieu does not lay it out again)",
            "undo the edit; or save the changed form with a new `version:` as a new file in "
            "forms/, list it under `forms:` in survey.yaml beside the old one, and print it "
            "(`phieu forms render ID@VERSION --survey DIR`); only if no sheet of this form "
            f"was ever printed, delete {path.name} to freeze the edited form",
        )
    if (frozen.layout.form_id, frozen.layout.version) != (form.id, form.version):
        raise FrozenLayoutError(
            f"{path}: bố cục của mẫu khác / holds the layout of "
            f"{frozen.layout.form_id}@{frozen.layout.version}, not {form.id}@{form.version}",
            "restore the right file from a backup of the survey folder")
    return dataclasses.replace(form, frozen=frozen)
