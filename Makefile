# Set-up and everyday commands. `make demo` and `make test` work on a fresh clone.
# The pinned torch is installed first so pip never resolves a newer (multi-GB CUDA) build;
# override it for your machine, e.g. `make demo TORCH="torch==2.5.1"`.
PYTHON ?= python3
TORCH  ?= torch==2.13.0
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test install benchmark clean lint

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/saddlepoint train --preset demo

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check saddlepoint tests benchmarks
	$(VENV)/bin/ruff format --check saddlepoint tests benchmarks

benchmark: $(STAMP)
	$(PY) benchmarks/throughput.py

clean:
	rm -rf $(VENV) runs .pytest_cache
