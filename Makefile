# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO_LOG ?= fixtures/caffe-generated/r17.log

.PHONY: demo test bench clean

$(BIN)/logdoctor: pyproject.toml setup.py logdoctor/parsers/_caffe_scan.c logdoctor/parsers/_bar_scan.c logdoctor/_split.c logdoctor/_chars.h \
		logdoctor/_grouping.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	# Byte code written now, as a wheel install does: start-up does not compile the sources every run
	# (PYTHONDONTWRITEBYTECODE, set on some machines, keeps Python from caching it on its own).
	$(BIN)/python -m compileall -q logdoctor
	touch $@

# Exit code 1 means "findings" (the demo log diverges on purpose); only 2 is a failure here.
demo: $(BIN)/logdoctor
	$(BIN)/logdoctor diagnose $(DEMO_LOG) || [ $$? -eq 1 ]

test: $(BIN)/logdoctor
	$(BIN)/python -m pytest

# Throughput, memory and start-up against grep (minutes; 1 GB of logs in bench-data/).
# A smoke run: make bench BENCH_ARGS=--quick
bench: $(BIN)/logdoctor
	$(BIN)/python tests/bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info logdoctor/*.so logdoctor/parsers/*.so
	find logdoctor tests -name __pycache__ -prune -exec rm -rf {} +
