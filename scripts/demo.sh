#!/usr/bin/env bash
# The README's first command: set everything up on a fresh Debian machine, then run
# the main job on a demo ballot box: print the shipped forms into demo/, make a box of
# filled and scanned ballots, scan it into a survey (SQLite store), export the results,
# print the tally and write the quarterly report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
PHIEU=.venv/bin/phieu
mkdir -p demo

# --- forms: print the shipped questionnaires -------------------------------------
$PHIEU forms list
for form in mot-cua sipas; do
  $PHIEU forms render "$form" --out "demo/$form.pdf" --copies 3 --first-serial 1
done

# --- a ballot box: generate, scan into a survey, export (issue 4) ------------------
# A synthetic box of 60 filled sheets (feeder scans, some upside down or sideways, phone
# photos, folded corners; comments on ~40 %) in multipage PDFs, with its truth.json.
# Made afresh each run, so the demo always shows a first scan.
rm -rf demo/hom-phieu demo/khao-sat
$PHIEU synth --form mot-cua --sheets 60 --seed 1 --pages-per-file 20 --out demo/hom-phieu
$PHIEU init demo/khao-sat --form mot-cua --name "Khảo sát demo"
$PHIEU scan demo/hom-phieu --survey demo/khao-sat --batch "hom-phieu-1"
$PHIEU status --survey demo/khao-sat
for what in responses pages comments; do
  $PHIEU export "$what" --survey demo/khao-sat -o "demo/khao-sat/$what.csv"
done

# --- the tally and the report (issue 6) --------------------------------------------
$PHIEU tally --survey demo/khao-sat
$PHIEU export tally --survey demo/khao-sat -o demo/khao-sat/tally.csv
$PHIEU report --survey demo/khao-sat -o demo/khao-sat/bao-cao.html
$PHIEU report --survey demo/khao-sat -o demo/khao-sat/bao-cao.pdf

echo
echo "Kết quả / exports: demo/khao-sat/{responses,pages,comments,tally,tally-index}.csv (UTF-8 BOM, mở bằng Excel)"
echo "Báo cáo / report: demo/khao-sat/bao-cao.html, demo/khao-sat/bao-cao.pdf"
echo "Ảnh trang và ý kiến / page images and comment crops: demo/khao-sat/images/"
echo "Duyệt phiếu cần xem lại / review flagged ballots: .venv/bin/phieu review --survey demo/khao-sat"
