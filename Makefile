# Two commands do all the set-up: `make run` serves the bundled report, `make test` passes the tests.
# Both install exact versions with hashes from requirements/*.lock (`make lock` writes them from pyproject.toml).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# CPU torch for the tests and the torch tools (not for serving): pip takes this wheel from the local disk; an
# unpinned torch would pull a CUDA build. The test lock leaves torch out for this reason.
TORCH_PIN := torch==2.13.0
SERVE_STAMP := $(VENV)/.serve-installed
TEST_STAMP := $(VENV)/.test-installed
LOCK := $(BIN)/uv pip compile pyproject.toml --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	--generate-hashes --index-url https://pypi.org/simple --quiet

.PHONY: run test bench index lint lock clean help

help:
	@echo "make run    set up the serving install (no torch), index the bundled report if needed, serve on :8000"
	@echo "make test   set up with the torch tools and test extras, then run the test suite"
	@echo "make bench  accuracy, latency and capacity figures into bench/results/ (BASELINE=REF: before/after)"
	@echo "make lock   rewrite requirements/serve.lock and requirements/test.lock from pyproject.toml"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(SERVE_STAMP): pyproject.toml requirements/serve.lock | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r requirements/serve.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(SERVE_STAMP)

$(TEST_STAMP): pyproject.toml requirements/test.lock Makefile | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --no-deps $(TORCH_PIN)
	$(BIN)/pip install -q --require-hashes -r requirements/test.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(TEST_STAMP) $(SERVE_STAMP)

index: $(SERVE_STAMP)
	$(BIN)/qa index --if-needed

run: index
	$(BIN)/qa serve

test: $(TEST_STAMP)
	$(BIN)/ruff check qa embeddings api tests bench
	$(BIN)/python -m pytest

# BASELINE=REF also measures the server capacity of the code at that git ref, in the same run
bench: $(TEST_STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.throughput $(if $(BASELINE),--baseline $(BASELINE))

lock: | $(BIN)/python
	$(BIN)/pip install -q uv
	$(LOCK) -o requirements/serve.lock
	$(LOCK) --extra test --no-emit-package torch --find-links /opt/wheels --override requirements/torch-cpu.txt \
		-o requirements/test.lock

clean:
	rm -rf $(VENV) .pytest_cache
