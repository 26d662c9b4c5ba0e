"""The survey workspace: a folder with `survey.yaml`, its forms, its store and images.

```
DIR/survey.yaml      settings (name, office, forms, store URL, image folder, scan dpi)
DIR/forms/*.yaml     copies of the questionnaires this survey reads (frozen with the survey)
DIR/forms/*.frozen-layout.json   the layout each was printed from (`forms.frozen`): every
                     command reads and prints the survey's forms from these, never from a
                     layout computed again by a later engine
DIR/survey.sqlite    the store (default; `store:` may name any SQLAlchemy URL)
DIR/images/          page images and comment crops kept for review
```

Commands run inside the workspace (the current folder or one of its parents) or are
given `--survey DIR`.
"""
from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from forms.durable import atomic_output
from forms.errors import BadInput, SurveyError

log = logging.getLogger(__name__)

SETTINGS_FILE = "survey.yaml"
DEFAULT_STORE = "survey.sqlite"
DEFAULT_IMAGES = "images"
# Pages are rasterised at this resolution for reading: the reader works at ~150 dpi
# (omr.template.CANON_PX_PER_MM), 200 dpi leaves room for registration and small ticks.
DEFAULT_SCAN_DPI = 200
LOG_FILE = "phieu.log"


@dataclass(frozen=True)
class Survey:
    """A survey workspace, as read from its `survey.yaml`. Paths are absolute."""

    root: Path
    name: str
    office: str
    form_files: tuple[Path, ...]
    store_url: str
    images_dir: Path
    scan_dpi: int = DEFAULT_SCAN_DPI

    @property
    def settings_path(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def log_path(self) -> Path:
        """The workspace's log: what each scan and review did, with the traceback of any
        page the reader failed on (`reader_error`)."""
        return self.root / LOG_FILE

    def relative(self, path: Path) -> str:
        """`path` as stored in the database: relative to the workspace (POSIX style) so the
        folder can move; absolute when `images:` points outside the workspace."""
        resolved = Path(path).resolve()
        try:
            return resolved.relative_to(self.root).as_posix()
        except ValueError:
            return resolved.as_posix()


def _store_url(root: Path, value: str) -> str:
    # A bare file name means a SQLite file inside the workspace, so a workspace can be
    # moved or copied as a folder; anything with "://" is a SQLAlchemy URL as is.
    if "://" in value:
        return value
    return f"sqlite:///{(root / value).resolve()}"


def init_survey(
    directory: Path,
    forms: Iterable[str] = (),
    *,
    name: str | None = None,
    office: str = "",
    store: str = DEFAULT_STORE,
) -> Survey:
    """Create a survey workspace in `directory` and return it.

    `forms` are shipped form ids or paths of form YAML files; each is loaded (and so
    validated) and copied into `DIR/forms/`, and its layout frozen beside the copy
    (`forms.frozen`: a form that is itself a survey's copy keeps its frozen layout). Without
    any, every shipped form is used.
    `store` is a file name (a SQLite file in the workspace, the default) or a database
    URL (`postgresql://user@host/db`): a database is opened, and its tables made, before
    anything is written, so a wrong URL fails here rather than at the first scan.
    Raises `SurveyError` when `directory` already holds a survey or the database
    cannot be opened.
    """
    from forms.library import list_forms, load_form

    root = Path(directory).resolve()
    if (root / SETTINGS_FILE).exists():
        raise SurveyError(
            f"{root / SETTINGS_FILE} đã có / already exists: this folder is a survey already",
            "choose another folder, or use this one with --survey",
        )
    loaded = [load_form(item) for item in forms] if forms else list_forms()
    ids = [f"{f.id}@{f.version}" for f in loaded]
    if len(set(ids)) != len(ids):
        raise SurveyError(
            f"Mẫu phiếu trùng / the same form was given twice: {', '.join(ids)}",
            "give each form once",
        )
    if root.exists() and not root.is_dir():
        raise SurveyError(f"{root} là một tệp, không phải thư mục / is a file, not a folder",
                          "choose a folder name that is not taken by a file")
    _refuse_other_forms(root, loaded)
    from pipeline.store.database import open_store

    # The store is made here and only here: every other command refuses a store that
    # does not exist (a typo in `store:` must not start a new, empty survey). A database
    # URL is tried before anything is written, so a wrong one leaves nothing half-made.
    if "://" in store:
        open_store(store, create=True).engine.dispose()
    try:
        (root / "forms").mkdir(parents=True, exist_ok=True)
        (root / DEFAULT_IMAGES).mkdir(exist_ok=True)
    except OSError as err:
        raise _cannot_write(root, err) from err
    if "://" not in store:
        open_store(_store_url(root, store), create=True).engine.dispose()
    copied = []
    try:
        for form in loaded:
            target = root / "forms" / f"{form.id}-v{form.version}.yaml"
            with atomic_output(target) as temp:
                shutil.copyfile(form.source, temp)
            _freeze_at_init(target, form)
            copied.append(f"forms/{target.name}")
    except OSError as err:
        raise _cannot_write(root, err) from err
    settings: dict[str, Any] = {
        "name": name or root.name,
        "office": office or (loaded[0].office if loaded else ""),
        "forms": copied,
        "store": store,
        "images": DEFAULT_IMAGES,
        "scan_dpi": DEFAULT_SCAN_DPI,
    }
    # survey.yaml last, atomically: a folder with a survey.yaml is a finished workspace.
    with atomic_output(root / SETTINGS_FILE) as temp:
        temp.write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_survey(root)


def _freeze_at_init(target: Path, form: Any) -> None:
    """Freeze `form`'s layout beside its copy `target`. A frozen layout already there (an
    init run again over the same forms) is the record of what was printed: it is kept, and
    checked against the copy when the survey's forms are loaded."""
    from forms.frozen import frozen_path_for, write_frozen
    from forms.layout import layout_form

    if not frozen_path_for(target).exists():
        write_frozen(target, layout_form(form), "init")


def _cannot_write(root: Path, err: OSError) -> SurveyError:
    return SurveyError(
        f"Không tạo được thư mục khảo sát / cannot create the survey in {root}: "
        f"{err.strerror or err}",
        "choose a folder you can write to (not a read-only disk), with free space",
    )


def _refuse_other_forms(root: Path, forms: Iterable[Any]) -> None:
    """A form file already in DIR/forms/ with other content, or a frozen layout without
    its form, is somebody's work: refuse rather than overwrite it (the same content is
    fine: an init run again, which keeps the frozen layout there)."""
    from forms.frozen import frozen_path_for

    for form in forms:
        target = root / "forms" / f"{form.id}-v{form.version}.yaml"
        if target.exists() and target.read_bytes() != Path(form.source).read_bytes():
            raise SurveyError(
                f"{target} đã có và khác mẫu phiếu / already exists with other content",
                "move it away first (or init another folder); phieu does not overwrite it",
            )
        frozen = frozen_path_for(target)
        if frozen.exists() and not target.exists():
            raise SurveyError(
                f"{frozen} đã có mà không có mẫu phiếu / already exists without its form "
                f"{target.name} (the layout of paper printed before?)",
                "move it away first (or init another folder); phieu does not overwrite it",
            )


def load_survey(root: Path) -> Survey:
    """Read the workspace at `root` (the folder holding survey.yaml)."""
    root = Path(root).resolve()
    path = root / SETTINGS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as err:
        raise SurveyError(
            f"Không đọc được / cannot read {path}: {err.strerror}",
            "run `phieu init DIR` to make a survey workspace",
        ) from err
    except yaml.YAMLError as err:
        raise SurveyError(f"{path}: YAML không hợp lệ / invalid YAML: {err}") from err
    if not isinstance(data, dict):
        raise SurveyError(f"{path}: phải là một bảng khóa/giá trị / must be a mapping")
    forms = data.get("forms") or []
    if not isinstance(forms, list) or not forms:
        raise SurveyError(
            f"{path}: chưa có mẫu phiếu / `forms:` lists no form",
            "list the form YAML files (relative to the workspace) under `forms:`",
        )
    try:
        dpi = int(data.get("scan_dpi", DEFAULT_SCAN_DPI))
    except (TypeError, ValueError) as err:
        raise SurveyError(f"{path}: scan_dpi={data.get('scan_dpi')!r} is not a number") from err
    if not 100 <= dpi <= 600:
        raise SurveyError(f"{path}: scan_dpi={dpi} is outside 100..600", "use 200")
    images = (root / str(data.get("images") or DEFAULT_IMAGES)).resolve()
    if images.exists() and not images.is_dir():
        raise SurveyError(f"{path}: images: {images} là một tệp / is a file, not a folder",
                          "point `images:` at a folder (default: images)")
    store_url = _store_url(root, str(data.get("store") or DEFAULT_STORE))
    if store_url.startswith("sqlite:///") and not Path(store_url[len("sqlite:///"):]).is_file():
        raise SurveyError(
            f"{path}: không có kho dữ liệu / the store {store_url[len('sqlite:///'):]} does not exist",
            "check `store:` (a typo?); only `phieu init` makes a new store",
        )
    return Survey(
        root=root,
        name=str(data.get("name") or root.name),
        office=str(data.get("office") or ""),
        form_files=tuple((root / str(f)).resolve() for f in forms),
        store_url=store_url,
        images_dir=images,
        scan_dpi=dpi,
    )


def find_survey(explicit: Path | None = None, start: Path | None = None) -> Survey:
    """The workspace given by `--survey` (`explicit`), else the one containing `start`
    (default: the current folder) or one of its parents.

    Raises `SurveyError` when there is none.
    """
    if explicit is not None:
        root = Path(explicit).resolve()
        if not (root / SETTINGS_FILE).is_file():
            raise SurveyError(
                f"{root} không phải thư mục khảo sát / is not a survey workspace "
                f"(no {SETTINGS_FILE})",
                f"run `phieu init {explicit}` first",
            )
        return load_survey(root)
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SETTINGS_FILE).is_file():
            return load_survey(folder)
    raise SurveyError(
        f"Không tìm thấy thư mục khảo sát / no survey workspace in {here} or its parents",
        "run `phieu init DIR` and work inside DIR, or pass --survey DIR",
    )


def load_survey_forms(survey: Survey) -> tuple[Any, ...]:
    """The survey's forms (`forms.model.Form`), loaded from its own copies, each with the
    layout frozen beside it (`Form.frozen`, which `layout_form` returns).

    A copy edited since its layout was frozen raises `FrozenFormChanged`. A form without a
    frozen layout (a workspace made before layouts were frozen, or a form added to
    `forms:` by hand) is frozen now with this phieu's layout engine — what every command
    did before — and a warning says so, once: the next command finds the file.
    """
    from forms.library import load_form

    missing = [p for p in survey.form_files if not p.is_file()]
    if missing:
        raise SurveyError(
            f"Thiếu tệp mẫu phiếu / form file missing: {missing[0]}",
            f"restore it or fix `forms:` in {survey.settings_path}",
        )
    forms = []
    for path in survey.form_files:
        form = load_form(str(path))
        forms.append(form if form.frozen is not None else _freeze_on_first_use(path, form))
    return tuple(forms)


def _freeze_on_first_use(path: Path, form: Any) -> Any:
    """Freeze `form` (the copy at `path`, without a frozen layout) with this phieu's engine.

    The paper of such a form may have been printed by an older phieu, whose layout cannot
    be recomputed; laying it out with today's engine is what phieu did on every command
    before, so freezing it is no regression, and from now on a later engine change cannot
    move it again. Said once, as a warning (the file then exists). A workspace that cannot
    be written (read-only) keeps working as before, the layout frozen in memory only.
    """
    import dataclasses

    from forms.frozen import FrozenLayout, attach_frozen, frozen_path_for, write_frozen
    from forms.layout import layout_form

    layout = layout_form(form)
    frozen_file = frozen_path_for(path)
    try:
        write_frozen(path, layout, "first_use")
    except (OSError, BadInput) as err:
        log.warning(
            "%s: bố cục chưa được cố định và không ghi được / no frozen layout, and it cannot "
            "be written (%s): this command lays the form out with this phieu's engine; make "
            "the survey folder writable so it is frozen", path, err)
        return dataclasses.replace(form, frozen=FrozenLayout(layout, "", "first_use", "", ""))
    log.warning(
        "%s: bố cục được cố định lần đầu / no frozen layout yet (survey made before phieu froze "
        "layouts, or form added by hand): laid out now with this phieu's layout engine and "
        "frozen in %s. Paper of this form printed by an older phieu may not read "
        "(bad_geometry): then print it again with `phieu forms render ID --survey DIR`",
        path, frozen_file.name)
    # Read back what is on disk: a station that froze it at the same moment wrote the same.
    return attach_frozen(form, path)


def pick_form(forms: Any, form_id: str | None) -> Any:
    """The form `form_id` (``ID`` or ``ID@VERSION``) among the survey's `forms`, or the
    only one.

    Versions of a form may differ in their questions, so each is exported and tallied on
    its own: when the survey holds several versions of the form asked for, the version
    must be named, rather than one of them being left out without a word. Raises
    `BadInput` when `form_id` is unknown, or ambiguous.
    """
    forms = sorted(forms, key=lambda f: (f.id, f.version))
    ids = sorted({f.id for f in forms})
    wanted, _, version = (form_id or "").partition("@")
    if not wanted:
        if len(ids) != 1:
            raise BadInput(
                f"Khảo sát có nhiều mẫu phiếu / the survey has several forms: {', '.join(ids)}",
                "choose one with --form ID",
            )
        wanted = ids[0]
    chosen = [f for f in forms if f.id == wanted]
    if not chosen:
        raise BadInput(
            f"Không có mẫu phiếu / no form {wanted!r} in this survey (has: {', '.join(ids)})",
            "choose one of those with --form",
        )
    if version:
        chosen = [f for f in chosen if str(f.version) == version]
        if not chosen:
            raise BadInput(
                f"Không có phiên bản / no version {version!r} of form {wanted!r} in this survey",
                "see `phieu status` for the forms and versions it has",
            )
    if len(chosen) > 1:
        versions = ", ".join(f"{wanted}@{f.version}" for f in chosen)
        raise BadInput(
            f"Khảo sát có nhiều phiên bản của mẫu {wanted} / the survey has several versions "
            f"of form {wanted}: {versions}",
            f"choose one with --form {wanted}@VERSION (each version is exported on its own)",
        )
    return chosen[0]
