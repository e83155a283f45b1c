# Two commands for everyone (see README): `make lab` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Tests run offline, on the shipped sample, with the smallest profile; outputs go to a folder of their own.
TEST_ENV := HF_HUB_OFFLINE=1 COURSE_PROFILE=smoke MRPC_DIR= COURSE_BUNDLE= COURSE_OUTPUT=$(CURDIR)/outputs/tests

.PHONY: install lab test outputs clean

install: $(VENV)/.installed-lab

# helpers/install.py picks torch's build for this machine (the CPU build on Linux without an NVIDIA GPU), or installs
# everything from a workshop bundle's wheels when COURSE_BUNDLE names one (then without network: pip stays as it is).
$(VENV)/.installed-lab: pyproject.toml helpers/install.py
	$(PYTHON) -m venv $(VENV)
	$(if $(COURSE_BUNDLE),,$(BIN)/python -m pip install --quiet --upgrade pip)
	$(BIN)/python -m helpers.install --extras lab
	touch $@

# The tests' libraries (nbval, Playwright, ...) only for those who run the tests.
# (A bundle's wheels hold the lab's libraries only: the tests' come from the network.)
$(VENV)/.installed-test: $(VENV)/.installed-lab
	COURSE_BUNDLE= $(BIN)/python -m helpers.install --extras lab,test
	touch $@

lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/00_check.ipynb

test: $(VENV)/.installed-test
	$(TEST_ENV) $(BIN)/python -m pytest

# After changing a lesson: regenerate helpers/recipe.py from its `#| export` cells and refresh the checked outputs.
outputs: $(VENV)/.installed-test
	$(BIN)/python -m tools.export
	$(TEST_ENV) $(BIN)/python -m tools.outputs

clean:
	rm -rf $(VENV) outputs
