#!/usr/bin/env bash
# The README's second command: set everything up, check the code (ruff, mypy), then run
# the whole test suite, every tier (`-m ""` lifts the fast tier's default filter), on two
# processes. Arguments are passed to pytest (e.g. `bash scripts/test.sh -x tests/test_omr.py`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest -m "" -n 2 --dist loadfile "$@"
