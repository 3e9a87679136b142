VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test fuzz mutation bench migrate clean vendor-graphiql vendor-graphql-ws

$(PY):
	@echo "Creating the virtual environment in $(VENV) ..."
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Runs once (and again when pyproject.toml changes): the first time it downloads and builds everything,
# which takes a few minutes, so pip shows what it is fetching instead of staying silent.
$(STAMP): pyproject.toml | $(PY)
	@echo "Installing Courtyard and its dependencies into $(VENV) (the first time takes a few minutes) ..."
	$(PY) -m pip install --no-input -e '.[test]'
	@touch $(STAMP)
	@echo "Installed."

run: $(STAMP)
	$(VENV)/bin/courtyard serve --demo

# The browser tests drive Debian's chromium and the voice-report tests espeak-ng; the script installs them when missing and allowed (as root).
# Two test processes (one per core of the CI machine), each taking whole files so a module's fixtures (a
# seeded demo, a started server, an authorization world) are built once (measured on this 2-core machine:
# 11.9 min, against 14.4 min sharing out single tests and 12.2 min in one process); TEST_WORKERS=0 runs
# everything in one process.
TEST_WORKERS ?= 2
test: $(STAMP)
	bash tests/ensure_debian_tools.sh
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# The property tests with many freshly drawn examples each, the schema fuzz included; `make test` under
# CI=true draws the same ones every run.
fuzz: $(STAMP)
	COURTYARD_HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest tests/unit tests/integration/test_schema_fuzz.py -q -p no:cacheprovider

# Mutation score of the pure cores, one module at a time against its own unit tests, one test process at a
# time (tests/mutation.py; the equivalent mutants it counts are named in tests/mutation_equivalents.md).
mutation: $(STAMP)
	$(PY) -m tests.mutation

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
