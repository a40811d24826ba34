# Every target bootstraps .venv itself: a fresh clone needs only python3 (>= 3.11) and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: venv run demo check test test-fast test-container lint lock format clean model bench-classify bench-throughput bench-workers

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)  ## the daemon on the shipped sources.toml, state in state/watcher.db
	$(BIN)/watcher run --config sources.toml --state state --log-level info

check: $(STAMP)  ## one pass over sources.toml, then exit
	$(BIN)/watcher check --config sources.toml --state state

demo: $(STAMP)  ## offline: replayed sector pages on 127.0.0.1 change; see the diff and the email
	$(BIN)/python demo/demo.py

CORPUS_DIR ?= ../shared/corpus/classify
CORPUS ?= $(CORPUS_DIR)/dev.jsonl $(CORPUS_DIR)/topical_dev.jsonl $(CORPUS_DIR)/pages_dev.jsonl
model: $(STAMP)  ## rebuild the shipped category model from all the labelled corpora (deterministic)
	$(BIN)/python -m watcher.classify.train $(addprefix --corpus ,$(CORPUS)) --out watcher/classify/model.json

bench-classify: $(STAMP)  ## macro-F1 by grouped cross-validation, calibration, speed
	$(BIN)/python bench/classify.py

BENCH_ARGS ?=
bench-throughput: $(STAMP)  ## watcher against urlwatch 2.29 at N = 500, 2,000, 5,000 (BENCH_ARGS="--quick" to smoke)
	$(BIN)/python bench/throughput.py $(BENCH_ARGS)

bench-workers: $(STAMP)  ## checks/s with 1, 2, 3 `watcher check` workers on one PostgreSQL, 2,000 pages (BENCH_ARGS="--quick" to smoke)
	$(BIN)/python bench/workers.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

test-container: $(STAMP)  ## build the image with podman, run it read-only against a loopback page
	$(BIN)/python tests/container/smoke.py

# requirements.lock pins the runtime dependencies the Docker image installs; regenerate it after
# changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python tests/container/lock.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
