# Two commands: `make run` opens the dashboard, `make test` passes the tests.
# Both build .venv first; it is reinstalled when pyproject.toml or the agent's C modules
# (tasks/agent/_hotpath.c with its headers, and _registry.c, built by the install) change.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint bench screenshots clean setup lock

$(STAMP): pyproject.toml constraints.txt tasks/agent/_hotpath.c tasks/agent/live_table.h \
		tasks/agent/deque_peek.h tasks/agent/changed_queue.h tasks/agent/look_ahead.h \
		tasks/agent/_registry.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c constraints.txt -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/loopscope

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check loopscope tasks widgets tui tests bench scripts examples
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m bench.run; status=$$?; $(BIN)/python -m bench.agent_bench || status=1; \
		$(BIN)/python -m bench.watch_screen || status=1; exit $$status

screenshots: $(STAMP)
	$(BIN)/python -m scripts.screenshots

# Refresh the development pins after changing dependencies (review snapshot changes after).
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check '.[test]'
	{ sed -n '1,3p' constraints.txt; .lock-venv/bin/pip freeze --exclude loopscope | grep -v '^-e '; } > constraints.new
	mv constraints.new constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) build *.egg-info
