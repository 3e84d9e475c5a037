# eqspike: the two commands of the README's quick start.
#   make run   installs everything (apt + .venv) and runs the main job
#   make test  installs everything and runs the test suite
# Heavy benchmarks have their own targets (see README, benchmarks/).
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
# Use the project's shared MNIST copy when it lies beside the checkout.
SHARED_DATA := $(abspath ../shared/data)
export EQSPIKE_DATA_DIR ?= $(if $(wildcard $(SHARED_DATA)/mnist),$(SHARED_DATA),)
RUN_ARGS ?=

.PHONY: setup run test test-fast clean bench-cep bench-eqspike bench-eqspike-accuracy bench-devices bench-circuits bench-hardware bench-sweeps

setup:
	@bash scripts/setup.sh

run: setup
	$(BIN)/eqspike run $(RUN_ARGS)

test: setup
	$(BIN)/python -m pytest -q -ra $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -q -ra -m "not slow" $(PYTEST_ARGS)

clean:
	rm -rf runs out reports .pytest_cache

# Rate-based C-EP benchmark on full MNIST (784-500-10): seconds/epoch, GFLOP/s,
# accuracy; appends to benchmarks/results/cep.md. Speed only: CEP_BENCH_ARGS="--epochs 1".
CEP_BENCH_ARGS ?= --epochs 8
bench-cep: setup
	$(BIN)/python benchmarks/bench_cep.py --no-progress $(CEP_BENCH_ARGS)

# The other benchmarks (figures recorded in benchmarks/results/<area>.md).
# bench-eqspike: roofline (row-add, memory bandwidth), full epochs at 1, 2, ..., all
# CPUs (speed-up and fraction of the roofline in one run), batch 1, input-rate scaling.
bench-eqspike: setup
	$(BIN)/python benchmarks/bench_eqspike.py speed --out benchmarks/results/eqspike_speed.json
bench-eqspike-accuracy: setup
	$(BIN)/eqspike train --rule eqspike --beta 1 --epochs 12 --lr 0.1,0.05 --schedule cosine --out runs/eqspike12
bench-devices: setup
	$(BIN)/python benchmarks/bench_devices.py --workers 2
bench-circuits: setup
	$(BIN)/python benchmarks/bench_circuits.py --serial
bench-hardware: setup
	$(BIN)/python benchmarks/bench_hardware.py speed --n-train 3000 --repeats 3
	$(BIN)/python benchmarks/bench_hardware.py accuracy --device taox_rram --epochs 3
	$(BIN)/python benchmarks/bench_hardware.py accuracy --device fefet --epochs 3
bench-sweeps: setup
	$(BIN)/python benchmarks/bench_sweeps.py --workers 1 2 --md benchmarks/results/sweeps.md
