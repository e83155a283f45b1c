# Two commands for everyone (see README): `make lab` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
NEWEST_VENV ?= .venv-newest
# Tests run offline, on the shipped sample, with the smallest profile; outputs go to a folder of their own.
# COURSE_WARNINGS=error: a deprecation raised in a lesson's kernel is an error there (helpers/session.py).
# tools/__init__.py's TEST_ENV says the same for the tools that run the tests (tests/test_packaging.py checks).
# EVALUATE_VERBOSITY=error: offline, evaluate.load logs a line to stderr on every load, which nbval counts as output.
TEST_ENV := HF_HUB_OFFLINE=1 COURSE_PROFILE=smoke COURSE_WARNINGS=error MRPC_DIR= COURSE_BUNDLE= EVALUATE_VERBOSITY=error COURSE_OUTPUT=$(CURDIR)/outputs/tests

.PHONY: install lab test slow unit twins newest outputs clean

install: $(VENV)/.installed-lab

# tools/install.py picks torch's build for this machine (the CPU build on Linux without an NVIDIA GPU), or installs
# everything from a workshop bundle's wheels when COURSE_BUNDLE names one (then without network: pip stays as it is).
$(VENV)/.installed-lab: pyproject.toml tools/install.py | $(BIN)/python
	$(BIN)/python -m tools.install --extras lab
	touch $@

# The environment itself, made once for both targets (an up-to-date pip, unless a bundle's wheels must do offline).
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(if $(COURSE_BUNDLE),,$(BIN)/python -m pip install --quiet --upgrade pip)

# The tests' libraries (nbval, Playwright, ...) only for those who run the tests.
# (A bundle's wheels hold the lab's libraries only: the tests' come from the network.)
# From scratch, one pip run installs both (a second run would resolve everything again).
$(VENV)/.installed-test: pyproject.toml tools/install.py | $(BIN)/python
	COURSE_BUNDLE= $(BIN)/python -m tools.install --extras lab,test
	touch $(VENV)/.installed-lab $@

lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/00_check.ipynb

# The README's test command, under 3 minutes once installed: the unit tests and each lesson once under nbval. `make slow` runs the rest
# (every lesson in a real browser on a workshop bundle, faults, two processes, the solutions); CI runs both.
test: $(VENV)/.installed-test
	$(TEST_ENV) $(BIN)/python -m pytest -m "not slow"

slow: $(VENV)/.installed-test
	$(TEST_ENV) $(BIN)/python -m pytest -m slow

# The unit tests alone, for maintainers between edits (about a minute).
unit: $(VENV)/.installed-test
	$(TEST_ENV) $(BIN)/python -m pytest tests -m "not slow"

# Every lesson on a twin of Colab's stack and of Binder's image (tools/twins.py), offline, in the smoke profile; each
# prints its summary and writes outputs/twins/{colab,binder}/summary.md. It fails when a lesson fails on either.
twins: $(VENV)/.installed-test
	$(BIN)/python -m tools.twins colab binder

# The suite again, in a fresh second environment with the newest releases of the course's libraries: informational, it
# never fails; it prints a summary and writes outputs/newest/summary.md (README: "When the libraries move").
newest: $(VENV)/.installed-lab
	$(BIN)/python -m tools.newest --venv $(NEWEST_VENV)

# After changing a lesson: regenerate helpers/recipe.py from its `#| export` cells and refresh the checked outputs.
outputs: $(VENV)/.installed-test
	$(BIN)/python -m tools.export
	$(TEST_ENV) $(BIN)/python -m tools.outputs

clean:
	rm -rf $(VENV) $(NEWEST_VENV) .twins outputs
