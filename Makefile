# One target per habit. `make run` and `make check` are the README's first two commands.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Interpreters for test-matrix, oldest to newest; missing ones are reported and skipped.
PYTHONS ?= 3.9 3.10 3.11 3.12 3.13

.PHONY: install run run-legacy test test-pysqlite3 lint typecheck check migrate-test migrate-freeze test-matrix dist clean

# Both distributions, editable: bootmigrate (pyproject.toml) with its test and lint tools,
# and the reference app sessionstore (reference-app/pyproject.toml).
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml reference-app/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./reference-app
	touch $@

# The main job: create or open var/sessions.db with the reference app, migrate it, and
# print what happened.
run: install
	$(BIN)/sessionstore var/sessions.db

# Build a database as the legacy daemon left it (fresh each time; SHAPE= picks another
# of tests/support/legacy_store.py's shapes) and open it: prints the takeover.
SHAPE ?= stamped-3
run-legacy: install
	$(BIN)/python tests/support/legacy_store.py var/legacy.db $(SHAPE)
	$(BIN)/sessionstore var/legacy.db

test: install
	$(BIN)/python -m pytest

# The tests marked `process` (they start processes: concurrency, kills, other users), their
# loops at full count: 100 SIGKILLs at random moments (50 rollback-journal, 50 WAL; and
# 10 before the migration starts) and 30 in a no-transaction step, 100 rounds of 8
# processes booting at once (20 on a missing file), 20 of a no-transaction race. `make
# test` runs the same tests with fewer rounds. -rP shows each kill test's seed and where
# its kills landed (each class must be hit); BOOTMIGRATE_SEED=N replays a seed.
.PHONY: stress
stress: install
	BOOTMIGRATE_STRESS=1 $(BIN)/python -m pytest -q -raP -m process

lint: install
	$(BIN)/ruff check src tests benchmarks reference-app
	$(BIN)/ruff format --check src tests benchmarks reference-app

typecheck: install
	$(BIN)/mypy

# The README's test command: lint, types and the whole suite.
check: lint typecheck test

# The core file-level tests once more, with pysqlite3 standing in for sqlite3: the same
# tests on the newer SQLite that pysqlite3-binary bundles (tests/support/on_pysqlite3.py).
CORE_TESTS = runner executor no_transaction no_transaction_downs backup restore ledger \
	faults edges edges_backup foreign_keys doctor sqlite_floor splitting python_migrations \
	baseline dry_run newer_database fast_path sessionstore security testkit promise
test-pysqlite3: install
	$(BIN)/python tests/support/on_pysqlite3.py -q -m "not process" -p no:cacheprovider \
	  $(foreach t,$(CORE_TESTS),tests/test_$(t).py)

# The API reference from the docstrings, with the README as its user guide, into
# build/docs/html. Nitpicky and from scratch (-E): any warning, such as a reference
# to a private or missing name, fails it. Its configuration is linted here too.
.PHONY: docs
docs: $(VENV)/.docs-installed
	$(BIN)/ruff check docs
	$(BIN)/ruff format --check docs
	$(BIN)/sphinx-build -E -W --keep-going -n -q -b html docs build/docs/html

$(VENV)/.docs-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $@

# The migration test kit on the reference app's migrations ([tool.bootmigrate] source in
# pyproject.toml): convergence, round trip, populated tables, snapshot and lock, one test
# per check and version, and every legacy shape as an origin (tests/support/migration_kit.py,
# loaded by tests/conftest.py).
migrate-test: install
	$(BIN)/python -m pytest --bootmigrate -m bootmigrate -q

# After adding a migration: write migrations/schema.sql and migrations/bootmigrate.lock
# (then commit them; migrate-test fails until they match the migrations).
migrate-freeze: install
	$(BIN)/bootmigrate schema --write
	$(BIN)/bootmigrate lock

# Benchmarks against a raw sqlite3 baseline and peer tools (yoyo, alembic, sqlite-utils,
# dbmate; installed into .bench-cache/ on first use); a few minutes. BENCHMARKS.md holds a run's table.
# BENCH_PYTHON picks the interpreter, e.g. BENCH_PYTHON=python3.13; BENCH_ARGS=--no-peers.
BENCH_PYTHON ?= $(BIN)/python
# The other interpreters make bench runs on (without peers), after the default one.
BENCH_PYTHONS ?= 3.9 3.13
.PHONY: bench
bench: install
	PYTHONPATH=src $(BENCH_PYTHON) benchmarks/run.py $(BENCH_ARGS)
	@$(MAKE) --no-print-directory PYTHONS="$(BENCH_PYTHONS)" matrix-venvs
	@for v in $(BENCH_PYTHONS); do \
	  [ -x .venv-$$v/bin/python ] || continue; \
	  echo "== make bench on Python $$v (without peers)"; \
	  PYTHONPATH=src .venv-$$v/bin/python benchmarks/run.py --no-peers || exit 1; \
	done

# .venv-3.9, .venv-3.13, ...: a venv for each Python of PYTHONS found on the machine (on
# PATH or under pyenv) with the project and its test tools; a missing one is reported.
.PHONY: matrix-venvs
matrix-venvs:
	@for v in $(PYTHONS); do \
	  py=$$(command -v python$$v); \
	  [ -n "$$py" ] && ! "$$py" -c '' 2>/dev/null && py=; \
	  [ -n "$$py" ] || py=$$(ls -d $$(pyenv root 2>/dev/null)/versions/$$v.*/bin/python 2>/dev/null | tail -n 1); \
	  if [ -z "$$py" ]; then echo "Python $$v not found, skipped"; continue; fi; \
	  [ -x .venv-$$v/bin/python ] || $$py -m venv .venv-$$v || exit 1; \
	  .venv-$$v/bin/python -m pip install --quiet --upgrade pip && \
	  .venv-$$v/bin/python -m pip install --quiet -e '.[test]' -e ./reference-app || exit 1; \
	done

test-matrix: matrix-venvs
	@for v in $(PYTHONS); do \
	  [ -x .venv-$$v/bin/python ] || continue; \
	  echo "== Python $$v"; \
	  .venv-$$v/bin/python -m pytest -q -p no:cacheprovider || exit 1; \
	done

# What a release uploads, in dist/: bootmigrate's sdist and wheel (the wheel built from the
# sdist, so a file the sdist lacks fails here), and the reference app's wheel (it has no
# sdist: reference-app/pyproject.toml says why). tests/test_packaging.py builds the same
# files in make check and checks what is inside them.
dist: install
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .
	$(BIN)/python -m build --no-isolation --wheel --outdir dist reference-app

clean:
	rm -rf $(VENV) .venv-* build dist var src/*.egg-info .mypy_cache .ruff_cache .pytest_cache .bench-cache
	rm -rf reference-app/build reference-app/*.egg-info
