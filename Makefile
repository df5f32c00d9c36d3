# Convolutional Neural Networks for Computer Vision - build, test and teaching commands.
# `make book` builds the HTML book, `make test` runs every test; both set up .venv first.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.cvbook-installed
JOBS ?= 2

# The conditions under which notebooks are tested AND refreshed (make refresh): one thread
# per notebook, CPU, no progress bars, no downloads. The tests add a gradient jitter to the
# notebook kernels (conftest.py, TEST_JITTER), so that only exact numbers may be checked.
NB_ENV := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 CVBOOK_PROGRESS=0 CVBOOK_ONLINE=0 \
          CVBOOK_DEVICE=cpu PYTHONHASHSEED=0 PYTHONWARNINGS=ignore

NBVAL_OPTS := --nbval-lax --nbval-current-env --nbval-cell-timeout=600 \
              --nbval-sanitize-with tests/sanitize.cfg

.PHONY: help venv book test test-unit test-notebooks test-book lint refresh lab exercises grade stamp release bench clean

help:
	@echo "make book       build the HTML book into _build/html (sets up .venv first)"
	@echo "make test       run every test: unit tests, notebooks (nbval), exercise freshness, book build"
	@echo "make lab        open JupyterLab on the chapters"
	@echo "make refresh    re-execute notebooks to refresh stored outputs (NB=path/to/nb.ipynb for one)"
	@echo "make spread     measure the spread of trained numbers, rewrite tests/measured_spread.csv"
	@echo "make exercises  regenerate exercises/ from solutions/ with nbgrader"
	@echo "make grade      grade a class: make grade CHAPTER=ch03 SUBMISSIONS=folder-or.zip [OUT=grading/ch03]"
	@echo "make stamp      write the repository URL from _config.yml into notebooks"
	@echo "make lint       ruff (lint + format check), actionlint and zizmor on the workflows"
	@echo "make release    make release VERSION=x.y.z: version, Colab pin, notebooks, exercises; prints git lines"
	@echo "make bench      time fit() against a hand-written training loop"

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: '$(PYTHON)' not found. Install Python >= 3.10 (or run make PYTHON=/path/to/python3)." >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || { echo "error: Python >= 3.10 is needed; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { echo "error: the Python 'venv' module (with ensurepip) is missing. On Debian/Ubuntu: sudo apt-get install python3-venv" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install --no-compile -c constraints.txt torch torchvision
	$(BIN)/python -m pip install --no-compile -c constraints.txt -e ".[dev]"
	@# pip byte-compiles one file at a time (72 s here); compileall on every core takes 45 s
	@echo "byte-compiling the venv's packages"
	@$(BIN)/python -m compileall -q -j 0 "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null 2>&1 || true
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
	@touch $(STAMP)

venv: $(STAMP)

book: $(STAMP)
	$(BIN)/python tools/build_book.py

# nbval runs chapters/ only: the solution notebooks run once, through the grading
# command (tests/test_fairness.py: full marks, checked outputs, time budget, and the fairness
# fixtures). --dist loadscope keeps all cells of a notebook in one kernel and spreads the
# chapters of tests/test_fairness.py (one class each) over the workers; --no-loadscope-reorder
# keeps conftest.py's order (the longest scopes first) instead of xdist's (the most tests first).
test: $(STAMP) lint
	$(NB_ENV) $(BIN)/python -m pytest -n $(JOBS) --dist loadscope --no-loadscope-reorder --durations=30 $(NBVAL_OPTS) tests chapters
	$(BIN)/python tools/build_book.py

test-unit: $(STAMP)
	$(NB_ENV) $(BIN)/python -m pytest -n $(JOBS) --dist loadscope --no-loadscope-reorder tests

# The property-based checks (tests/test_properties.py) with the Hypothesis profile "deep":
# 20x more examples, new random ones on every run (make test runs the derandomized "ci" profile).
.PHONY: test-deep
test-deep: $(STAMP)
	CVBOOK_HYPOTHESIS_PROFILE=deep $(NB_ENV) $(BIN)/python -m pytest -n $(JOBS) tests/test_properties.py

test-notebooks: $(STAMP)
	$(NB_ENV) $(BIN)/python -m pytest -n $(JOBS) --dist loadscope --no-loadscope-reorder $(NBVAL_OPTS) chapters \
	  tests/test_fairness.py

test-book: book

refresh: $(STAMP)
	$(NB_ENV) $(BIN)/python tools/refresh.py $(NB)

# The spread of every measured claim over seeds and CPU kernels (tests/measured_spread.csv),
# and the exact outputs re-checked under each kernel configuration. Slow (about an hour).
spread: $(STAMP)
	$(BIN)/python tools/measure_spread.py run $(NB)
	$(BIN)/python tools/measure_spread.py table

lab: $(STAMP)
	$(BIN)/jupyter lab chapters

exercises: $(STAMP)
	$(BIN)/python tools/exercises.py generate

# Grade a folder (or LMS zip) of submissions: grades.csv and feedback/ in OUT.
# Extra options: GRADE_OPTS="--jobs 4 --timeout 60 --memory 2G" (see cvbook-grade --help).
grade: $(STAMP)
	@test -n "$(CHAPTER)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade CHAPTER=ch03 SUBMISSIONS=path/to/folder-or.zip [OUT=grading/ch03] [GRADE_OPTS=...]" >&2; exit 2; }
	$(BIN)/python -m cvbook.grading $(CHAPTER) "$(SUBMISSIONS)" --source . --out "$(or $(OUT),grading/$(CHAPTER))" $(GRADE_OPTS)

stamp: $(STAMP)
	$(BIN)/python tools/stamp.py

# A few seconds: ruff over utils/, tests/, tools/ and the notebooks' .py pairs ([tool.ruff] in
# pyproject.toml; `ruff check --fix` and `ruff format` mend most findings), then the GitHub
# workflows: actionlint (syntax, expressions) and zizmor offline (security; no network).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/actionlint .github/workflows/*.yml
	$(BIN)/zizmor --offline --no-progress --quiet .github/workflows

# Set the version (pyproject.toml, cvbook.__version__) and the Colab pin (_config.yml's
# cvbook_package_ref), stamp the notebooks, regenerate exercises/, check they agree
# (tests/test_release.py) and print the git tag/push lines. Pushes nothing.
release: $(STAMP)
	@test -n "$(VERSION)" || { echo "usage: make release VERSION=x.y.z" >&2; exit 2; }
	$(BIN)/python tools/release.py "$(VERSION)"

# CPU: fit against a bare loop on one thread. CUDA: fit (AMP, channels_last, pinned memory)
# against a hand-tuned AMP loop, in images/second; it says so and skips without a GPU.
bench: $(STAMP)
	OMP_NUM_THREADS=1 CVBOOK_PROGRESS=0 CVBOOK_DEVICE=cpu $(BIN)/python tools/bench_fit.py
	CVBOOK_PROGRESS=0 $(BIN)/python tools/bench_fit.py --cuda

clean:
	rm -rf _build .pytest_cache
