# Two commands matter on a fresh machine: `make demo` and `make test`.
# Both install what they need first (`make install` is idempotent and quick
# once the virtual environment is up to date).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test lint bench demo clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check sandbox tests benchmarks examples tools
	$(BIN)/lint-imports

bench: install
	$(BIN)/python -m benchmarks.store_bench
	$(BIN)/python -m benchmarks.cluster_bench
	$(BIN)/python -m benchmarks.scheduler_bench
	$(BIN)/python -m benchmarks.rest_bench
	$(BIN)/python -m benchmarks.pipelines_bench

demo: install
	$(BIN)/sandbox scenario run k8s-basics

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
