# `make run` and `make test` work on a fresh clone: each sets up what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

NODE_STAMP := node_modules/.installed

.PHONY: run test migrate clean chromium wrk screenshots playground

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Microsoft's Agents Playground, Adaptive Cards renderer and manifest schemas, pinned in package-lock.json.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

# Debian's Chromium, for the renderer and Playground tests (Playwright never downloads a browser here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# wrk (Debian), the load generator of the benchmarks and of their smoke test in `make test`.
wrk:
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

migrate: $(STAMP)
	$(BIN)/hypercare migrate

run: migrate
	$(BIN)/hypercare serve

test: $(STAMP) $(NODE_STAMP) chromium wrk
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# A PNG of every card, as Microsoft's Adaptive Cards renderer draws it, for the docs.
screenshots: $(STAMP) $(NODE_STAMP) chromium
	$(BIN)/python -m tests.client.screenshots --out docs/cards

# Chat with the bot in a browser at http://127.0.0.1:56150, no Microsoft account needed: the bot (migrated,
# SQLite ./hypercare.db) and Microsoft 365 Agents Playground together; the Playground's user is made an
# admin (HYPERCARE_ADMINS, read from what the Playground sends). Ctrl-C stops both.
playground: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m tests.client.playground_stack --database-url sqlite+aiosqlite:///./hypercare.db

clean:
	rm -rf $(VENV) node_modules .pytest_cache hypercare.db hypercare.db-wal hypercare.db-shm *.egg-info

# The benchmark (docs/performance.md): the bot beside bare aiohttp, the stock botbuilder echo bot and a
# floor, on SQLite and PostgreSQL; about 10 minutes on 2 cores. Reports, never fails on a time.
# BENCH_ARGS="--quick" for 1-second runs that only check the harness (`make test` runs such a smoke,
# tests/bench/test_bench_smoke.py, never writing the saved results or the docs).
.PHONY: bench
bench: $(STAMP) wrk
	$(BIN)/python -m bench.run $(BENCH_ARGS)
