# Every target sets up .venv on first use, so `make demo` and `make test`
# work on a fresh machine with only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test quick bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m stepdown.demo

# The suite writes only to tmp dirs and the repo: a throw-away data home and XDG/matplotlib
# dirs (no stepdown catalog, font cache or browser profile lands in the user's home).
# The recipe exits with pytest's status (the EXIT trap keeps it): make prints "Error N" with
# pytest's N and exits 2; PYTEST_ARGS="..." passes arguments to pytest.
# Both test targets use every core (pytest-xdist; TEST_WORKERS=0 runs in one process): a
# module's tests run on one worker, so its server, browser or PostgreSQL starts once (--dist
# loadscope), modules in file order so the long accuracy batches start first
# (--no-loadscope-reorder); each batch is built once and shared by the workers (tests/conftest.py).
# At most 4 workers: each holds up to ~1.2 GB (the batches it loads), so a many-core CI
# machine with little memory is not run out of it.
TEST_WORKERS ?= auto
XDIST = -n $(TEST_WORKERS) --maxprocesses 4 --dist loadscope --no-loadscope-reorder
test: $(STAMP)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	echo "$(PY) -m pytest -q -n $(TEST_WORKERS)  (STEPDOWN_HOME, XDG_*_HOME, MPLCONFIGDIR under $$tmp)" && \
	STEPDOWN_HOME="$$tmp/stepdown" XDG_DATA_HOME="$$tmp/data" XDG_CONFIG_HOME="$$tmp/config" \
	XDG_CACHE_HOME="$$tmp/cache" MPLCONFIGDIR="$$tmp/matplotlib" $(PY) -m pytest -q \
	$(XDIST) $(PYTEST_ARGS)

# The edit loop: the suite without the tests marked slow (the accuracy batches, the long
# sessions, PostgreSQL), stopping at the first failure.
quick: $(STAMP)
	$(PY) -m pytest -q -x -m "not slow" $(XDIST) $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m benchmarks

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
