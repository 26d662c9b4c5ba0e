"""Accuracy of reading on a generated deck, by capture kind.

    .venv/bin/python benchmarks/read_accuracy.py --sheets 400 --seed 7

Generates (once, cached under /tmp/phieu-read-deck) a ballot box of each
shipped form with `fixtures.box.make_ballot_box`, reads every page with
`omr.read_page` exactly as the pipeline does (JPEG bytes -> `decode_image`
-> `read_page`, OCR on), and compares with the truth:

- silent errors: a clear mark or a clean empty target read wrong in a
  question the reader did not flag, and a page given a wrong identity
  (must be zero);
- overvotes flagged (all), share of clear answers flagged (<= 2%), share of
  marginal marks flagged or read as no answer (>= 90%);
- page failures by reason; comments: written fields missed, blank fields
  read as written, OCR character error rate and share flagged for a person;
- how each page was registered (`PageQuality.registered_by`: the markers, or
  the printed content seeded by the QR code and markers);
- folds over answers (capture ``fold_over``): the questions the truth says a
  fold covers, flagged `folded` (must be all); questions flagged `folded`
  that no fold covers.

Answer positions are targets on pages that were read (failed pages are
flagged whole, none of their answers is counted). ``--mix`` reads a deck of
other capture kinds, e.g. the hard ones:

    .venv/bin/python benchmarks/read_accuracy.py --sheets 40 --seed 21 --no-ocr \
        --mix tight=0.35,corners_out=0.35,fold_over=0.3
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from read_deck import FORMS, ReadPage, ensure_deck, prepare_deck_templates, read_deck  # noqa: E402
from truth_compare import edit_distance, normalise, share  # noqa: E402

from fixtures.box import mix_from_text  # noqa: E402


class Tally:
    """Counts for one capture kind (plain counters; `add_page` fills them)."""

    def __init__(self) -> None:
        self.c: Counter = Counter()
        self.failures: Counter = Counter()
        self.routes: Counter = Counter()
        self.cer_chars = 0
        self.cer_errors = 0
        self.cer_chars_kept = 0  # comments not flagged: the text taken without a person
        self.cer_errors_kept = 0
        self.seconds: list[float] = []
        self.examples: list[str] = []

    def add_page(self, rp: ReadPage) -> None:
        self.c["pages"] += 1
        self.seconds.append(rp.seconds)
        reading = rp.reading
        if not reading:
            self.failures[reading.reason] += 1
            self.examples.append(f"failed {rp.truth.file}: {reading.message[-140:]}")
            return
        self.c["read"] += 1
        self.routes[reading.quality.registered_by] += 1
        if (reading.identity.serial, reading.identity.page) != (rp.truth.serial, rp.truth.page):
            self.c["wrong_identity"] += 1
            self.examples.append(f"wrong identity {reading.identity} on {rp.truth.file}")
            return
        decided = {q.question: q for q in reading.questions}
        self._folds(rp, decided)
        texts = {t.question: t for t in reading.texts}
        states = {(t.question, t.option): t for t in reading.targets}
        page_questions = {t.question for t in reading.targets} | set(texts)
        for qt in rp.sheet.questions:
            if qt.question not in page_questions:
                continue
            q = decided[qt.question]
            if qt.type == "text":
                self._text(qt, texts[qt.question], q)
            else:
                self._choice(rp, qt, q, states)

    def _folds(self, rp: ReadPage, decided: dict) -> None:
        covered = set(rp.truth.params.get("covered", ()))
        for question, q in decided.items():
            folded = "folded" in q.reasons
            if question in covered:
                self.c["covered"] += 1
                self.c["covered_folded"] += folded
                self.c["covered_flagged"] += q.status == "flagged"
                if not folded:
                    self.examples.append(f"fold not flagged: {rp.truth.file} {question} -> {q.status} {q.reasons}")
            else:
                self.c["uncovered"] += 1
                self.c["folded_extra"] += folded

    def _choice(self, rp: ReadPage, qt, q, states) -> None:
        flagged = q.status == "flagged"
        targets = [t for t in rp.sheet.targets if t.question == qt.question]
        self.c["positions"] += len(targets)
        for t in targets:
            state = states[(t.question, t.option)].state
            self.c[f"intent_{t.intent}"] += 1
            if t.intent == "marginal":
                self.c["marginal_ok" if flagged or state != "marked" else "marginal_counted"] += 1
            elif t.intent == "cancelled":  # the printed correction rule: never counted
                if not flagged and t.option in q.value:
                    self.c["silent_target"] += 1
                    self.examples.append(f"silent: {rp.truth.file} {t.question}/{t.option} {t.kind} counted")
            elif not flagged and (t.intent == "marked") != (state == "marked"):
                self.c["silent_target"] += 1
                self.examples.append(
                    f"silent: {rp.truth.file} {t.question}/{t.option} {t.kind} ({t.pen}) "
                    f"read {state} score {states[(t.question, t.option)].score}"
                )
        if qt.question in rp.truth.params.get("covered", ()):
            return  # under a fold: must be flagged, counted in `_folds`
        if "overvote" in qt.flags:
            self.c["overvotes"] += 1
            self.c["overvotes_flagged"] += flagged
        elif not qt.flags:
            kind = "clear" if qt.expected else "blank"
            self.c[f"{kind}_questions"] += 1
            if flagged:
                self.c[f"{kind}_flagged"] += 1
            elif tuple(q.value) != tuple(qt.expected):
                self.c["silent_question"] += 1

    def _text(self, qt, text, q) -> None:
        written = bool(qt.text.strip())
        self.c["comments_written" if written else "comments_blank"] += 1
        if written and text.blank:
            self.c["comments_missed"] += 1
            return
        if not written:
            self.c["blank_read_as_written"] += not text.blank
            return
        truth, got = normalise(qt.text), normalise(text.text)
        errors = edit_distance(truth, got)
        self.cer_chars += len(truth)
        self.cer_errors += errors
        self.c["comments_flagged"] += q.status == "flagged"
        if q.status != "flagged":
            self.cer_chars_kept += len(truth)
            self.cer_errors_kept += errors


def report(tallies: dict[str, Tally], forms: str, seconds: float) -> None:
    kinds = sorted(tallies)
    total = Tally()
    for t in tallies.values():
        total.c.update(t.c)
        total.failures.update(t.failures)
        total.routes.update(t.routes)
        total.cer_chars += t.cer_chars
        total.cer_errors += t.cer_errors
        total.cer_chars_kept += t.cer_chars_kept
        total.cer_errors_kept += t.cer_errors_kept
        total.seconds += t.seconds
        total.examples += t.examples
    columns = kinds + ["all"]
    rows = {k: tallies[k] for k in kinds} | {"all": total}
    print(f"forms: {forms}; {total.c['pages']} pages, {total.c['positions']} answer positions "
          f"read; {seconds:.0f} s\n")
    print("| | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")

    def line(label: str, fn) -> None:
        print(f"| {label} | " + " | ".join(fn(rows[k]) for k in columns) + " |")

    line("pages", lambda t: str(t.c["pages"]))
    line("pages read", lambda t: share(t.c["read"], t.c["pages"]))
    line("page failures", lambda t: share(sum(t.failures.values()), t.c["pages"]))
    line("registered on markers", lambda t: share(t.routes["markers"], t.c["read"]))
    line("registered on content", lambda t: share(t.c["read"] - t.routes["markers"], t.c["read"]))
    line("median s per page (decode + read)", lambda t: f"{statistics.median(t.seconds):.2f}" if t.seconds else "-")
    line("answer positions", lambda t: str(t.c["positions"]))
    line("silent errors (targets)", lambda t: str(t.c["silent_target"]))
    line("silent errors (questions)", lambda t: str(t.c["silent_question"]))
    line("wrong page identity", lambda t: str(t.c["wrong_identity"]))
    line("questions under a fold flagged `folded`", lambda t: share(t.c["covered_folded"], t.c["covered"]))
    line("questions under a fold flagged (any reason)", lambda t: share(t.c["covered_flagged"], t.c["covered"]))
    line("other questions flagged `folded`", lambda t: share(t.c["folded_extra"], t.c["uncovered"]))
    line("overvotes flagged", lambda t: share(t.c["overvotes_flagged"], t.c["overvotes"]))
    line("clear answers flagged", lambda t: share(t.c["clear_flagged"], t.c["clear_questions"]))
    line("clean blanks flagged", lambda t: share(t.c["blank_flagged"], t.c["blank_questions"]))
    line("marginal flagged or no answer", lambda t: share(t.c["marginal_ok"], t.c["intent_marginal"]))
    line("comments missed (read blank)", lambda t: share(t.c["comments_missed"], t.c["comments_written"]))
    line("blank fields read as written", lambda t: share(t.c["blank_read_as_written"], t.c["comments_blank"]))
    line("OCR CER, all written comments",
         lambda t: f"{100.0 * t.cer_errors / t.cer_chars:.1f}%" if t.cer_chars else "-")
    line("OCR CER, comments not flagged", lambda t: f"{100.0 * t.cer_errors_kept / t.cer_chars_kept:.1f}%"
         if t.cer_chars_kept else "-")
    line("comments flagged for a person", lambda t: share(t.c["comments_flagged"],
                                                          t.c["comments_written"] - t.c["comments_missed"]))
    print("\npage failures by reason:")
    for k in columns:
        print(f"  {k}: {dict(rows[k].failures) or '-'}")
    print("\nregistered by:")
    for k in columns:
        print(f"  {k}: {dict(rows[k].routes) or '-'}")
    if total.examples:
        print("\nexamples:")
        for e in total.examples[:30]:
            print("  " + e)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sheets", type=int, default=400, help="sheets per form")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--no-ocr", action="store_true", help="skip OCR (no CER)")
    ap.add_argument("--mix", default="", help="capture mix, e.g. tight=0.5,fold_over=0.5 (default: the generator's)")
    args = ap.parse_args()
    mix = mix_from_text(args.mix) if args.mix else None
    catalog = prepare_deck_templates()
    tallies: dict[str, Tally] = defaultdict(Tally)
    start = time.perf_counter()
    for form_id in FORMS:
        out, truth = ensure_deck(form_id, args.sheets, args.seed, args.dpi, mix)
        for rp in read_deck(out, truth, catalog, ocr=not args.no_ocr):
            tallies[rp.truth.capture].add_page(rp)
    mixed = f", mix {args.mix}" if args.mix else ""
    report(dict(tallies), f"{', '.join(FORMS)} x {args.sheets} sheets, seed {args.seed}, {args.dpi} dpi{mixed}",
           time.perf_counter() - start)


if __name__ == "__main__":
    main()
