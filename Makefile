# The two set-up commands: `make demo` and `make test`.
# Needs only python3, make and (for missing system packages) apt.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test venv test-venv system-deps lint bench clean

# Create the virtual environment (installs python3-venv through apt when the
# interpreter lacks the venv module, as a bare Debian python3 does).
$(VENV)/bin/python:
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c "import ensurepip" 2>/dev/null || { \
	  echo "python3 venv support missing: installing python3-venv with apt"; \
	  apt-get update -qq && apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade "pip>=25.1"

# The package itself (runtime dependencies only).
$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(PIP) install -e .
	@touch $@

# The package plus what the tests need (dependency group "test", extras).
$(VENV)/.test-installed: $(VENV)/.installed pyproject.toml
	$(PIP) install -e ".[pandas,rewrite,html,redis]" --group test
	@touch $@

venv: $(VENV)/.installed
test-venv: $(VENV)/.test-installed

# System packages the test suite uses (redis-server for the shared index);
# installed through apt when missing. Tests skip with a reason only where
# this could not install them.
system-deps:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "redis-server missing: installing it with apt"; \
	  (apt-get update -qq && apt-get install -y -qq redis-server) >/dev/null 2>&1 \
	    || echo "warning: could not install redis-server; Redis tests will be skipped"; }

demo: $(VENV)/.installed
	$(VENV)/bin/newsdedup cluster seeds/

test: $(VENV)/.test-installed system-deps
	$(PY) -m pytest -q

lint: $(VENV)/.test-installed
	$(PIP) install --group lint
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

# Speed benchmark against the peers (issue 6): peers go into benchmarks/.venv-*
# (never package dependencies); corpora are written to ~/.cache/newsdedup-bench.
# BENCH_DOCS / BENCH_REPEAT choose the sizes and the repeats.
BENCH_DOCS ?= 10000 100000
BENCH_REPEAT ?= 3
bench: $(VENV)/.installed
	bash benchmarks/speed/setup.sh
	$(PY) benchmarks/speed/bench.py --docs $(BENCH_DOCS) --repeat $(BENCH_REPEAT) --write-docs

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache
