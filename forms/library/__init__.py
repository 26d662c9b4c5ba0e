"""The questionnaires shipped with phieu (the YAML files in this folder).

`list_forms()` loads every shipped definition; `load_form(id_or_path)` loads one
by its id (e.g. ``mot-cua``, ``sipas``) or from a path to a YAML file.
"""
from __future__ import annotations

from pathlib import Path

from forms.definition import load_definition
from forms.errors import BadInput
from forms.model import Form

LIBRARY_DIR = Path(__file__).resolve().parent

__all__ = ["LIBRARY_DIR", "library_path", "list_forms", "load_form"]


def library_path(form_id: str) -> Path | None:
    """The YAML file of the shipped form `form_id`, or None if there is none."""
    path = LIBRARY_DIR / f"{form_id}.yaml"
    return path if path.is_file() else None


def list_forms() -> list[Form]:
    """Every shipped form, loaded and validated, in id order."""
    return [load_definition(path) for path in sorted(LIBRARY_DIR.glob("*.yaml"))]


def load_form(id_or_path: str | Path) -> Form:
    """Load a form by shipped id or by path to a YAML file.

    A path that exists wins over an id of the same name. Raises `BadInput`
    (naming the shipped ids) when it is neither, and `FormDefinitionError` when
    the YAML has problems.
    """
    path = Path(id_or_path)
    if path.is_file():
        return load_definition(path)
    shipped = library_path(str(id_or_path))
    if shipped is not None:
        return load_definition(shipped)
    ids = ", ".join(p.stem for p in sorted(LIBRARY_DIR.glob("*.yaml")))
    raise BadInput(
        f"Không có phiếu '{id_or_path}' / no form '{id_or_path}': not a file, not a shipped id",
        f"dùng một mã có sẵn ({ids}) hoặc đường dẫn tới tệp .yaml / "
        f"use a shipped id ({ids}) or a path to a .yaml file",
    )
