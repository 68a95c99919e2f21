# The two commands a new user needs: `make demo` and `make test`. Both create .venv if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint unit bench reliability clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vividly generate "Explain the water cycle" --grade 5 --minutes 2 --out out

test: $(STAMP) lint
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check vividly_ray actors tests benchmarks
	$(BIN)/ruff format --check vividly_ray actors tests benchmarks
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

# The whole reliability suite (docs/reliability.md), slow scenarios included; prints the table.
reliability: $(STAMP)
	rm -f reliability.jsonl
	VIVIDLY_RELIABILITY=full VIVIDLY_RELIABILITY_REPORT=reliability.jsonl $(BIN)/pytest -q tests/reliability

bench: $(STAMP)
	$(BIN)/python benchmarks/render_benchmark.py

clean:
	rm -rf out .vividly .pytest_cache .mypy_cache .ruff_cache
