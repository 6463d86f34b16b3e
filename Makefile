# Set-up and everyday commands. `make demo` and `make test` work on a fresh clone.
# The pinned torch is installed first so pip never resolves a newer (multi-GB CUDA) build;
# override it for your machine, e.g. `make demo TORCH="torch==2.5.1"`.
PYTHON ?= python3
TORCH  ?= torch==2.13.0
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test install benchmark clean lint chromium zoo-quick

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/saddlepoint train --preset demo

# The suite runs in one pytest-xdist worker per core, each torch on one thread (OMP_NUM_THREADS=1,
# which the runs the tests start inherit): most tests' ops are too small to gain from a second
# thread, so two processes finish sooner than one on two threads. Tests marked with an
# xdist_group run in one worker (--dist loadgroup). `make test TEST_WORKERS=0` runs one process.
TEST_WORKERS ?= auto
test: $(STAMP) chromium
	OMP_NUM_THREADS=1 $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

# Debian's headless browser for the run report's rendering test (tests/report/test_html.py) and
# the playground's browser tests (tests/playground/test_browser.py, driven by the Python
# playwright package of `.[test]`, which never downloads a browser of its own); installed only
# where missing, with apt-get, as root. Elsewhere a note, and those tests skip.
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null 2>&1 && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1; } || \
	  echo "note: apt-get could not install chromium; the browser tests will skip."; \
	else \
	  echo "note: chromium is not installed (needs apt-get as root); the browser tests will skip."; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check saddlepoint tests benchmarks
	$(VENV)/bin/ruff format --check saddlepoint tests benchmarks

benchmark: $(STAMP)
	$(PY) benchmarks/throughput.py

# The 2-hour zoo (docs/zoo.md): every system of the zoo over 3 seeds at shortened budgets, its
# three sweeps one after another on ZOO_WORKERS single-threaded workers (2); resumable like any
# sweep (run it again to continue). MNIST is the folder of the MNIST IDX files.
MNIST ?= ../shared/data/mnist
ZOO_WORKERS ?= 2
ZOO_QUICK := zoo-quick-images zoo-quick-2014 zoo-quick-toys
zoo-quick: $(STAMP)
	@start=$$(date +%s); rc=0; for spec in $(ZOO_QUICK); do \
	  OMP_NUM_THREADS=1 $(VENV)/bin/saddlepoint sweep benchmarks/sweeps/$$spec.toml \
	    --workers $(ZOO_WORKERS) --data-root mnist=$(MNIST) || rc=$$?; \
	done; echo "the 2-hour zoo: $$(( ($$(date +%s) - start) / 60 )) minutes wall"; exit $$rc

clean:
	rm -rf $(VENV) runs .pytest_cache
