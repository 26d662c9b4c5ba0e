"""The `phieu` command: parse, call, print. No logic of its own.

Errors raised below derive from `forms.errors.PhieuError`; `main` prints them as
one line (with the remedy) and exits with the error's code. `-v` shows tracebacks.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from forms.errors import PhieuError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """phieu — đọc phiếu khảo sát mức độ hài lòng / reads paper satisfaction surveys."""
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose


# --- forms commands (issue 2) -------------------------------------------------


# --- synth command (issue 3) --------------------------------------------------


# --- survey workspace, scan, status, export (issue 4) ------------------------


# --- review (issue 5) ---------------------------------------------------------


# --- tally and report (issue 6) -----------------------------------------------

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _tally_options(command):
    """The options `phieu tally` and `phieu export tally` share."""
    for decorator in reversed([
        click.option("--survey", "survey_dir", type=click.Path(path_type=Path, file_okay=False),
                     help="Survey workspace (default: the one around the current folder)."),
        click.option("--form", "form_id", help="Form ID (or ID:VERSION) when the survey has several."),
        click.option("--by", help="Group by a single-choice question id, or 'batch'."),
        click.option("--period", type=click.Choice(["quarter", "month"]),
                     help="Group by scan quarter (2026-Q3) or month (2026-09)."),
        click.option("--from", "date_from", type=_DATE, help="First scan day kept (YYYY-MM-DD)."),
        click.option("--to", "date_to", type=_DATE, help="Last scan day kept (YYYY-MM-DD)."),
    ]):
        command = decorator(command)
    return command


def _run_tally(survey_dir, form_id, by, period, date_from, date_to, output) -> None:
    from rich.console import Console

    from pipeline.report_source import load_survey_data
    from pipeline.report_tally import describe, index_table, tally_table, write_tally
    from pipeline.tally import tally

    data = load_survey_data(survey_dir, form_id)
    result = tally(data.form, data.responses, by=by, period=period,
                   date_from=date_from and date_from.date(), date_to=date_to and date_to.date())
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
    for path in write_tally(result, output):
        click.echo(f"Đã ghi / wrote {path}")
    if warning:
        errors.print(f"⚠ {warning}", style="bold yellow", highlight=False)


@cli.command("tally")
@_tally_options
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write FILE.csv (+ FILE-index.csv) or FILE.xlsx instead of the tables.")
def tally_command(survey_dir, form_id, by, period, date_from, date_to, output) -> None:
    """Đếm phiếu và chỉ số hài lòng / count answers and the satisfaction index."""
    _run_tally(survey_dir, form_id, by, period, date_from, date_to, output)


@click.command("tally")
@_tally_options
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="FILE.csv (+ FILE-index.csv beside it) or FILE.xlsx.")
def export_tally_command(survey_dir, form_id, by, period, date_from, date_to, output) -> None:
    """tally.csv + index.csv (or one .xlsx): the same as `phieu tally -o FILE`."""
    _run_tally(survey_dir, form_id, by, period, date_from, date_to, output)


@cli.command("report")
@click.option("--survey", "survey_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Survey workspace (default: the one around the current folder).")
@click.option("--form", "form_id", help="Form ID (or ID:VERSION) when the survey has several.")
@click.option("--quarter", help="The quarter reported, e.g. 2026-Q3 (sets --from/--to).")
@click.option("--from", "date_from", type=_DATE, help="First scan day kept (YYYY-MM-DD).")
@click.option("--to", "date_to", type=_DATE, help="Last scan day kept (YYYY-MM-DD).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="report.html or report.pdf.")
def report_command(survey_dir, form_id, quarter, date_from, date_to, output) -> None:
    """Báo cáo kết quả khảo sát (HTML/PDF) / the survey report to post."""
    from pipeline.report import build_report, write_report
    from pipeline.report_source import load_survey_data

    data = load_survey_data(survey_dir, form_id)
    content = build_report(
        data.form, data.responses, data.pages, data.comments, quarter=quarter,
        date_from=date_from and date_from.date(), date_to=date_to and date_to.date(),
        base_dir=data.root, office=data.office or None,
    )
    click.echo(f"Đã ghi / wrote {write_report(content, output)} — {content.title}")
    if content.provisional:
        click.echo(f"⚠ {content.provisional}", err=True)



# --- demo ---------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    verbose = "-v" in (argv or sys.argv[1:]) or "--verbose" in (argv or sys.argv[1:])
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
