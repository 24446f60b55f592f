# aeviz, in two commands:
#   make serve   sets up what is missing, then serves the app on http://localhost:8501
#   make test    sets up what is missing (as root on Debian, Chromium too), then runs the whole test suite
# Set-up is a virtual environment in .venv with requirements.txt (the tests add requirements-dev.txt and
# requirements-ray.txt), remembered by a stamp per content of those files: a second run skips it in seconds.
#
#   make serve SERVE_ARGS="--address 0.0.0.0"   a class: every network interface, with the URLs and a QR code
#   make test PYTEST_ARGS="tests/test_cli.py"   some of the tests
#   PYTHON=python3.12 make test                 the Python that makes .venv (3.11 or newer)

PYTHON ?= python3
VENV ?= .venv
PORT ?= 8501
SERVE_ARGS ?=
PYTEST_ARGS ?=
CHROMIUM ?= /usr/bin/chromium

PY := $(VENV)/bin/python
RUN_REQUIREMENTS := requirements.txt
DEV_REQUIREMENTS := requirements.txt requirements-dev.txt requirements-ray.txt
checksum = $(firstword $(shell cat $(1) | cksum))
RUN_STAMP := $(VENV)/.installed-run-$(call checksum,$(RUN_REQUIREMENTS))
DEV_STAMP := $(VENV)/.installed-dev-$(call checksum,$(DEV_REQUIREMENTS))

.PHONY: help serve test install install-dev browser

help:
	@sed -n '2,3s/^# *//p' Makefile

serve: install
	$(PY) -m aeviz serve --port $(PORT) $(SERVE_ARGS)

# As CI ran them: never download, a throwaway run folder, the shared datasets beside the clone where there are
# some, and under CI (CI=true) a missing browser fails the browser tests instead of skipping them.
test: install-dev browser
	@set -e; \
	if [ -z "$${AEVIZ_DATA_DIR:-}" ] && [ -d ../shared/datasets ]; then \
	  export AEVIZ_DATA_DIR="$$(cd ../shared/datasets && pwd)"; fi; \
	if [ -z "$${AEVIZ_RUNS_DIR:-}" ]; then \
	  AEVIZ_RUNS_DIR="$$(mktemp -d)"; export AEVIZ_RUNS_DIR; trap 'rm -rf "$$AEVIZ_RUNS_DIR"' EXIT; fi; \
	if [ "$${CI:-}" = true ]; then export AEVIZ_REQUIRE_E2E=1; fi; \
	export AEVIZ_OFFLINE="$${AEVIZ_OFFLINE:-1}"; \
	$(PY) -m pytest -q $(PYTEST_ARGS)

install: $(RUN_STAMP)

install-dev: $(DEV_STAMP)

# A venv that has pip. On Debian, as root, python3-venv is installed first where it is missing.
$(VENV)/bin/pip:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "aeviz needs Python 3.11 or newer: PYTHON=python3.11 make ..."; exit 1; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  rm -rf $(VENV); \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "Installing python3-venv (apt-get)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; \
	  fi; \
	  $(PYTHON) -m venv $(VENV) || { echo "could not make $(VENV): on Debian or Ubuntu, apt-get install python3-venv"; exit 1; }; }
	$(PY) -m pip install --quiet --upgrade pip

$(RUN_STAMP): | $(VENV)/bin/pip
	$(PY) -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-run-* && touch $@

$(DEV_STAMP): | $(VENV)/bin/pip
	$(PY) -m pip install --quiet $(addprefix -r ,$(DEV_REQUIREMENTS))
	@rm -f $(VENV)/.installed-run-* $(VENV)/.installed-dev-* && touch $(RUN_STAMP) $@

# The browser tests drive Debian's Chromium; where it is missing and this is root with apt-get, install it.
# Elsewhere those tests skip (or, under CI, fail).
browser:
	@if [ -n "$${AEVIZ_CHROMIUM:-}" ] || [ -x $(CHROMIUM) ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1 || [ "$$(id -u)" != 0 ]; then \
	  echo "No Chromium at $(CHROMIUM) (as root on Debian, make test installs it): the browser tests will skip"; \
	  exit 0; fi; \
	echo "Installing Chromium for the browser tests (apt-get install chromium fonts-dejavu-core)"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core >/dev/null || \
	  echo "Could not install Chromium: the browser tests will skip"
