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
