#!/usr/bin/env bash
# Set up aeviz on a fresh machine: a virtual environment in .venv with everything the app,
# the CLI and the tests need. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements.txt
if [ "${AEVIZ_INSTALL_DEV:-0}" = "1" ]; then
  .venv/bin/python -m pip install --quiet -r requirements-dev.txt
fi
echo "aeviz is installed in .venv. Start the app with: .venv/bin/streamlit run app.py"
