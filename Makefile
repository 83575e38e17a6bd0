# The two commands a new user needs (README): `make demo` and `make test`.
# Both create .venv/ on first use (see scripts/bootstrap.sh).
VENV   := .venv
PY     := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: demo test venv lint clean

venv:
	@bash scripts/bootstrap.sh

demo: venv
	$(PY) -m pdesuite demo

test: venv
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check pdesuite tests benchmarks examples

clean:
	rm -rf demo-output .pytest_cache
