# Sugar over the two set-up commands of the README. `make book` and `make test`
# create the virtual environment on first use.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# The paper book: chapters whose paper-scale cells are in store/paper are rendered from
# it, the others at the default set (each page says which). PARAMS=default: all at default.
PARAMS ?= paper
# The data root shared by every loader; the development/CI checkout keeps data beside it.
DATA_ROOT ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
export CCH_DATA_ROOT := $(DATA_ROOT)

.PHONY: install book test sync clean lock

# requirements-cpu.lock pins every distribution of the CPU environment the book was last
# built and tested with (pip freeze); pyproject.toml keeps the ranges. Refresh the lock
# with `make lock` after changing a dependency.
LOCK := requirements-cpu.lock
EXTRAS := test,dask,latentmi

$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $@

install: $(VENV)/.installed

book: install  ## execute every notebook with PARAMS (default: paper, from the store) and build the HTML book
	$(BIN)/python -m cchlib.book --params $(PARAMS)

test: install  ## run the test suite (includes a smoke execution of the whole book)
	$(BIN)/python -m pytest

lock: install  ## rewrite requirements-cpu.lock from the environment (after a dependency change)
	{ echo "# pip freeze of the CPU environment (make install installs it; torch is the CPU build)"; \
	  $(BIN)/python -m pip freeze --all --exclude-editable | sed 's/+cpu$$//' | grep -v -e '^pip==' -e '^py-spy==' -e '^pyflakes=='; } > $(LOCK)

sync:  ## re-pair every notebook's .ipynb with its Jupytext .py source
	$(BIN)/jupytext --sync notebooks/*.py book/scorecard.py

clean:
	rm -rf _build results
