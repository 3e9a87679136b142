VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test fuzz bench migrate clean vendor-graphiql vendor-graphql-ws

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/courtyard serve --demo

# The browser tests drive Debian's chromium; the script installs it when missing and allowed (as root).
test: $(STAMP)
	bash tests/e2e/ensure_chromium.sh
	$(PY) -m pytest

# The property tests with many freshly drawn examples each; `make test` under CI=true draws the same ones
# every run.
fuzz: $(STAMP)
	COURTYARD_HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest tests/unit -q -p no:cacheprovider

bench: $(STAMP)
	$(PY) -m benchmarks

migrate: $(STAMP)
	$(VENV)/bin/courtyard migrate

clean:
	rm -rf $(VENV) courtyard.db .pytest_cache

# Re-create the committed GraphiQL assets from pinned npm packages (needs Node; running does not).
vendor-graphiql:
	bash api/pages/vendor_graphiql.sh

# Re-create the committed websocket client of the board and tracking pages from its pinned npm package.
vendor-graphql-ws:
	bash api/pages/vendor_graphql_ws.sh
