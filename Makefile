# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app auditapp
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-postgres install install-dev compile-translations translations browser fonts lint-js clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Reinstall only when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed compile-translations
install-dev: $(VENV)/.installed-dev compile-translations

compile-translations: | $(BIN)/python
	$(BIN)/pybabel -q compile -d auditapp/translations

run: install fonts
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	$(FLASK) run --host 127.0.0.1 --port 5000

# The PDF scorecards embed a CJK font (Debian's fonts-noto-cjk); see reports/render.py.
fonts:
	bash scripts/install-fonts.sh

# Debian's Chromium drives the browser tests; Playwright never downloads its own.
browser:
	bash scripts/install-browser.sh

# ESLint checks auditapp/static (eslint.config.js); npm ci installs it from
# package-lock.json again only when the lock changes.
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	touch $@

lint-js: node_modules/.installed
	node_modules/.bin/eslint auditapp/static

test: install-dev fonts browser lint-js
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest
	$(BIN)/python bench/smoke.py

# The browser tests drive a live server with its own SQLite file whatever the test
# database is, so they already ran in `make test`; this pass is about PostgreSQL.
test-postgres: install-dev
	AUDITAPP_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -m "not e2e"

translations: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o auditapp/translations/messages.pot .
	$(BIN)/pybabel update -i auditapp/translations/messages.pot -d auditapp/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
