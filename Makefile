# Two entry points, each doing all of its own set-up from a bare clone:
#   make verify   create .venv, install, run the main job (srcnn verify --quick, then the
#                 quick figures into figures/out)
#   make test     create .venv, install, run the test suite
VENV   ?= .venv
PYTHON ?= python3
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed-stamp

.PHONY: install verify test test-thorough fuzz bench lint clean

install: $(STAMP)

# torch is pinned in constraints.txt: a CPU wheel of exactly that version is on these
# machines, while an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=23" "setuptools>=64"
	$(PY) -m pip install --quiet -c constraints.txt "torch==2.13.0"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,browser,notebook,sweep,onnx,events]"
	touch $(STAMP)

verify: $(STAMP)
	$(VENV)/bin/srcnn verify --quick --json verify-report.json --markdown verify-report.md
	$(VENV)/bin/srcnn figures --quick --out figures/out

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

test-thorough: $(STAMP)
	HYPOTHESIS_PROFILE=thorough $(PY) -m pytest -q

fuzz: $(STAMP)
	$(PY) -m tests.fuzz.runner --profile thorough --json fuzz-report.json --failures fuzz-failures

bench: $(STAMP)
	$(PY) benchmarks/bench_rcnn.py
	$(PY) benchmarks/bench_circuit.py
	$(PY) benchmarks/bench_algorithm1.py
	$(PY) benchmarks/bench_sweep.py
	$(PY) benchmarks/bench_events.py --json results/events/bench.json
	$(PY) benchmarks/bench_reference_grid.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .benchmarks
