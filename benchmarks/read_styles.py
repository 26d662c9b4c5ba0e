"""Reading marks as people make them: errors per style of mark and per target
shape, and the leave-one-style-out calibration.

    .venv/bin/python benchmarks/read_styles.py --sheets 150 --seed 31 --held-out-seed 32

Two decks of both shipped forms in the wider mark model (`style_deck.py`:
every style of `fixtures.marks.DIGIT_WIDE_MARKED_KINDS` and
`BOX_WIDE_MARKED_KINDS`, corrections by the printed rule, hesitation dots,
faint strokes, abandoned arcs, specks anywhere near; feeder scans, turned
pages, phone photos and folds in the generator's default mix), read once with
`omr.read_page` (no OCR); every decision below is re-made from the raw
evidence kept in the readings (`omr.decide`), so thresholds can be changed
without reading again.

1. Thresholds chosen by `choose_thresholds` on the first deck (seed `--seed`),
   every style in; the errors per style and shape on the second deck
   (`--held-out-seed`), and with `omr.thresholds.DEFAULT_THRESHOLDS`.
2. Leave one style out: for each style, thresholds chosen on the first deck
   without it, the errors on that style alone, in the second deck.

A silent error is a target read wrong in a question the reader did not flag:
a clear mark not counted, a cancelled, marginal or empty target counted.
"""
from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from read_deck import FORMS, prepare_deck_templates, read_deck  # noqa: E402
from style_deck import MODEL, ensure_style_deck  # noqa: E402

from fixtures.truth import SheetTruth  # noqa: E402
from omr import Catalog, decide  # noqa: E402
from omr.decide import FOLDED, OFF_PAGE, new_ink_mm2  # noqa: E402
from omr.reading import DigitEvidence, TargetScore  # noqa: E402
from omr.template import snap_at_reach  # noqa: E402
from omr.thresholds import DEFAULT_THRESHOLDS, SPECK_MM, Thresholds  # noqa: E402


@dataclass(frozen=True)
class Row:
    """One target as read, with its truth."""

    shape: str
    kind: str
    intent: str
    target: TargetScore
    covered: bool = False  # its question flagged as not shown by the capture (see `Page.covered`)


@dataclass(frozen=True)
class Page:
    """One read page: its targets' raw readings, what decide needs, the truth."""

    form: str
    types: dict
    shapes: dict
    targets: tuple[TargetScore, ...]
    sheet: SheetTruth
    rows: tuple[Row, ...]
    # Questions the reader flagged because the capture does not show them
    # (a fold over them, or outside the photo): flagged whatever their
    # marks, and no evidence for choosing thresholds (a fold's edge is a
    # straight line beside a digit that no hand drew).
    covered: frozenset[str] = frozenset()


def _code_key() -> str:
    """A hash of the reader's code (every module of `omr`: coverage and
    registration change what is flagged as much as scoring does): readings
    cached by an older one are stale."""
    root = Path(__file__).resolve().parent.parent / "omr"
    return hashlib.sha1(b"".join(f.read_bytes() for f in sorted(root.glob("*.py")))).hexdigest()[:10]


def collect(sheets: int, seed: int, dpi: int, catalog: Catalog) -> tuple[list[Page], Counter]:
    """Every read page of the deck (cached beside the deck, keyed by the
    scoring code, so re-deciding with other thresholds does not read again)."""
    folder = ensure_style_deck(FORMS[0], sheets, seed, dpi)[0].parent
    cache = folder / f"wide{MODEL}-readings-s{sheets}-seed{seed}-{_code_key()}.pkl"
    if cache.exists():
        with cache.open("rb") as f:
            return pickle.load(f)
    result = _collect(sheets, seed, dpi, catalog)
    with cache.open("wb") as f:
        pickle.dump(result, f)
    return result


def _collect(sheets: int, seed: int, dpi: int, catalog: Catalog) -> tuple[list[Page], Counter]:
    pages, failures = [], Counter()
    for form_id in FORMS:
        out, truth = ensure_style_deck(form_id, sheets, seed, dpi)
        for rp in read_deck(out, truth, catalog, ocr=False):
            r = rp.reading
            if not r or r.identity.serial != rp.truth.serial:
                failures[getattr(r, "reason", "wrong_identity")] += 1
                continue
            template = catalog.get(r.identity.form_id, r.identity.version)
            shapes = template.target_shapes()
            rows = []
            for t in r.targets:
                tt = rp.sheet.target(t.question, t.option)
                rows.append(Row(shapes[(t.question, t.option)], tt.kind, tt.intent, t))
            covered = frozenset(q.question for q in r.questions if {FOLDED, OFF_PAGE} & set(q.reasons))
            rows = [replace(row, covered=row.target.question in covered) for row in rows]
            pages.append(Page(form_id, template.question_types(), shapes, r.targets, rp.sheet, tuple(rows), covered))
    return pages, failures


# --- choosing thresholds ---------------------------------------------------------------

# A threshold for counting sits this far above the strongest thing seen that is
# not a mark; for reading blank, this far above the strongest clean empty.
MARGIN = 1.25
# A stroke that counts is longer than any speck is across (1 mm2 is 1.13 mm
# across): never under 2 mm, whatever the deck.
STROKE_FLOOR_MM = 2.0
# A circle goes round the digit: an arc over less than half the ring is not
# one, whatever the deck (leaving the abandoned arcs out chose 0.16 otherwise).
RING_FLOOR = 0.5
# Crumbs of ink read blank below what one stroke holds at the least
# (omr.score.MIN_STROKE_MM2), or MARGIN x the most a clean digit shows.
CRUMBS_FLOOR_MM2 = 0.3


def _top(values: Iterable[float], default: float = 0.0) -> float:
    return max(values, default=default)


def choose_thresholds(rows: list[Row], base: Thresholds = DEFAULT_THRESHOLDS) -> Thresholds:
    """Thresholds from raw readings with their truth, by one rule: counting
    needs more than MARGIN x the strongest target that is not a clear mark
    (marginal or empty, noise included); a solid fill more than MARGIN x the
    most solid plain mark (a digit's, at most 1; a box's is the printed rule's
    "completely", `base.box_solid`, never chosen);
    reading blank needs less than the strongest clean empty target's
    evidence x MARGIN. A stroke counts from STROKE_FLOOR_MM at least, a
    circle from RING_FLOOR of the ring.
    The glyph's darkening (`thick_mm2`) reads blank below MARGIN x the
    highest of the clean digits (no ink drawn near them): what a print,
    a scanner and a camera add to a digit no hand touched.
    Evidence of any ink on a digit is not chosen: one inked sector of the
    ring, any stroke of its own, 0.08 mm2 over its box."""
    rows = [r for r in rows if not r.covered]
    box = [r for r in rows if r.shape == "box"]
    dig = [r for r in rows if r.shape == "digit" and r.target.digit is not None]
    not_mark = lambda rs: [r for r in rs if r.intent in ("marginal", "empty")]  # noqa: E731
    empty = lambda rs: [r for r in rs if r.intent == "empty"]  # noqa: E731
    clean = lambda rs: [r for r in rs if r.kind == "none" and r.intent == "empty"]  # noqa: E731
    plain = lambda rs: [r for r in rs if r.intent == "marked" and r.kind not in ("fill", "blackout")]  # noqa: E731
    ev = lambda r: r.target.digit  # noqa: E731
    return replace(
        base,
        box_empty=round(MARGIN * _top(r.target.score for r in empty(box)), 3),
        box_mark=round(MARGIN * _top(r.target.score for r in not_mark(box)), 3),
        # Not chosen: the printed rule's word, "completely" (tô kín). Only a box
        # wholly under dark ink is the rule's fill; a dense scribble comes near
        # (0.99), so a share fitted under the scribbles seen would count one not
        # seen as a fill (leaving the scribbles out chose 0.58: 5 silent errors).
        box_solid=base.box_solid,
        digit_mark=round(min(1.0, max(RING_FLOOR, MARGIN * _top(ev(r).ring for r in not_mark(dig)))), 3),
        digit_stroke_mm=round(max(STROKE_FLOOR_MM, MARGIN * _top(ev(r).through_mm for r in not_mark(dig))), 2),
        digit_beside_mm=round(max(STROKE_FLOOR_MM, MARGIN * _top(ev(r).beside_mm for r in not_mark(dig))), 2),
        digit_tick_mm=round(max(STROKE_FLOOR_MM, MARGIN * _top(ev(r).tick_mm for r in not_mark(dig))), 2),
        digit_fill_mark=round(min(1.0, MARGIN * _top(ev(r).fill for r in not_mark(dig))), 3),
        digit_fill_empty=round(MARGIN * _top(ev(r).fill for r in empty(dig)), 3),
        digit_solid=round(min(1.0, MARGIN * _top(ev(r).solid for r in plain(dig))), 3),
        digit_thick_empty_mm2=round(MARGIN * _top(ev(r).thick_mm2 for r in clean(dig)), 3),
        digit_crumbs_empty_mm2=round(max(CRUMBS_FLOOR_MM2, MARGIN * _top(ev(r).crumbs_mm2 for r in clean(dig))), 3),
    )


# --- errors ------------------------------------------------------------------------------


class Tally:
    """Counts per (style, shape)."""

    def __init__(self) -> None:
        self.c: Counter = Counter()
        self.examples: list[str] = []

    def add(self, key: tuple[str, str], name: str, n: int = 1) -> None:
        self.c[(key, name)] += n


def evaluate(pages: list[Page], t: Thresholds, only: str | None = None) -> Tally:
    """Errors with thresholds `t`, per (style, shape); with `only`, questions
    holding that style only."""
    tally = Tally()
    for p in pages:
        targets, questions = decide(p.targets, p.types, p.shapes, t)
        decided = {q.question: q for q in questions}
        states = {(x.question, x.option): x for x in targets}
        by_q: dict[str, list[Row]] = defaultdict(list)
        for row in p.rows:
            by_q[row.target.question].append(row)
        for qt in p.sheet.questions:
            if qt.question not in by_q:
                continue
            rows = by_q[qt.question]
            if only is not None and not any(r.kind == only for r in rows):
                continue
            q = decided[qt.question]
            flagged = q.status == "flagged" or qt.question in p.covered
            for r in rows:
                if only is not None and r.kind != only:
                    continue
                key = (r.kind, r.shape)
                tally.add(key, "targets")
                counted = r.target.option in q.value and not flagged
                wrong = (r.intent == "marked") != counted if not flagged else False
                if r.intent == "marginal":
                    tally.add(key, "marginal")
                    tally.add(key, "marginal_ok", int(flagged or r.target.option not in q.value))
                if wrong:
                    tally.add(key, "silent")
                    st = states[(r.target.question, r.target.option)]
                    tally.examples.append(f"{p.sheet.serial} {qt.question}/{r.target.option} {r.kind} "
                                          f"{r.intent} read {st.state} {st.digit or round(st.score, 3)}")
            styles = {(r.kind, r.shape) for r in rows if r.kind != "none" and (only is None or r.kind == only)}
            answers = {(r.kind, r.shape) for r in rows if r.intent == "marked" and (only is None or r.kind == only)}
            for r in rows:
                if r.intent == "empty" and r.kind != "none" and (only is None or r.kind == only):
                    tally.add((r.kind, r.shape), "noise")
                    tally.add((r.kind, r.shape), "noise_seen",
                              int(states[(r.target.question, r.target.option)].state != "empty"))
            if not qt.flags and qt.expected:
                for key in answers:
                    tally.add(key, "clear")
                    tally.add(key, "clear_flagged", int(flagged))
            if "overvote" in qt.flags:
                for key in styles:
                    tally.add(key, "double")
                    tally.add(key, "double_flagged", int(flagged))
            if not qt.flags and not qt.expected:
                shape = rows[0].shape
                tally.add(("(blank)", shape), "clear")
                tally.add(("(blank)", shape), "clear_flagged", int(flagged))
    return tally


def _share(a: int, b: int) -> str:
    return f"{a}/{b} ({100.0 * a / b:.1f}%)" if b else "-"


def print_table(tally: Tally, title: str) -> None:
    keys = sorted({k for k, _ in tally.c}, key=lambda k: (k[1], k[0]))
    print(f"\n{title}\n")
    print("| style | shape | targets | silent errors | clear answers flagged | double marks flagged "
          "| marginal flagged or not counted | noise read marginal |")
    print("|---|---|---|---|---|---|---|---|")
    total: Counter = Counter()
    for k in keys:
        g = lambda n, k=k: tally.c[(k, n)]  # noqa: E731
        for n in ("targets", "silent", "clear", "clear_flagged", "double", "double_flagged", "marginal", "marginal_ok",
                  "noise", "noise_seen"):
            total[(k[1], n)] += g(n)
        print(f"| {k[0]} | {k[1]} | {g('targets')} | {g('silent')} | {_share(g('clear_flagged'), g('clear'))} "
              f"| {_share(g('double_flagged'), g('double'))} | {_share(g('marginal_ok'), g('marginal'))} "
              f"| {_share(g('noise_seen'), g('noise'))} |")
    for shape in ("box", "digit"):
        g = lambda n, shape=shape: total[(shape, n)]  # noqa: E731
        print(f"| **all** | {shape} | {g('targets')} | {g('silent')} | (per question: above) "
              f"| {_share(g('double_flagged'), g('double'))} | {_share(g('marginal_ok'), g('marginal'))} "
              f"| {_share(g('noise_seen'), g('noise'))} |")
    if tally.examples:
        print("\nsilent errors:")
        for e in tally.examples[:20]:
            print("  " + e)


def question_totals(pages: list[Page], t: Thresholds) -> None:
    """Per shape, per question (not per style): clear answers flagged (all,
    and those with no target cancelled by the printed correction rule),
    silent errors, double marks and corrections flagged."""
    c: Counter = Counter()
    for p in pages:
        _, questions = decide(p.targets, p.types, p.shapes, t)
        decided = {q.question: q for q in questions}
        shape_of = {r.target.question: r.shape for r in p.rows}
        for qt in p.sheet.questions:
            if qt.question not in shape_of:
                continue
            s, q = shape_of[qt.question], decided[qt.question]
            flagged = q.status == "flagged" or qt.question in p.covered
            c[(s, "questions")] += 1
            if not qt.flags and qt.expected:
                c[(s, "clear")] += 1
                c[(s, "clear_flagged")] += flagged
            if not qt.flags and not flagged and tuple(q.value) != tuple(qt.expected):
                c[(s, "silent")] += 1
            if "overvote" in qt.flags:
                c[(s, "double")] += 1
                c[(s, "double_flagged")] += flagged
            if "correction" in qt.flags:
                c[(s, "correction")] += 1
                c[(s, "correction_flagged")] += flagged
            by_rule = any(r.intent == "cancelled" for r in p.rows if r.target.question == qt.question)
            if not qt.flags and by_rule:
                c[(s, "rule")] += 1
                c[(s, "rule_read")] += (not flagged and tuple(q.value) == tuple(qt.expected))
            elif not qt.flags and qt.expected:
                c[(s, "plain")] += 1
                c[(s, "plain_flagged")] += flagged
    print("\n| shape | questions | silent errors (questions) | clear answers flagged "
          "| of them, with no correction | double marks flagged "
          "| corrections read by the rule | other corrections flagged |")
    print("|---|---|---|---|---|---|---|---|")
    for s in ("box", "digit"):
        g = lambda n, s=s: c[(s, n)]  # noqa: E731
        print(f"| {s} | {g('questions')} | {g('silent')} | {_share(g('clear_flagged'), g('clear'))} "
              f"| {_share(g('plain_flagged'), g('plain'))} "
              f"| {_share(g('double_flagged'), g('double'))} | {_share(g('rule_read'), g('rule'))} "
              f"| {_share(g('correction_flagged'), g('correction'))} |")
    g = lambda n: c[("box", n)] + c[("digit", n)]  # noqa: E731
    print(f"| all | {g('questions')} | {g('silent')} | {_share(g('clear_flagged'), g('clear'))} "
          f"| {_share(g('plain_flagged'), g('plain'))} "
          f"| {_share(g('double_flagged'), g('double'))} | {_share(g('rule_read'), g('rule'))} "
          f"| {_share(g('correction_flagged'), g('correction'))} |")


def _why(target: TargetScore, t: Thresholds) -> str:
    """The part of a marginal digit's evidence that made it marginal (the
    first, in `omr.decide`'s order: its snap at the edge of its search, a
    stroke of SPECK_MM or more, then the rest)."""
    if snap_at_reach(target.offset_mm):
        return "snap at reach"
    ev = target.digit
    parts = (("through", "through_mm", SPECK_MM), ("under", "beside_mm", SPECK_MM),
             ("tick", "tick_mm", SPECK_MM), ("arc", "arc_mm", SPECK_MM), ("between", "between_mm", SPECK_MM),
             ("fill", "fill", t.digit_fill_empty), ("inner", "inner_mm2", t.digit_inner_empty_mm2),
             ("thick", "thick_mm2", t.digit_thick_empty_mm2), ("crumbs", "crumbs_mm2", t.digit_crumbs_empty_mm2))
    found = next((name for name, field, limit in parts if getattr(ev, field, 0.0) >= limit), None)
    if found is None and isinstance(ev, DigitEvidence) and new_ink_mm2(ev) >= t.digit_inner_empty_mm2:
        return "new ink together"
    if found is None and getattr(ev, "faint_mm", 0.0) >= SPECK_MM:
        return "faint"
    return found or "?"


def flag_causes(pages: list[Page], t: Thresholds) -> None:
    """Why clear answers are flagged: per shape, the reason and the style of
    the target that caused it (for a marginal digit, the part of its evidence)."""
    c: Counter = Counter()
    for p in pages:
        targets, questions = decide(p.targets, p.types, p.shapes, t)
        decided = {q.question: q for q in questions}
        states = {(x.question, x.option): x for x in targets}
        for qt in p.sheet.questions:
            q = decided.get(qt.question)
            if q is None or qt.flags or not qt.expected or (q.status != "flagged" and qt.question not in p.covered):
                continue
            rows = [r for r in p.rows if r.target.question == qt.question]
            if qt.question in p.covered:
                c[(rows[0].shape, "covered (fold, off the photo)", "-")] += 1
                continue
            if "marginal" in q.reasons:
                for r in rows:
                    st = states[(r.target.question, r.target.option)]
                    if st.state == "marginal":
                        part = _why(st, t) if st.digit is not None else "score"
                        c[(r.shape, f"marginal: {r.kind} ({r.intent})", part)] += 1
            others = [reason for reason in q.reasons if reason not in ("marginal", "between")]
            if others:  # an overvote that may be the correction rule's fill has both reasons: one row
                marked = [r.kind for r in rows if states[(r.target.question, r.target.option)].state == "marked"]
                c[(rows[0].shape, f"{'+'.join(others)}: {'+'.join(sorted(marked))}", "-")] += 1
    print("\n| shape | why a clear answer was flagged (the target that caused it) | evidence part | questions |")
    print("|---|---|---|---|")
    for (shape, why, part), n in sorted(c.items(), key=lambda kv: (kv[0][0], -kv[1])):
        print(f"| {shape} | {why} | {part} | {n} |")


def show_thresholds(t: Thresholds) -> str:
    return (f"box {t.box_empty}/{t.box_mark} solid {t.box_solid}; digit ring {t.digit_empty}/{t.digit_mark}, "
            f"stroke over {t.digit_stroke_mm} / under {t.digit_beside_mm} / tick {t.digit_tick_mm} mm, "
            f"fill {t.digit_fill_empty}/{t.digit_fill_mark}, solid {t.digit_solid}, "
            f"glyph darkened {t.digit_thick_empty_mm2} mm2, crumbs {t.digit_crumbs_empty_mm2} mm2")


def loso(calib: list[Page], held: list[Page]) -> None:
    rows = [r for p in calib for r in p.rows]
    styles = sorted({(r.kind) for r in rows if r.kind != "none"})
    print("\nLeave one style out: thresholds chosen without the style (first deck), errors on it "
          "(second deck)\n")
    every = choose_thresholds(rows)
    print(f"(with every style: {show_thresholds(every)}; the column names what changed without the style)\n")
    print("| style left out | shape | thresholds that changed without it | targets | silent errors "
          "| clear answers flagged | marginal flagged or not counted |")
    print("|---|---|---|---|---|---|---|")
    for style in styles:
        t = choose_thresholds([r for r in rows if r.kind != style])
        tally = evaluate(held, t, only=style)
        changed = ", ".join(f"{f.name} {getattr(every, f.name)} -> {getattr(t, f.name)}" for f in fields(t)
                            if getattr(t, f.name) != getattr(every, f.name)) or "none"
        for shape in ("box", "digit"):
            key = (style, shape)
            g = lambda n, tally=tally, key=key: tally.c[(key, n)]  # noqa: E731
            if not g("targets"):
                continue
            print(f"| {style} | {shape} | {changed} | {g('targets')} | {g('silent')} "
                  f"| {_share(g('clear_flagged'), g('clear'))} | {_share(g('marginal_ok'), g('marginal'))} |")
        for e in tally.examples[:3]:
            print(f"|  | | silent: {e} | | | | |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sheets", type=int, default=150, help="sheets per form and deck")
    ap.add_argument("--seed", type=int, default=31, help="the deck thresholds are chosen on")
    ap.add_argument("--held-out-seed", type=int, default=32, help="the deck errors are counted on")
    ap.add_argument("--dpi", type=int, default=200)
    args = ap.parse_args()
    catalog = prepare_deck_templates()
    start = time.perf_counter()
    calib, f1 = collect(args.sheets, args.seed, args.dpi, catalog)
    held, f2 = collect(args.sheets, args.held_out_seed, args.dpi, catalog)
    print(f"decks: {', '.join(FORMS)} x {args.sheets} sheets, seeds {args.seed} (choose) and "
          f"{args.held_out_seed} (count), {args.dpi} dpi; pages read {len(calib)} / {len(held)}, "
          f"not read {dict(f1)} / {dict(f2)}; {time.perf_counter() - start:.0f} s")
    chosen = choose_thresholds([r for p in calib for r in p.rows])
    print(f"\nchosen on seed {args.seed}: {show_thresholds(chosen)}")
    print(f"shipped (omr/thresholds.py): {show_thresholds(DEFAULT_THRESHOLDS)}")
    print("\n== held-out deck, shipped thresholds, per question ==")
    question_totals(held, DEFAULT_THRESHOLDS)
    flag_causes(held, DEFAULT_THRESHOLDS)
    print_table(evaluate(held, DEFAULT_THRESHOLDS), "== held-out deck, shipped thresholds, per style ==")
    loso(calib, held)


if __name__ == "__main__":
    main()
