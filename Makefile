# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO_LOG ?= fixtures/caffe-generated/r02.log

.PHONY: demo test bench clean

$(BIN)/logdoctor: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/logdoctor
	$(BIN)/logdoctor parse --summary $(DEMO_LOG)

test: $(BIN)/logdoctor
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
