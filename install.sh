#!/usr/bin/env bash
# Set up aeviz in .venv; what `make serve` and `make test` do first (see the Makefile). Kept for older
# instructions: `make install`, or with AEVIZ_INSTALL_DEV=1 `make install-dev` (the test tools and Ray too).
set -euo pipefail
cd "$(dirname "$0")"
if [ "${AEVIZ_INSTALL_DEV:-0}" = "1" ]; then
  make install-dev
else
  make install
fi
echo "aeviz is installed in .venv. Serve the app with: make serve"
