# The set-up commands of the README: `make demo` (main job), `make test` (whole suite) and
# `make docs` (the documentation).
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.metaq-installed
OUT ?= outputs/demo
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export MPLBACKEND := Agg

WHEEL_VENV ?= /tmp/metaq-wheel-venv

.PHONY: demo test test-fast lint docs wheel-check venv clean

venv: $(STAMP)

# torch==2.13.0 in the lock resolves to the CPU wheel on this machine's disk.
$(STAMP): pyproject.toml requirements/lock.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq --upgrade pip
	$(PY) -m pip install -qq -r requirements/lock.txt
	$(PY) -m pip install -qq --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/metaq demo --out $(OUT)

# one worker per core (pytest-xdist), each test file on one worker so that a module's fitted
# fixtures are fitted once; compiling a model (numba, single-threaded) dominates the slow tests
test: $(STAMP)
	bash tests/setup_browser.sh
	$(PY) -m pytest --run-slow --run-browser --durations=15 -n auto --dist loadfile

test-fast: $(STAMP)
	$(PY) -m pytest

# ruff with the rules of pyproject.toml (pyflakes, pycodestyle, isort, bugbear, numpydoc)
lint: $(STAMP)
	$(VENV)/bin/ruff check metaq tests analyses docs

# the documentation (docs/, API reference from the docstrings) into site/; warnings are errors
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

# the package as users get it: build the wheel, install it into a fresh venv outside the
# checkout, run the main job from an empty folder
wheel-check: $(STAMP)
	rm -rf dist $(WHEEL_VENV)
	$(PY) -m pip wheel -q --no-deps -w dist .
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install -qq -r requirements/lock.txt
	$(WHEEL_VENV)/bin/python -m pip install -qq --no-deps dist/metaq-*.whl
	cd "$$(mktemp -d)" && $(WHEEL_VENV)/bin/metaq -q demo --quick --out demo && test -s demo/report.html

clean:
	rm -rf $(VENV) outputs .pytest_cache dist site
