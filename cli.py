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
