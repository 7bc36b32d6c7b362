# The README's two commands: `make run` and `make test`. Both set up .venv themselves
# and reinstall the project whenever pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
BENCH_ROWS ?= 10000000

.PHONY: run test test-fast lint format bench bench-scale browser clean-venv e2e

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(VENV)/.installed-run $@

# The app runs with the memory settings of the Docker image (see its ENV), unless the
# environment sets them.
run: $(VENV)/.installed-run
	NUMPY_MADVISE_HUGEPAGE=$${NUMPY_MADVISE_HUGEPAGE:-0} MALLOC_ARENA_MAX=$${MALLOC_ARENA_MAX:-2} \
		$(BIN)/streamlit run app/streamlit_app.py --server.headless true --server.port $(PORT) \
		--browser.gatherUsageStats false

# The browser tests need Debian's chromium; as root we install it, otherwise we stop
# with the command to run (the browser tests never skip silently).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = "0" ]; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| { echo "Installing chromium failed; run: apt-get install chromium"; exit 1; }; \
		else echo "The browser tests need Chromium; run: sudo apt-get install chromium"; exit 1; fi; }

test: $(VENV)/.installed-dev browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -m "not e2e and not slow"

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .

bench: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks.bench --rows $(BENCH_ROWS)

bench-scale: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks.bench_scale

clean-venv:
	rm -rf $(VENV)

# The browser tests alone, with their timings printed.
e2e: $(VENV)/.installed-dev browser
	$(BIN)/python -m pytest -m e2e -s tests/e2e
