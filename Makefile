# One-command entry points. Each target creates .venv on first use and installs into it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install demo test lint docs bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

$(VENV)/.installed: $(BIN)/activate setup.py requirements.txt
	$(BIN)/python -m pip install -e ".[app,test]"
	touch $@

install: $(VENV)/.installed

## The main job: the Burgers PINN, Adam against AdaHessian, CPU default config.
demo: install
	cd applications/physics_driven/burgers_adahessian && \
	MS_DEV_HOST_BLOCKING_RUN=1 ../../../$(BIN)/python train.py --optimizer both

## The test suite (CI runs exactly this): test files spread over PYTEST_WORKERS processes (pytest-xdist).
PYTEST_WORKERS ?= 2
test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

## Lint as upstream does: pylint (120 columns) and the Markdown linter.
lint: install
	$(BIN)/python -m pip install -q -e ".[lint]"
	tools/lint.sh

## The bilingual documentation site, warnings as errors.
docs: install
	$(MAKE) -C docs docs PYTHON=../$(BIN)/python

## The optimizer benchmark (side by side, see benchmarks/README.md).
bench: install
	$(BIN)/python benchmarks/bench_optimizers.py --out benchmarks/results.json

clean:
	rm -rf $(VENV) docs/_build outputs
