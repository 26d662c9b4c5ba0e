#!/usr/bin/env bash
# Sets up everything phieu needs on a fresh Debian machine: system packages, then a
# virtual environment in .venv with phieu installed (editable) and its test tools.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(tesseract-ocr tesseract-ocr-vie poppler-utils fonts-dejavu-core chromium)
# PostgreSQL (a store shared by several stations): the tests start throwaway servers from
# its binaries (/usr/lib/postgresql/15/bin), run as the `postgres` user it creates when
# this script runs as root (PostgreSQL refuses to run as root).
SYSTEM_PACKAGES+=(postgresql)

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "phieu setup: installing system packages: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "phieu setup: creating the virtual environment .venv" >&2
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.phieu-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "phieu setup: installing phieu and its Python dependencies into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test]"
  touch "$stamp"
fi
