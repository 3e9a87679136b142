VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench migrate clean vendor-graphiql

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/courtyard serve --demo

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m benchmarks

migrate: $(STAMP)
	$(VENV)/bin/courtyard migrate

clean:
	rm -rf $(VENV) courtyard.db .pytest_cache

# Re-create the committed GraphiQL assets from pinned npm packages (needs Node; running does not).
vendor-graphiql:
	bash api/pages/vendor_graphiql.sh
