#!/usr/bin/env bash
# The README's first command: set everything up on a fresh Debian machine, then run
# the main job. For now that prints every shipped form into demo/ (a PDF of three
# sheets with serials 1-3, and its layout JSON); later steps (a synthetic ballot
# box, scanning, the tally) are added below as they land.
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
echo "Kết quả / exports: demo/khao-sat/{responses,pages,comments}.csv (UTF-8 BOM, mở bằng Excel)"
echo "Ảnh trang và ý kiến / page images and comment crops: demo/khao-sat/images/"
