# The two commands of the README: `make run` and `make test`. Both bootstrap .venv on demand
# (a stamp makes the second run instant) and check the system libraries Qt needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

# Headless Qt and no real keyring for every test run (conftest sets the same defaults).
TEST_ENV := QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR=/tmp/runtime-$(shell id -u) \
	PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring

.PHONY: run test lint pytest bench screenshots venv system-deps-run system-deps-test \
	clean distclean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[local,dev,bench,examples,cluster]" \
		--config-settings editable_mode=compat  # a plain path entry: no import hook at start-up
	@touch $(STAMP)

venv: $(STAMP)

system-deps-run:
	@PY=$(PY) .ci/qt-deps.sh run

system-deps-test:
	@PY=$(PY) .ci/qt-deps.sh test

run: system-deps-run venv
	@.ci/qt-deps.sh verify $(BIN)/python
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY$$QT_QPA_PLATFORM" ]; then \
		echo "s3z: no display (DISPLAY and WAYLAND_DISPLAY are unset), so the desktop app cannot open a window."; \
		echo "  headless, use the CLI:        $(BIN)/s3z-core --help"; \
		echo "  or give it a virtual display: xvfb-run -a make run"; \
		exit 1; \
	fi
	$(BIN)/s3z

# `make test` runs the static checks beside the suite, and the suite in three pytest-xdist workers
# on two cores (a test file stays on one worker, so its module fixtures and its order hold): much
# of the suite waits on servers, subprocesses and credential lifetimes, not on a core. Two workers
# left the cores idle a fifth of the time; on fresh clones of the 2-core CI kind, pytest took
# 18 min 0 s with two and 12 min 29 s with three. The checks' output is printed when they end;
# either failing fails the run. TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 3
# --max-worker-restart=0: a worker that crashes ends the run with the test named. A replaced
# worker under --dist loadfile can leave the run waiting forever on work units that are already
# done (pytest-xdist #784, #1378); that is how a segfault became a 28-minute timeout.
# --no-loadscope-reorder: files go out in collection order, which tests/conftest.py starts with
# the slowest (tests/slow_files.txt) instead of xdist's most-tests-first, which left the long
# few-test files (1 GiB kills, 60 s credentials, the wheel install) for the end.
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder \
	--max-worker-restart=0)

test: system-deps-test venv
	@.ci/qt-deps.sh verify $(BIN)/python
	@log=$$(mktemp); ( $(MAKE) --no-print-directory lint >$$log 2>&1 ) & checks=$$!; \
	rc=0; $(MAKE) --no-print-directory pytest PYTEST_ARGS="$(XDIST) $(PYTEST_ARGS)" || rc=$$?; \
	lrc=0; wait $$checks || lrc=$$?; \
	echo "== static checks (ruff, ruff format, mypy, lint-imports) =="; cat $$log; rm -f $$log; \
	if [ $$lrc -ne 0 ]; then echo "static checks failed (above)"; fi; \
	[ $$rc -eq 0 ] && [ $$lrc -eq 0 ]

# pytest's exit 5 means "collected nothing": a broken test tree, never a pass. A process that
# dies of a fatal error (a segfault) leaves its last test and stack in S3Z_CRASH_DIR
# (tests/crashlog.py), printed here when the run fails.
pytest: venv
	@own=; dir=$${S3Z_CRASH_DIR:-}; if [ -z "$$dir" ]; then dir=$$(mktemp -d); own=1; fi; \
	rc=0; S3Z_CRASH_DIR=$$dir $(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests (exit 5): the test tree is missing or deselected"; fi; \
	if [ $$rc -ne 0 ]; then $(BIN)/python tests/crashlog.py $$dir || true; fi; \
	if [ -n "$$own" ]; then rm -rf $$dir; fi; \
	exit $$rc

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: system-deps-test venv
	$(BIN)/python -m bench run

screenshots: system-deps-test venv
	$(TEST_ENV) $(BIN)/python -m s3z_gui.screenshots

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache bench/work
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
