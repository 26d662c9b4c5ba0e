"""The `phieu` command: parse, call, print. No logic of its own.

Errors raised below derive from `forms.errors.PhieuError`; `main` prints them as
one line (with the remedy) and exits with the error's code. `-v` shows tracebacks.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from forms.errors import PhieuError

if TYPE_CHECKING:  # `pipeline` is imported by each command, not when `phieu` starts
    from pipeline.outputs.tally import Method, Period
    from pipeline.scan.driver import ScanEvent
    from pipeline.scan.watch import WatchEvent

_F = TypeVar("_F", bound=Callable[..., object])

FORM_HELP = "Form id, or ID@VERSION (needed when the survey has several forms or versions)."
# `vocabulary.Channel`'s words other than paper, spelt out: loading `pipeline` takes over a
# second, too long for `phieu --help` (tests/test_vocabulary.py checks they are its members).
IMPORT_CHANNELS = ("online", "kiosk")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True,
              help="Log what is done on stderr (-v: steps, -vv: every page) and show tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """phieu — đọc phiếu khảo sát mức độ hài lòng / reads paper satisfaction surveys."""
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    if verbose:
        # Without -v the log goes only to the workspace's file (what a clerk must see is
        # printed by the command itself, once), but for the workspace's own notices.
        from pipeline.logs import stderr_log

        ctx.with_resource(stderr_log(verbose))
    else:
        from pipeline.logs import survey_notices

        ctx.with_resource(survey_notices())


# --- forms commands (issue 2) -------------------------------------------------


@cli.group("forms")
def forms_group() -> None:
    """Mẫu phiếu / questionnaire forms: list, check, copy, print."""


@forms_group.command("list")
def forms_list_cmd() -> None:
    """Các mẫu phiếu có sẵn / the shipped forms."""
    from forms.layout import layout_form
    from forms.library import list_forms

    for form in list_forms():
        pages = len(layout_form(form).pages)
        click.echo(f"{form.id:<12} v{form.version}  {pages} trang/pages  "
                   f"{len(form.questions()):>3} câu/questions  {form.title}")


@forms_group.command("check")
@click.argument("form_file", metavar="FILE")
def forms_check_cmd(form_file: str) -> None:
    """Kiểm tra một tệp YAML / validate a form definition (id or path)."""
    from forms.layout import layout_form
    from forms.library import load_form

    form = load_form(form_file)
    layout = layout_form(form)
    targets = sum(len(p.geometry.targets) for p in layout.pages)
    click.echo(f"OK: {form.id} v{form.version} — {len(form.questions())} câu/questions, "
               f"{len(layout.pages)} trang/pages, {targets} ô/targets")


@forms_group.command("new")
@click.option("--from", "source", default="mot-cua", show_default=True,
              help="A shipped form id or a form YAML to start from.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The new YAML file to write.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
def forms_new_cmd(source: str, out: Path, force: bool) -> None:
    """Tạo bản sao để sửa / copy a form definition to edit."""
    from forms.library import new_definition

    form = new_definition(source, out, overwrite=force)
    click.echo(f"Đã tạo / wrote {out} (id: {form.id}); "
               f"sửa rồi kiểm tra / edit it, then: phieu forms check {out}")


@forms_group.command("render")
@click.argument("form_ref", metavar="FORM")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The PDF to write (the layout JSON goes beside it).")
@click.option("--copies", type=click.IntRange(1, 100000), default=1, show_default=True,
              help="Number of sheets, each with its own serial.")
@click.option("--first-serial", type=click.IntRange(0, None), default=None,
              help="Serial of the first sheet (default: 1; with --survey, the next free range).")
@click.option("--survey", "survey_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Print for this survey: it hands out the next free serial range and records it.")
@click.option("--label", default="", help="Who the range is for (e.g. the department), kept with it.")
def forms_render_cmd(form_ref: str, out: Path, copies: int, first_serial: int | None,
                     survey_dir: Path | None, label: str) -> None:
    """In phiếu ra PDF / print FORM (shipped id or YAML path) to a PDF."""
    from forms.library import load_form
    from forms.render import layout_path_for, render_pdf

    if survey_dir is not None:
        from pipeline.store.serials import survey_form_and_range

        form, taken = survey_form_and_range(survey_dir, form_ref, copies, first_serial, label)
        first_serial = taken.first
        click.echo(f"Dãy số đã ghi vào khảo sát / serial range recorded in the survey: "
                   f"{taken.form} {taken.first}–{taken.last}" + (f" ({label})" if label else ""))
    else:
        form = load_form(form_ref)
        first_serial = 1 if first_serial is None else first_serial
        click.echo("⚠ In ngoài khảo sát / printed outside a survey: số phiếu phải là duy nhất — "
                   "hai nơi in cùng số thì phiếu bị trộn / serials must be unique: print with "
                   "--survey DIR so the survey hands out a free range", err=True)
    layout = render_pdf(form, out, copies=copies, first_serial=first_serial)
    last = first_serial + copies - 1
    click.echo(f"Đã in / wrote {out}: {copies} tờ/sheets × {len(layout.pages)} trang/pages, "
               f"số/serials {first_serial}–{last}")
    click.echo(f"Bố cục / layout: {layout_path_for(out)}")



# --- synth command (issue 3) --------------------------------------------------


@cli.command("synth")
@click.option("--form", "form_id", default="mot-cua", show_default=True,
              help="Shipped form id or path to a form YAML.")
@click.option("--sheets", type=int, default=200, show_default=True, help="How many filled sheets.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the box into (scans + truth.json).")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same box.")
@click.option("--dpi", type=int, default=200, show_default=True, help="Scan resolution.")
@click.option("--mix", "mix_text", default="scan=0.6,upside_down=0.1,sideways=0.05,phone=0.15,folded=0.1",
              show_default=True, help="Shares of capture kinds: scan, upside_down, sideways, phone, folded.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "tiff", "images", "mixed"]), default="pdf",
              show_default=True, help="How the scanner writes batches.")
@click.option("--comment-rate", type=float, default=0.4, show_default=True,
              help="Share of sheets with a written comment.")
@click.option("--first-serial", type=int, default=1, show_default=True,
              help="Serial number of the first sheet.")
@click.option("--pages-per-file", type=int, default=50, show_default=True,
              help="Pages per feeder batch (one PDF/TIFF each).")
def synth_command(form_id: str, sheets: int, out_dir: Path, seed: int, dpi: int, mix_text: str,
                  fmt: str, comment_rate: float, first_serial: int, pages_per_file: int) -> None:
    """Tạo hòm phiếu giả lập / make a synthetic ballot box: filled, scanned sheets and their truth."""
    from fixtures.box import make_ballot_box, mix_from_text

    truth = make_ballot_box(form_id, sheets, out_dir, seed=seed, dpi=dpi, mix=mix_from_text(mix_text),
                            comment_rate=comment_rate, formats=(fmt,), first_serial=first_serial,
                            pages_per_file=pages_per_file)
    files = len({p.file for p in truth.pages})
    click.echo(f"Đã tạo hòm phiếu / ballot box made: {len(truth.sheets)} phiếu/sheets, "
               f"{len(truth.pages)} trang/pages in {files} tệp/files → {out_dir} (truth.json)")


# --- read page images (issue 3: omr) ------------------------------------------


@cli.command("read")
@click.argument("images", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--form", "form_ids", multiple=True,
              help="Form id or YAML path the pages may be (repeatable); default: the shipped forms.")
@click.option("--debug", "debug_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write an overlay PNG of each read page (regions, scores, states) into this folder.")
@click.option("--no-ocr", is_flag=True, help="Do not OCR written comments.")
def read_command(images: tuple[Path, ...], form_ids: tuple[str, ...], debug_dir: Path | None,
                 no_ocr: bool) -> None:
    """Đọc ảnh từng trang phiếu / read page images (PNG, JPEG, TIFF): identity, every answer, flags."""
    import cv2

    from forms.library import list_forms, load_form
    from omr import PageFailure, PageReading, decode_image, overlay, read_page, summary
    from pipeline.scan.templates import prepare_templates

    catalog = prepare_templates([load_form(f) for f in form_ids] if form_ids else list_forms())
    for path in images:
        image = decode_image(path.read_bytes())
        reading = image if isinstance(image, PageFailure) else read_page(image, catalog, ocr=not no_ocr)
        click.echo(f"{path}:")
        for line in summary(reading):
            click.echo(f"  {line}")
        if debug_dir is not None and isinstance(reading, PageReading) and reading.page is not None:
            debug_dir.mkdir(parents=True, exist_ok=True)
            template = catalog.get(reading.identity.form_id, reading.identity.version)
            out = debug_dir / f"{path.stem}.overlay.png"
            cv2.imwrite(str(out), overlay(reading.page.full(), reading, template))
            click.echo(f"  → {out}")


# --- survey workspace, scan, status, export (issue 4) ------------------------

SURVEY_OPTION = click.option(
    "--survey", "survey_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Survey workspace (default: the current folder or one of its parents).",
)


@cli.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--form", "forms", multiple=True, metavar="ID_OR_PATH",
              help="A shipped form id or a form YAML (repeatable; default: every shipped form).")
@click.option("--name", default=None, help="Survey name (default: the folder's name).")
@click.option("--office", default="", help="Office name (default: the first form's).")
@click.option("--store", default="survey.sqlite", show_default=True,
              help="A SQLite file in DIRECTORY, or a PostgreSQL URL shared by several "
                   "stations (postgresql://USER@HOST/DB; password from ~/.pgpass).")
def init_cmd(directory: Path, forms: tuple[str, ...], name: str | None, office: str,
             store: str) -> None:
    """Tạo thư mục khảo sát / make a survey workspace in DIRECTORY."""
    from forms.frozen import frozen_path_for
    from pipeline.store.survey import init_survey

    survey = init_survey(directory, forms, name=name, office=office, store=store)
    click.echo(f"Đã tạo / created {survey.settings_path}")
    for path in survey.form_files:
        click.echo(f"  mẫu phiếu / form: {path.relative_to(survey.root)} — bố cục cố định / "
                   f"layout frozen: {frozen_path_for(path).relative_to(survey.root)}")
    click.echo(f"Tiếp theo / next: cd {directory} && phieu scan FILES...")


@cli.command("scan")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--batch", default=None, help="Batch name (default: today's date).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default: all CPUs).")
@click.option("--workers", default=None, metavar="tcp://HOST:PORT",
              help="Read pages on this Dask scheduler's workers instead of local processes.")
@SURVEY_OPTION
def scan_cmd(paths: tuple[Path, ...], batch: str | None, jobs: int | None, workers: str | None,
             survey_dir: Path | None) -> None:
    """Quét phiếu / read scanned PDFs, TIFFs, images and folders into the survey."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from pipeline.logs import workspace_log
    from pipeline.scan.driver import scan, summary_lines
    from pipeline.store.survey import find_survey

    survey = find_survey(survey_dir)
    console = Console(stderr=True)
    progress = Progress(TextColumn("Đang đọc / reading"), BarColumn(), MofNCompleteColumn(),
                        TimeRemainingColumn(), console=console, disable=not console.is_terminal)
    task = progress.add_task("pages", total=None)

    def on_event(event: ScanEvent) -> None:
        if event.kind == "start":
            progress.update(task, total=event.total)
        elif event.kind == "page":
            progress.update(task, completed=event.done)
        else:
            progress.console.print(event.text, markup=False, highlight=False, soft_wrap=True)

    with workspace_log(survey.log_path), progress:
        summary = scan(survey, paths, batch=batch, jobs=jobs, progress=on_event, workers=workers)
    for line in summary_lines(summary):
        click.echo(line)
    if summary.folders_unreadable:
        from forms.errors import BadInput

        raise BadInput(
            f"Không đọc được {len(summary.folders_unreadable)} thư mục / cannot read "
            f"{len(summary.folders_unreadable)} folder(s), their files were not scanned: "
            + ", ".join(summary.folders_unreadable),
            "give phieu permission to read them, then run the same scan again",
        )


@cli.command("watch")
@click.argument("folders", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--batch", default=None, help="Batch name (default: the day's date, as `phieu scan`).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default: all CPUs).")
@click.option("--interval", type=click.FloatRange(0.1, 3600), default=1.0, show_default=True,
              help="Seconds between looks at the folders.")
@click.option("--settle", type=click.FloatRange(0, 3600), default=2.0, show_default=True,
              help="Seconds a file's size and time must stay unchanged before it is read.")
@click.option("--move-done", "move_done", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Move each file whose pages are all stored into this folder "
                                 "(default: files are never moved or deleted).")
@click.option("--idle-exit", type=click.FloatRange(0, None), default=None,
              help="Stop after this many seconds with nothing new (default: run until Ctrl+C).")
@SURVEY_OPTION
def watch_cmd(folders: tuple[Path, ...], batch: str | None, jobs: int | None, interval: float,
              settle: float, move_done: Path | None, idle_exit: float | None,
              survey_dir: Path | None) -> None:
    """Theo dõi thư mục máy quét / read every new scan that appears in FOLDERS (the copier's
    scan-to-folder target) into the survey, as `phieu scan` does, until Ctrl+C."""
    from pipeline.scan.templates import prepare_forms
    from pipeline.scan.watch import watch
    from pipeline.store.survey import find_survey, load_survey_forms

    survey = find_survey(survey_dir)
    prepared = prepare_forms(load_survey_forms(survey))
    click.echo(f"Đang theo dõi / watching {', '.join(str(f) for f in folders)} — "
               "Ctrl+C để dừng / to stop")

    def on_event(event: WatchEvent) -> None:
        click.echo(event.text, err=event.kind == "problem")

    totals = watch(survey, folders, on_event=on_event, interval=interval, settle=settle,
                   move_done=move_done, batch=batch, jobs=jobs, idle_exit=idle_exit,
                   prepared=prepared)
    click.echo(f"Đã dừng / stopped: {totals.stored} tệp mới/new files, {totals.known} đã có/"
               f"already stored" + (f", {totals.moved} đã chuyển/moved" if move_done else ""))


@cli.command("status")
@SURVEY_OPTION
def status_cmd(survey_dir: Path | None) -> None:
    """Tình trạng / batches, sheets and what waits for review."""
    from pipeline.store.database import open_store
    from pipeline.store.status import status_lines, survey_status
    from pipeline.store.survey import find_survey

    survey = find_survey(survey_dir)
    click.echo(f"{survey.name} ({survey.root})")
    for line in status_lines(survey_status(open_store(survey.store_url, create=False))):
        click.echo(line)


def _warn_if_scan_unfinished(survey_dir: Path | None) -> None:
    """Counting while a scan is unfinished: say so, on stderr (a sheet may still lack a
    page, and its missing-page flag is opened when the scan ends)."""
    from pipeline.store.database import open_store
    from pipeline.store.status import survey_status
    from pipeline.store.survey import find_survey

    partial = survey_status(open_store(find_survey(survey_dir).store_url, create=False)).files_partial
    if partial:
        click.echo(
            f"⚠ Có {len(partial)} tệp quét dở / {len(partial)} file(s) not finished (a scan was "
            f"interrupted): {', '.join(Path(p).name for p in partial)} — run `phieu scan` again "
            "with the same files before counting",
            err=True,
        )


@cli.group("export")
def export_group() -> None:
    """Xuất dữ liệu / export responses, pages or comments as CSV (UTF-8 BOM) or .xlsx."""


def _export_output(func: _F) -> _F:
    func = click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
                        help="FILE.csv or FILE.xlsx")(func)
    return SURVEY_OPTION(func)


@export_group.command("responses")
@click.option("--form", "form_id", default=None, help=FORM_HELP)
@click.option("--labels", is_flag=True,
              help="Printed question texts and option labels instead of ids and codes.")
@_export_output
def export_responses_cmd(form_id: str | None, labels: bool, output: Path,
                         survey_dir: Path | None) -> None:
    """One row per sheet: serial, status, flagged, then one column per question."""
    from pipeline.outputs.export import responses_csv_frame, write_frame
    from pipeline.outputs.labels import labelled_responses
    from pipeline.store.database import open_store
    from pipeline.store.survey import find_survey, load_survey_forms, pick_form

    survey = find_survey(survey_dir)
    form = pick_form(load_survey_forms(survey), form_id)
    _warn_if_scan_unfinished(survey_dir)
    frame = responses_csv_frame(open_store(survey.store_url, create=False), form)
    if labels:
        frame = labelled_responses(form, frame)
    click.echo(f"{write_frame(frame, output)}: {len(frame)} phiếu/sheets ({form.id})")


@export_group.command("pages")
@_export_output
def export_pages_cmd(output: Path, survey_dir: Path | None) -> None:
    """One row per input page, in input order: source, page, status, form, serial, reason."""
    from pipeline.outputs.export import pages_csv_frame, write_frame
    from pipeline.store.database import open_store
    from pipeline.store.survey import find_survey

    survey = find_survey(survey_dir)
    frame = pages_csv_frame(open_store(survey.store_url, create=False))
    click.echo(f"{write_frame(frame, output)}: {len(frame)} trang/pages")


@export_group.command("comments")
@_export_output
def export_comments_cmd(output: Path, survey_dir: Path | None) -> None:
    """Every written comment: serial, question, text, confidence, crop image, flagged, how it is
    published; as .xlsx with topic, status and the handwriting's image embedded."""
    from pipeline.outputs.comments import export_comments
    from pipeline.store.survey import find_survey

    path, count = export_comments(find_survey(survey_dir), output)
    click.echo(f"{path}: {count} ý kiến/comments")



# --- review (issue 5) ---------------------------------------------------------


@cli.group("review", invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; beyond loopback (e.g. 0.0.0.0) a password is required.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option("--password", default=None,
              help="Password for every request (default: $PHIEU_REVIEW_PASSWORD).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@SURVEY_OPTION
@click.pass_context
def review_group(ctx: click.Context, host: str, port: int, password: str | None,
                 no_browser: bool, survey_dir: Path | None) -> None:
    """Duyệt phiếu bị gắn cờ trong trình duyệt / review flagged ballots in the browser."""
    if ctx.invoked_subcommand is not None:
        ctx.obj["review_survey"] = survey_dir  # `phieu review --survey DIR list` works too
        return
    import logging

    from pipeline.review import make_review_server, open_browser
    from pipeline.store.survey import find_survey

    # The server's log (wrong passwords and who sent them, errors) on stderr, with the time.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = make_review_server(find_survey(survey_dir), host=host, port=port, password=password)
    click.echo(f"Đang phục vụ / serving at {server.url} — Ctrl+C để dừng / to stop")
    if server.network_url:
        click.echo(f"Máy khác trong mạng / other computers: {server.network_url} (cần mật khẩu "
                   "/ password required)")
    if not no_browser and not open_browser(server.url):
        click.echo("Không mở được trình duyệt / no browser: open the address above", err=True)
    try:
        server.serve_forever()
    finally:
        server.shutdown()


@review_group.command("list")
@SURVEY_OPTION
@click.pass_context
def review_list_cmd(ctx: click.Context, survey_dir: Path | None) -> None:
    """Mục chờ duyệt / open items, one per line: id, reason, form, serial, question, detail."""
    from pipeline.review import open_item_lines
    from pipeline.store.database import open_store
    from pipeline.store.survey import find_survey

    survey = find_survey(survey_dir or ctx.obj.get("review_survey"))
    for line in open_item_lines(open_store(survey.store_url, create=False).engine):
        click.echo(line)


@review_group.command("set")
@click.argument("serial", type=int)
@click.argument("question")
@click.argument("value")
@click.option("--reviewer", required=True, help="Your name (kept with the decision).")
@click.option("--form", "form_id", default=None, help="Form id (when serials repeat across forms).")
@click.option("--force", is_flag=True,
              help="Decide even while another clerk holds the question (kept in the audit).")
@SURVEY_OPTION
@click.pass_context
def review_set_cmd(ctx: click.Context, serial: int, question: str, value: str, reviewer: str,
                   form_id: str | None, force: bool, survey_dir: Path | None) -> None:
    """Ghi câu trả lời của người duyệt / record a person's answer: VALUE is option code(s)
    (`2`, `a|c`), the text of a text question, `none` for no answer, `invalid`."""
    from pipeline.review import build_form_catalog, set_answer
    from pipeline.store.database import open_store
    from pipeline.store.survey import find_survey, load_survey_forms

    survey = find_survey(survey_dir or ctx.obj.get("review_survey"))
    record = set_answer(open_store(survey.store_url, create=False).engine,
                        build_form_catalog(load_survey_forms(survey)), serial, question, value,
                        reviewer=reviewer, form_id=form_id, force=force)
    click.echo(f"Đã ghi / recorded #{record.id}: {record.before_text} → {record.after_text}")


@review_group.command("key")
@click.argument("item", type=int)
@click.argument("answers", nargs=-1, metavar="QUESTION=VALUE...")
@click.option("--serial", required=True, help="The sheet's serial (printed under the QR code).")
@click.option("--form", "form_ref", default=None,
              help="Form id or ID@VERSION (default: the one the machine recognised, else the "
                   "survey's only form).")
@click.option("--page", type=click.IntRange(1, None), default=None,
              help="The form's page (needed for a form of several pages the machine did not "
                   "recognise).")
@click.option("--illegible", "illegible", multiple=True, metavar="QUESTION",
              help="A comment the clerk cannot read (its image is published), as Alt+X in "
                   "review; repeatable.")
@click.option("--reviewer", required=True, help="Your name (kept with the decision).")
@SURVEY_OPTION
@click.pass_context
def review_key_cmd(ctx: click.Context, item: int, answers: tuple[str, ...], serial: str,
                   form_ref: str | None, page: int | None, illegible: tuple[str, ...],
                   reviewer: str, survey_dir: Path | None) -> None:
    """Nhập tay một trang không đọc được / key in an unreadable page: ITEM is its id in
    `phieu review list`; one QUESTION=VALUE per question of the page (VALUE as for
    `review set`: option code(s), text, `none`, `invalid`). A page the machine read by its
    print (QR code unread) needs only --serial: its form and page are known, a question
    left out is the machine's answer where it was sure (one it was unsure of must be
    given); the audit says which answers were the machine's. --illegible QUESTION marks a
    comment illegible (the person's `invalid` answer: its image is published)."""
    from pipeline.review import build_form_catalog
    from pipeline.review.keying import KeyIn, parse_assignments
    from pipeline.review.scripted import key_page
    from pipeline.store.database import open_store
    from pipeline.store.survey import find_survey, load_survey_forms

    survey = find_survey(survey_dir or ctx.obj.get("review_survey"))
    catalog = build_form_catalog(load_survey_forms(survey))
    keyed = KeyIn(form=form_ref or "", serial=serial, answers=parse_assignments(answers), page=page,
                  illegible=frozenset(q.strip() for q in illegible))
    record = key_page(open_store(survey.store_url, create=False).engine, catalog, item, keyed,
                      reviewer=reviewer)
    click.echo(f"Đã ghi / recorded #{record.id}: {record.value} — {record.after_text}")


@click.command("audit")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.csv or FILE.xlsx")
@SURVEY_OPTION
def export_audit_cmd(output: Path, survey_dir: Path | None) -> None:
    """Mọi quyết định của người duyệt / every review decision: who, when, before, after."""
    from pipeline.outputs.export import write_frame
    from pipeline.review import audit_frame
    from pipeline.store.database import open_store
    from pipeline.store.survey import find_survey

    frame = audit_frame(open_store(find_survey(survey_dir).store_url, create=False))
    click.echo(f"{write_frame(frame, output)}: {len(frame)} quyết định/decisions")


export_group.add_command(export_audit_cmd)


# --- tally and report (issue 6) -----------------------------------------------

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _tally_options(command: _F) -> _F:
    """The options `phieu tally` and `phieu export tally` share."""
    for decorator in reversed([
        click.option("--survey", "survey_dir", type=click.Path(path_type=Path, file_okay=False),
                     help="Survey workspace (default: the one around the current folder)."),
        click.option("--form", "form_id", help=FORM_HELP),
        click.option("--by", help="Group by a single-choice question id, 'batch', 'channel' "
                                  "or 'unit' (survey.yaml `units:`)."),
        click.option("--period", type=click.Choice(["quarter", "half", "year", "month"]),
                     help="Group by scan quarter (2026-Q3), half year (2026-H1), year or month."),
        click.option("--method", type=click.Choice(["sipas", "pooled"]), default=None,
                     help="Index of a group: mean of its questions' rates (sipas) or pooled "
                          "answers (default: survey.yaml `method:`, else pooled)."),
        click.option("--labels", is_flag=True,
                     help="With -o: question texts and option labels instead of ids and codes."),
        click.option("--from", "date_from", type=_DATE, help="First scan day kept (YYYY-MM-DD)."),
        click.option("--to", "date_to", type=_DATE, help="Last scan day kept (YYYY-MM-DD)."),
    ]):
        command = decorator(command)
    return command


def _run_tally(survey_dir: Path | None, form_id: str | None, by: str | None, period: Period | None,
               method: Method | None, labels: bool, date_from: datetime | None, date_to: datetime | None,
               output: Path | None) -> None:
    from rich.console import Console

    from pipeline.outputs.report.source import load_survey_data
    from pipeline.outputs.tally import tally
    from pipeline.outputs.tally_tables import describe, index_table, tally_table, write_tally

    data = load_survey_data(survey_dir, form_id)
    _warn_if_scan_unfinished(survey_dir)
    result = tally(data.form, data.responses, by=by, period=period,
                   date_from=date_from and date_from.date(), date_to=date_to and date_to.date(),
                   whole_sheet_review=data.whole_sheet_review, units=data.settings.units,
                   method=method or data.settings.method)
    console, errors = Console(), Console(stderr=True)
    warning = result.provisional.message()
    if output is None:
        for line in describe(result):
            console.print(line, highlight=False)
        if warning:
            console.print(f"⚠ {warning}", style="bold yellow", highlight=False)
        console.print(tally_table(result, {q.id: q.text for q in data.form.questions()}))
        console.print(index_table(result))
        return
    for path in write_tally(result, output, data.form if labels else None):
        click.echo(f"Đã ghi / wrote {path}")
    if warning:
        errors.print(f"⚠ {warning}", style="bold yellow", highlight=False)


@cli.command("tally")
@_tally_options
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write FILE.csv (+ FILE-index.csv) or FILE.xlsx instead of the tables.")
def tally_command(survey_dir: Path | None, form_id: str | None, by: str | None, period: Period | None,
                  method: Method | None, labels: bool, date_from: datetime | None, date_to: datetime | None,
                  output: Path | None) -> None:
    """Đếm phiếu và chỉ số hài lòng / count answers and the satisfaction index."""
    _run_tally(survey_dir, form_id, by, period, method, labels, date_from, date_to, output)


@click.command("tally")
@_tally_options
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="FILE.csv (+ FILE-index.csv beside it) or FILE.xlsx.")
def export_tally_command(survey_dir: Path | None, form_id: str | None, by: str | None,
                         period: Period | None, method: Method | None, labels: bool,
                         date_from: datetime | None, date_to: datetime | None, output: Path) -> None:
    """tally.csv + index.csv (or one .xlsx): the same as `phieu tally -o FILE`."""
    _run_tally(survey_dir, form_id, by, period, method, labels, date_from, date_to, output)


export_group.add_command(export_tally_command)


@cli.command("report")
@click.option("--survey", "survey_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Survey workspace (default: the one around the current folder).")
@click.option("--form", "form_id", help=FORM_HELP)
@click.option("--quarter", help="The quarter reported, e.g. 2026-Q3 (sets --from/--to).")
@click.option("--period", help="The period reported: 2026-Q3, 2026-H1 (half year), 2026 "
                               "(year) or 2026-09 (sets --from/--to).")
@click.option("--from", "date_from", type=_DATE, help="First scan day kept (YYYY-MM-DD).")
@click.option("--to", "date_to", type=_DATE, help="Last scan day kept (YYYY-MM-DD).")
@click.option("--compare", help="Compare with this period (default: the one before, when it "
                                "has ballots).")
@click.option("--by", help="Add each group's index, ranked: a single-choice question id, "
                           "'batch', 'channel' or 'unit' (default: 'unit' when survey.yaml "
                           "has `units:`).")
@click.option("--method", type=click.Choice(["sipas", "pooled"]), default=None,
              help="Index method (default: survey.yaml `method:`, else pooled).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="report.html or report.pdf.")
def report_command(survey_dir: Path | None, form_id: str | None, quarter: str | None,
                   period: str | None, date_from: datetime | None, date_to: datetime | None,
                   compare: str | None, by: str | None, method: Method | None, output: Path) -> None:
    """Báo cáo kết quả khảo sát (HTML/PDF) / the survey report to post."""
    from pipeline.outputs.report import build_report, write_report
    from pipeline.outputs.report.source import load_survey_data

    data = load_survey_data(survey_dir, form_id)
    _warn_if_scan_unfinished(survey_dir)
    content = build_report(
        data.form, data.responses, data.pages, data.comments, quarter=quarter,
        date_from=date_from and date_from.date(), date_to=date_to and date_to.date(),
        base_dir=data.root, office=data.office or None,
        whole_sheet_review=data.whole_sheet_review, period=period, compare=compare, by=by,
        units=data.settings.units, method=method or data.settings.method,
        document=data.settings.document, proposals=data.settings.proposals,
    )
    click.echo(f"Đã ghi / wrote {write_report(content, output)} — {content.title}")
    if content.provisional:
        click.echo(f"⚠ {content.provisional}", err=True)



# --- answers collected online or at a kiosk (issue 13) -------------------------


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--channel", type=click.Choice(IMPORT_CHANNELS), required=True,
              help="How the answers were collected.")
@click.option("--form", "form_id", default=None, help=FORM_HELP)
@SURVEY_OPTION
def import_cmd(file: Path, channel: str, form_id: str | None, survey_dir: Path | None) -> None:
    """Nhập câu trả lời trực tuyến / import answers from FILE.csv or FILE.xlsx (the
    responses.csv layout); counted with the paper ballots."""
    from pipeline.scan.importer import import_answers
    from pipeline.store.survey import find_survey, load_survey_forms

    survey = find_survey(survey_dir)
    summary = import_answers(survey, load_survey_forms(survey), file, channel, form_id)
    if summary.already:
        click.echo(f"{file}: đã nhập trước đây, không thêm gì / imported before, nothing added")
        return
    serials = (f", số/serials {summary.first_serial}–{summary.last_serial}"
               if summary.added else "")
    click.echo(f"Đã nhập / imported {summary.added} phiếu/sheets ({summary.form_id} "
               f"v{summary.version}, {channel}{serials}) → đợt/batch {summary.batch}")
    if summary.skipped:
        click.echo(f"Bỏ qua / skipped {summary.skipped} dòng phiếu bị loại / rejected rows")


# --- demo ---------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = sys.argv[1:] if argv is None else argv
    verbose = any(a == "--verbose" or (a.startswith("-v") and set(a[1:]) == {"v"}) for a in args)
    try:
        cli.main(args=argv, prog_name="phieu", standalone_mode=False)
    except PhieuError as err:
        if verbose:
            raise
        click.echo(f"phieu: {err}", err=True)
        return err.exit_code
    except click.exceptions.Abort:
        click.echo("phieu: interrupted (đã dừng)", err=True)
        return 130
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except click.exceptions.Exit as err:
        return err.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
