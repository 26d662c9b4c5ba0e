"""Accuracy of the whole product, through the real CLI, on a hard generated deck.

    .venv/bin/python benchmarks/scan_accuracy.py --sheets 300 --jobs 2 [--json figures.json]

What a clerk does, each step a subprocess of the installed `phieu`:

1. `phieu synth` a box of each shipped form (`mot-cua`, `sipas`; sipas serials start at
   100001 so that `comments.csv`, which has no form column, is unambiguous) with
   `--format mixed` (feeder batches written in turn as a multipage PDF, a multipage TIFF,
   loose JPEGs and loose PNGs) and a harder capture mix than the default (more upside-down,
   sideways, phone and folded pages; pens, pencils, blur, noise, JPEG, specks and
   bleed-through come from the generator). Boxes are cached under `--cache`, named by
   their parameters and the form's layout (the truth travels with its box, so a cached box
   stays right when the generator changes; delete the folder to regenerate);
2. `phieu init` one survey with both forms, `phieu scan BOX_MC BOX_SIPAS --jobs N` (timed,
   with the load average at its start);
3. `phieu export responses --form F`, `phieu export pages`, `phieu export comments` (CSV,
   read back with pandas through the BOM) and `phieu review list` (the open flags with their
   reasons: the only output that shows a whole-sheet flag);
4. everything compared with each box's `truth.json`.

Definitions (strict):
- a question is **flagged** when its id is in its row's `flagged` column, or when the sheet's
  `status` is `needs_review`/`rejected` AND `phieu review list` shows an open whole-sheet flag
  on it (`duplicate`, `missing_page`, `blank_ballot`, `unreadable`);
- a **silent error** is any of: a choice question not flagged whose exported codes differ
  from the truth's clear marks (`expected`; a marginal mark counted as a vote is one); an
  overvote not flagged; a page read as another sheet or form than it shows; a row in
  responses.csv for a sheet that was never printed; a sheet of the box absent from
  responses.csv while none of its pages is in pages.csv as not read; an input page absent
  from pages.csv. The target is zero;
- marginal marks (per target): flagged, or its option absent from the exported value;
- comments: the character error rate (edit distance / truth length, whitespace collapsed)
  of the exported text against what was written, over every written comment of a sheet in
  responses.csv (an empty export counts as all wrong) and over those not flagged;
- a question's capture kind is that of the page it is printed on.

Prints Markdown tables (by capture kind; sheets per form; the scan's wall time, sheets/s
and the load average at its start); `--json FILE` writes every count. Exits 1 when there
is any silent error.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from read_deck import fingerprint  # noqa: E402
from truth_compare import edit_distance, normalise, share  # noqa: E402

from fixtures.truth import BoxTruth, QuestionTruth, SheetTruth, load_truth  # noqa: E402
from forms.layout import layout_form  # noqa: E402
from forms.library import load_form  # noqa: E402
from pipeline.store.vocabulary import FlagReason, PageStatus, SheetStatus  # noqa: E402

PHIEU = Path(sys.executable).parent / "phieu"
FORMS = {"mot-cua": 1, "sipas": 100001}  # form -> first serial (disjoint ranges)
HARD_MIX = "scan=0.4,upside_down=0.15,sideways=0.15,phone=0.2,folded=0.1"
WHOLE_SHEET = frozenset({FlagReason.DUPLICATE, FlagReason.MISSING_PAGE, FlagReason.BLANK_BALLOT, FlagReason.UNREADABLE})
FLAGGED_STATUSES = frozenset({SheetStatus.NEEDS_REVIEW, SheetStatus.REJECTED})


def phieu(*args: object, cwd: Path | None = None) -> str:
    """Run `phieu ARGS` and return its stdout; stops the benchmark with stderr on failure."""
    proc = subprocess.run([str(PHIEU), *map(str, args)], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"phieu {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                         f"{proc.stderr}{proc.stdout}")
    return proc.stdout


def make_box(form: str, sheets: int, seed: int, dpi: int, mix: str, cache: Path) -> Path:
    """The box folder of `form` made by `phieu synth` (reused when cached with the same
    parameters and the same form layout)."""
    tag = f"{mix}-{fingerprint(form)}".encode()
    out = cache / f"{form}-s{sheets}-seed{seed}-dpi{dpi}-{hashlib.sha1(tag).hexdigest()[:10]}"
    if (out / "truth.json").is_file():
        return out
    phieu("synth", "--form", form, "--sheets", sheets, "--out", out, "--seed", seed,
          "--dpi", dpi, "--mix", mix, "--format", "mixed", "--first-serial", FORMS[form])
    return out


@dataclass(frozen=True)
class ScanRun:
    """One `phieu scan` of the boxes: wall time, load average at its start, its summary."""

    wall: float
    load: float
    summary: str


def scan(boxes: list[Path], jobs: int, ws: Path) -> ScanRun:
    """`phieu init` a survey of both forms in `ws`, then `phieu scan` every box, timed."""
    phieu("init", ws, *[a for f in FORMS for a in ("--form", f)])
    load = os.getloadavg()[0]
    start = time.perf_counter()
    out = phieu("scan", *boxes, "--jobs", jobs, "--batch", "accuracy", cwd=ws)
    return ScanRun(time.perf_counter() - start, load, out)


@dataclass(frozen=True)
class Exports:
    """What the CLI exported: responses.csv per form, pages.csv, comments.csv, and the
    open whole-sheet flags per (form, serial) from `phieu review list`."""

    responses: dict[str, pd.DataFrame]
    pages: pd.DataFrame
    comments: pd.DataFrame
    sheet_flags: dict[tuple[str, int], frozenset[str]]


def read_csv(path: Path) -> pd.DataFrame:
    """A phieu CSV as strings (the BOM stripped, empty cells as "")."""
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def export(ws: Path) -> Exports:
    """Every export of the survey in `ws`, through the CLI."""
    responses = {}
    for form in FORMS:
        phieu("export", "responses", "--form", form, "-o", ws / f"responses-{form}.csv", cwd=ws)
        responses[form] = read_csv(ws / f"responses-{form}.csv")
    phieu("export", "pages", "-o", ws / "pages.csv", cwd=ws)
    phieu("export", "comments", "-o", ws / "comments.csv", cwd=ws)
    flags: dict[tuple[str, int], set[str]] = defaultdict(set)
    for line in phieu("review", "list", cwd=ws).splitlines():
        _id, reason, form, serial, question, *_ = line.split("\t")
        if reason in WHOLE_SHEET and question == "-" and serial != "-":
            flags[(form, int(serial))].add(reason)
    return Exports(responses, read_csv(ws / "pages.csv"), read_csv(ws / "comments.csv"),
                   {k: frozenset(v) for k, v in flags.items()})


def keep(ws: Path, folder: Path) -> None:
    """The survey's readings as sorted CSV files in `folder`: every target's score, state
    and snap per input page (`targets.csv`), every answer (`answers.csv`), and the exports.
    Rows are keyed by input file name and page, not by ids, so two runs compare by `diff`."""
    folder.mkdir(parents=True, exist_ok=True)
    queries = {
        "targets.csv": "SELECT s.path, p.page_index, t.question, t.option, t.score, t.state, "
                       "t.offset_x_mm, t.offset_y_mm FROM target_scores t JOIN pages p ON p.id = t.page_id "
                       "JOIN sources s ON s.id = p.source_id",
        "answers.csv": "SELECT h.form, h.serial, h.status, a.question, a.source, a.value, a.status "
                       "FROM answers a JOIN sheets h ON h.id = a.sheet_id",
    }
    with sqlite3.connect(ws / "survey.sqlite") as db:
        for name, sql in queries.items():
            rows = sorted(tuple(Path(v).name if i == 0 and name == "targets.csv" else v
                                for i, v in enumerate(row)) for row in db.execute(sql))
            (folder / name).write_text("".join(",".join(map(str, r)) + "\n" for r in rows), encoding="utf-8")
    for path in ws.glob("*.csv"):
        shutil.copy(path, folder / path.name)
    (folder / "review.txt").write_text(phieu("review", "list", cwd=ws), encoding="utf-8")


def question_pages(form: str) -> dict[str, int]:
    """Question id -> the form page it is printed on (from the layout, the one source)."""
    pages = {}
    for page in layout_form(load_form(form)).pages:
        g = page.geometry
        for item in (*g.targets, *g.text_fields):
            pages[item.question] = g.page
    return pages


class Comparison:
    """Counts by capture kind (and per form for sheets), filled form by form."""

    def __init__(self) -> None:
        self.by_kind: dict[str, Counter] = defaultdict(Counter)
        self.failures: dict[str, Counter] = defaultdict(Counter)
        self.sheets: dict[str, Counter] = defaultdict(Counter)
        self.examples: list[str] = []

    def silent(self, kind: str, what: str, example: str) -> None:
        self.by_kind[kind][what] += 1
        self.by_kind[kind]["silent"] += 1
        self.examples.append(f"silent ({what}): {example}")

    # --- pages -------------------------------------------------------------------------
    def pages(self, box: Path, truth: BoxTruth, exports: Exports) -> dict[tuple[int, int], bool]:
        """Every input page against pages.csv; returns (serial, form page) -> was read."""
        rows = {(str(Path(r.source).resolve()), int(r.page)): r
                for r in exports.pages.itertuples(index=False)}
        read: dict[tuple[int, int], bool] = {}
        for p in truth.pages:
            c = self.by_kind[p.capture]
            c["pages"] += 1
            row = rows.get((str((box / p.file).resolve()), p.index))
            if row is None:
                self.silent(p.capture, "page_missing_from_pages_csv", f"{box.name}/{p.file} page {p.index}")
                read[(p.serial, p.page)] = False
                continue
            c["pages_in_csv"] += 1
            if row.status != PageStatus.READ:
                self.failures[p.capture][f"{row.status}:{row.reason or '-'}"] += 1
                c["pages_not_read"] += 1
                c["pages_duplicate"] += row.status == PageStatus.DUPLICATE
            # A page not read is flagged whole whatever identity it was given.
            if row.status in (PageStatus.READ, PageStatus.DUPLICATE):
                if (row.form, row.serial) != (truth.form, str(p.serial)):
                    self.silent(p.capture, "wrong_identity",
                                f"{p.file} page {p.index}: shows {truth.form} {p.serial}, "
                                f"read as {row.form} {row.serial}")
            read[(p.serial, p.page)] = row.status == PageStatus.READ
        return read

    # --- sheets and questions ----------------------------------------------------------
    def form(self, box: Path, truth: BoxTruth, exports: Exports) -> None:
        """Pages, sheets, every question and comment of one form's box."""
        read = self.pages(box, truth, exports)
        captures = {(p.serial, p.page): p.capture for p in truth.pages}
        where = question_pages(truth.form)
        frame = exports.responses[truth.form]
        rows = {int(r["serial"]): r for r in frame.to_dict("records")}
        s = self.sheets[truth.form]
        s["truth_sheets"] = len(truth.sheets)
        s["rows"] = len(rows)
        s.update(f"status:{st}" for st in frame["status"])
        known = {sh.serial for sh in truth.sheets}
        for serial in sorted(set(rows) - known):
            s["phantom_rows"] += 1
            self.silent("all", "phantom_sheet", f"{truth.form} serial {serial} in responses.csv")
        for sheet in truth.sheets:
            row = rows.get(sheet.serial)
            pages_read = [read.get((sheet.serial, n), False) for n in sorted(set(where.values()))]
            if row is None:
                if all(pages_read):
                    self.silent("all", "sheet_lost", f"{truth.form} {sheet.serial}: every page "
                                "read, no row in responses.csv")
                else:
                    s["absent_pages_not_read"] += 1  # accounted for in pages.csv, flagged
                continue
            flags = exports.sheet_flags.get((truth.form, sheet.serial), frozenset())
            whole = bool(flags) and row["status"] in FLAGGED_STATUSES
            s.update(f"sheet_flag:{f}" for f in flags)
            s["whole_sheet_flagged"] += whole
            for q in sheet.questions:
                kind = captures[(sheet.serial, where[q.question])]
                self.question(kind, truth.form, sheet, q, row, whole)

    def question(self, kind: str, form: str, sheet: SheetTruth, q: QuestionTruth, row: dict,
                 whole: bool) -> None:
        flagged_q = q.question in set(filter(None, row["flagged"].split("|")))
        flagged = flagged_q or whole
        c = self.by_kind[kind]
        if q.type == "text":
            self.comment(c, q, row[q.question], flagged_q, flagged)
            return
        value = frozenset(filter(None, row[q.question].split("|")))
        expected = frozenset(q.expected)
        c["questions"] += 1
        c["questions_flagged"] += flagged
        c["questions_under_sheet_flag"] += whole and not flagged_q
        where = f"{form} {sheet.serial} {q.question} ({kind}): truth {sorted(expected)} " \
                f"flags {list(q.flags)}, exported {sorted(value)!r}"
        if FlagReason.OVERVOTE in q.flags:
            c["overvotes"] += 1
            c["overvotes_flagged"] += flagged
            if not flagged:
                self.silent(kind, "overvote_not_flagged", where)
            return
        if FlagReason.MARGINAL in q.flags:
            for t in sheet.targets:
                if t.question == q.question and t.intent == "marginal":
                    c["marginal_marks"] += 1
                    c["marginal_ok"] += flagged or t.option not in value
        else:
            key = "clear" if expected else "blank"
            c[f"{key}_questions"] += 1
            c[f"{key}_flagged"] += flagged_q
        if not flagged and value != expected:
            self.silent(kind, "wrong_value", where)

    def comment(self, c: Counter, q: QuestionTruth, exported: str, flagged_q: bool,
                flagged: bool) -> None:
        truth, got = normalise(q.text), normalise(exported)
        if not truth:
            c["comments_blank"] += 1
            c["blank_with_text"] += bool(got)
            c["blank_with_text_unflagged"] += bool(got) and not flagged
            return
        errors = edit_distance(truth, got)
        c["comments_written"] += 1
        c["comments_flagged"] += flagged_q
        c["comments_empty"] += not got
        c["comments_empty_unflagged"] += not got and not flagged
        c["cer_chars"] += len(truth)
        c["cer_errors"] += errors
        if not flagged:
            c["cer_chars_kept"] += len(truth)
            c["cer_errors_kept"] += errors

    # --- comments.csv against responses.csv --------------------------------------------
    def comments_csv(self, exports: Exports, truths: dict[str, BoxTruth]) -> None:
        """comments.csv against responses.csv (same text and flag on every row) and against
        the truth: written comments it lacks, and blank boxes it lists (read as written)."""
        s = self.sheets["comments.csv"]
        listed = set()
        for r in exports.comments.itertuples(index=False):
            form = "sipas" if int(r.serial) >= FORMS["sipas"] else "mot-cua"
            listed.add((form, int(r.serial), r.question))
            frame = exports.responses[form]
            match = frame[frame["serial"] == r.serial]
            s["rows"] += 1
            if len(match) != 1:
                s["no_response_row"] += 1
                continue
            row = match.iloc[0]
            same_text = row[r.question] == r.text
            same_flag = (r.question in row["flagged"].split("|")) == (r.flagged == "True")
            s["agree"] += same_text and same_flag
            if not (same_text and same_flag):
                self.examples.append(f"comments.csv differs from responses.csv: {form} {r.serial}")
        for form, truth in truths.items():
            for sheet in truth.sheets:
                for q in sheet.questions:
                    if q.type != "text":
                        continue
                    here = (form, sheet.serial, q.question) in listed
                    written = bool(q.text.strip())
                    s["written_not_listed"] += written and not here
                    s["blank_listed"] += here and not written
                    if here and not written:
                        self.examples.append(f"blank comment box listed in comments.csv: "
                                             f"{form} {sheet.serial} {q.question}")


def totals(cmp: Comparison) -> dict[str, Counter]:
    """Counts per capture kind plus an "all" column."""
    kinds = sorted(k for k in cmp.by_kind if k != "all")
    out = {k: cmp.by_kind[k] for k in kinds}
    everything = Counter()
    for k in cmp.by_kind.values():
        everything.update(k)
    out["all"] = everything
    return out


def cer(errors: int, chars: int) -> str:
    return f"{100.0 * errors / chars:.1f}%" if chars else "-"


def report(cmp: Comparison, run: ScanRun, sheets_total: int, pages_total: int) -> None:
    """The Markdown tables: by capture kind, then sheets per form, then timing."""
    cols = totals(cmp)
    print("| | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")

    def line(label: str, fn) -> None:
        print(f"| {label} | " + " | ".join(fn(c) for c in cols.values()) + " |")

    line("input pages / rows in pages.csv", lambda c: f"{c['pages']} / {c['pages_in_csv']}"
         if c["pages"] else "-")
    line("pages not read", lambda c: share(c["pages_not_read"], c["pages"]))
    line("pages stored as duplicates (none expected)", lambda c: str(c["pages_duplicate"]))
    line("choice questions exported", lambda c: str(c["questions"]))
    line("choice questions flagged (any reason)", lambda c: share(c["questions_flagged"], c["questions"]))
    line("**silent errors**", lambda c: f"**{c['silent']}**")
    line("overvotes flagged", lambda c: share(c["overvotes_flagged"], c["overvotes"]))
    line("clear answers flagged", lambda c: share(c["clear_flagged"], c["clear_questions"]))
    line("blank questions flagged", lambda c: share(c["blank_flagged"], c["blank_questions"]))
    line("marginal marks flagged or read as no answer",
         lambda c: share(c["marginal_ok"], c["marginal_marks"]))
    line("questions under a whole-sheet flag only", lambda c: str(c["questions_under_sheet_flag"]))
    line("written comments exported empty (unflagged)",
         lambda c: f"{c['comments_empty']}/{c['comments_written']} ({c['comments_empty_unflagged']})")
    line("blank comment boxes exported with text (unflagged)",
         lambda c: f"{c['blank_with_text']}/{c['comments_blank']} ({c['blank_with_text_unflagged']})")
    line("OCR CER, all written comments", lambda c: cer(c["cer_errors"], c["cer_chars"]))
    line("OCR CER, comments not flagged", lambda c: cer(c["cer_errors_kept"], c["cer_chars_kept"]))
    line("comments flagged for a person", lambda c: share(c["comments_flagged"], c["comments_written"]))

    print("\npages not read, by status:reason:")
    for kind, reasons in sorted(cmp.failures.items()):
        print(f"  {kind}: {dict(reasons)}")
    silent = Counter()
    for c in cmp.by_kind.values():
        silent.update({k: v for k, v in c.items() if k in SILENT_KINDS})
    print(f"silent errors by kind: {dict(silent) or 0}")

    print("\n| form | sheets in box | rows in responses.csv | by status | absent (a page not read) "
          "| whole-sheet flags | phantom rows |")
    print("|---|---|---|---|---|---|---|")
    for form in FORMS:
        s = cmp.sheets[form]
        status = ", ".join(f"{k.split(':')[1]} {v}" for k, v in sorted(s.items()) if k.startswith("status:"))
        flags = ", ".join(f"{k.split(':')[1]} {v}" for k, v in sorted(s.items())
                          if k.startswith("sheet_flag:")) or "0"
        print(f"| {form} | {s['truth_sheets']} | {s['rows']} | {status} | "
              f"{s['absent_pages_not_read']} | {flags} | {s['phantom_rows']} |")
    cc = cmp.sheets["comments.csv"]
    print(f"\ncomments.csv: {cc['rows']} rows, {cc['agree']} agreeing with responses.csv (text "
          f"and flag); written comments not listed {cc['written_not_listed']}; blank boxes "
          f"listed (read as written) {cc['blank_listed']}")
    print(f"\nscan: {run.wall:.1f} s wall for {sheets_total} sheets ({pages_total} pages): "
          f"{sheets_total / run.wall:.2f} sheets/s, {pages_total / run.wall:.2f} pages/s; "
          f"load average at start {run.load:.1f}")
    print("\nphieu scan said:\n" + "\n".join("  " + ln for ln in run.summary.splitlines()))
    if cmp.examples:
        print("\nexamples:")
        for e in cmp.examples[:30]:
            print("  " + e)


SILENT_KINDS = ("wrong_value", "overvote_not_flagged", "wrong_identity", "phantom_sheet",
                "sheet_lost", "page_missing_from_pages_csv")


def figures(cmp: Comparison, run: ScanRun, args: argparse.Namespace) -> dict:
    """Everything measured, for `--json`."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "sheets_per_form": args.sheets, "seed": args.seed, "dpi": args.dpi, "mix": args.mix,
        "jobs": args.jobs, "scan_wall_s": round(run.wall, 2), "load_at_start": run.load,
        "by_capture": {k: dict(c) for k, c in totals(cmp).items()},
        "pages_not_read": {k: dict(v) for k, v in cmp.failures.items()},
        "sheets": {k: dict(v) for k, v in cmp.sheets.items()},
        "examples": cmp.examples,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sheets", type=int, default=300, help="sheets per form")
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--mix", default=HARD_MIX, help="capture kinds, as `phieu synth --mix`")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "phieu-scan-accuracy")
    ap.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    ap.add_argument("--keep", type=Path, help="also write every page's target scores and states, the "
                    "answers and the exports to this folder (to compare two versions of the reader)")
    args = ap.parse_args(argv)

    boxes = {f: make_box(f, args.sheets, args.seed, args.dpi, args.mix, args.cache) for f in FORMS}
    truths = {f: load_truth(b) for f, b in boxes.items()}
    with tempfile.TemporaryDirectory(prefix="phieu-acc-") as tmp:
        ws = Path(tmp) / "survey"
        run = scan(list(boxes.values()), args.jobs, ws)
        exports = export(ws)
        if args.keep:
            keep(ws, args.keep)
    cmp = Comparison()
    for form, box in boxes.items():
        cmp.form(box, truths[form], exports)
    cmp.comments_csv(exports, truths)
    sheets = sum(len(t.sheets) for t in truths.values())
    pages = sum(len(t.pages) for t in truths.values())
    print(f"deck: {', '.join(FORMS)} x {args.sheets} sheets, seed {args.seed}, {args.dpi} dpi, "
          f"mix {args.mix}, --format mixed; phieu scan --jobs {args.jobs}\n")
    report(cmp, run, sheets, pages)
    if args.json:
        args.json.write_text(json.dumps(figures(cmp, run, args), ensure_ascii=False, indent=1),
                             encoding="utf-8")
    return 1 if totals(cmp)["all"]["silent"] else 0


if __name__ == "__main__":
    sys.exit(main())
