#!/usr/bin/env bash
# Install Zou (the Kitsu server) into its own virtual environment for the Kitsu tests.
# Usage: deploy/kitsu/install.sh [VENV]   (default: $TINT_ZOU_VENV or ~/.cache/tint/zou-venv)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${1:-${TINT_ZOU_VENV:-$HOME/.cache/tint/zou-venv}}"
python="${TINT_ZOU_PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3

if [ -x "$venv/bin/zou" ] && cmp -s "$here/requirements.txt" "$venv/.tint-requirements.txt"; then
  echo "zou already installed in $venv"
  exit 0
fi
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r "$here/requirements.txt"
cp "$here/requirements.txt" "$venv/.tint-requirements.txt"
echo "zou installed in $venv"
