# Two commands for everyone (see README): `make lab` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Tests run offline, on the shipped sample, with the smallest profile; outputs go to a folder of their own.
TEST_ENV := HF_HUB_OFFLINE=1 COURSE_PROFILE=smoke MRPC_DIR= COURSE_BUNDLE= COURSE_OUTPUT=$(CURDIR)/outputs/tests

.PHONY: install lab test outputs clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable ".[lab,test]"
	touch $@

lab: install
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/01_load.ipynb

test: install
	$(TEST_ENV) $(BIN)/python -m pytest

# After changing a lesson: regenerate helpers/recipe.py from its `#| export` cells and refresh the checked outputs.
outputs: install
	$(BIN)/python -m tools.export
	$(TEST_ENV) $(BIN)/python -m tools.outputs

clean:
	rm -rf $(VENV) outputs
