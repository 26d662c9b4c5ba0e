"""The questionnaires shipped with phieu (the YAML files in this folder).

`list_forms()` loads every shipped definition; `load_form(id_or_path)` loads one
by its id (e.g. ``mot-cua``, ``sipas``) or from a path to a YAML file.
"""
from __future__ import annotations

import re
from pathlib import Path

from forms.definition import load_definition
from forms.durable import atomic_output
from forms.errors import BadInput
from forms.model import Form

LIBRARY_DIR = Path(__file__).resolve().parent

__all__ = ["LIBRARY_DIR", "library_path", "list_forms", "load_form", "new_definition"]


def library_path(form_id: str) -> Path | None:
    """The YAML file of the shipped form `form_id`, or None if there is none."""
    path = LIBRARY_DIR / f"{form_id}.yaml"
    return path if path.is_file() else None


def list_forms() -> list[Form]:
    """Every shipped form, loaded and validated, in id order."""
    return [load_definition(path) for path in sorted(LIBRARY_DIR.glob("*.yaml"))]


def load_form(id_or_path: str | Path) -> Form:
    """Load a form by shipped id or by path to a YAML file.

    A path that exists wins over an id of the same name. A YAML with a frozen layout
    beside it (a survey's copy, `forms.frozen`) comes with that layout. Raises `BadInput`
    (naming the shipped ids) when it is neither, and `FormDefinitionError` when
    the YAML has problems; `FrozenFormChanged` when a survey's copy was edited after
    its layout was frozen.
    """
    from forms.frozen import attach_frozen, frozen_path_for

    path = Path(id_or_path)
    if path.is_file():
        # A frozen copy is not measured again by this engine: its layout is made.
        frozen = frozen_path_for(path).is_file()
        return attach_frozen(load_definition(path, check_layout=not frozen), path)
    shipped = library_path(str(id_or_path))
    if shipped is not None:
        return load_definition(shipped)
    ids = ", ".join(p.stem for p in sorted(LIBRARY_DIR.glob("*.yaml")))
    raise BadInput(
        f"Không có phiếu '{id_or_path}' / no form '{id_or_path}': not a file, not a shipped id",
        f"dùng một mã có sẵn ({ids}) hoặc đường dẫn tới tệp .yaml / "
        f"use a shipped id ({ids}) or a path to a .yaml file",
    )


def new_definition(source: str | Path, out_path: str | Path, overwrite: bool = False) -> Form:
    """Copy the form `source` (shipped id or path) to `out_path` to be edited.

    The YAML text is copied as written (comments kept); its `id:` line is set
    to the new file's name when that is a valid form id, so the copy does not
    clash with the form it came from. Returns the copy, loaded and validated.
    """
    from forms.definition import FORM_ID_RE

    out_path = Path(out_path)
    if out_path.exists() and not overwrite:
        raise BadInput(f"Tệp đã có / {out_path} already exists",
                       "chọn tên khác hoặc thêm --force / choose another name or add --force")
    if not out_path.parent.is_dir():
        raise BadInput(f"Không có thư mục / folder does not exist: {out_path.parent}",
                       "tạo thư mục trước / create it first")
    form = load_form(source)
    text = Path(form.source).read_text(encoding="utf-8")
    new_id = out_path.stem.lower()
    if FORM_ID_RE.match(new_id):
        text = re.sub(r"(?m)^id:.*$", f"id: {new_id}", text, count=1)
    with atomic_output(out_path) as temp:
        temp.write_text(text, encoding="utf-8")
    return load_definition(out_path)
