# The README's two commands: `make run` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RPS ?= 100
DURATION ?= 10s

.PHONY: run test test-fast lint typecheck browser prometheus serve locust bench clean

# Re-install whenever pyproject.toml changes (the stamp is older than it).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# (setuptools' editable-install notice is noise for a new user: silenced)
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# `make run ARGS="--rps 300 --duration 30s --out reports/run1"` for any other run. Each
# writes its folder (reports/<time>/ without --out) and ends with the link to its page.
ARGS ?= --rps $(RPS) --duration $(DURATION)
run: $(STAMP)
	$(BIN)/python -m loadgen $(ARGS)

# The tests start hundreds of interpreters (loadgen, servers, samplers), and
# pytest rewrites every test module: each would compile the project's modules
# again without their bytecode cached. It is cached under .venv even where
# PYTHONDONTWRITEBYTECODE would have none written: the tree stays clean.
test test-fast: export PYTHONDONTWRITEBYTECODE :=
test test-fast: export PYTHONPYCACHEPREFIX := $(CURDIR)/$(VENV)/pycache

# Two test processes: most tests wait on servers and subprocesses, not the CPU.
# Those that judge a diagnosis end to end (`alone`) then run one at a time.
test: $(STAMP) lint typecheck browser prometheus
	$(BIN)/python -m pytest -q -n 2 -m "not alone"
	$(BIN)/python -m pytest -q -m alone

# The inner loop: no process-starting or browser tests (make test runs everything).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m "not slow and not browser"

# $(call apt_need,COMMAND,PACKAGE,WHAT): Debian's PACKAGE when COMMAND is missing and we
# can install it (root, apt-get); else WHAT is skipped, and said so.
apt_need = command -v $(1) >/dev/null 2>&1 || { \
  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; } \
      || echo "could not install $(2): $(3) will be skipped"; \
  else echo "$(2) is not installed: $(3) will be skipped"; fi; }

# report.html is tested in real Chromium: Debian's package, installed when we can.
browser:
	@$(call apt_need,chromium,chromium,the report.html browser tests)

# The live dashboard's /metrics is scraped by a real Prometheus: Debian's, installed
# when we can, as Chromium is.
prometheus:
	@$(call apt_need,prometheus,prometheus,the dashboard's scrape test)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

typecheck: $(STAMP)
	$(BIN)/mypy

# From the repo root so that `server` imports and .env is found; logs go to server/logs/.
serve: $(STAMP)
	$(BIN)/gunicorn --config infra/gunicorn_conf.py --bind 127.0.0.1:8000 \
		--log-config server/logging.conf server.main:app

# The bundled server on 127.0.0.1:8000 and Locust's web UI on http://127.0.0.1:8089
# aimed at it, for comparing with loadgen (README, "Locust and containers"). Ctrl-C or kill stops both.
locust: $(STAMP)
	$(BIN)/python infra/locust_ui.py $(if $(LOCUST_ARGS),-- $(LOCUST_ARGS))

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

bench: $(STAMP)
	$(BIN)/python bench/generator_max.py
