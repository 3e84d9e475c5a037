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

.PHONY: setup run test test-fast clean bench-cep bench-eqspike bench-eqspike-accuracy bench-devices bench-circuits bench-hardware bench-sweeps bench-chip bench-chip-speed bench-validate

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
# CPUs, interleaved 1,000 images at a time (speed-up and fraction of the roofline in one
# run), batch 1, input-rate scaling.
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
# Chip mode (batch 1, every update operation priced): 12 epochs each, ~20 min per run on an idle machine;
# results under benchmarks/results/chip/ (benchmarks/results/chip_mode.md).
bench-chip: setup
	$(BIN)/python benchmarks/bench_chip.py accuracy --device ideal1024 --policy pulses --epochs 12 --run-dir runs/chip/ideal1024_pulses_e12 $(if $(wildcard runs/chip/ideal1024_pulses_e12/checkpoint.npz),--resume,)
	$(BIN)/python benchmarks/bench_chip.py accuracy --device taox_rram --policy residual --bits 8 --epochs 12 --run-dir runs/chip/taox_rram_residual8_e12 $(if $(wildcard runs/chip/taox_rram_residual8_e12/checkpoint.npz),--resume,)
# Chip-mode epoch against the device-aware (simulator-mode) epoch, alternating in one process.
bench-chip-speed: setup
	$(BIN)/python benchmarks/bench_chip.py speed --device taox_rram --policy residual --bits 8 --n-train 3000 --repeats 3
# ngspice re-simulation of the stored 196-16-10 network on 50 test images (~30 min on 2 cores).
bench-validate: setup
	$(BIN)/eqspike validate benchmarks/results/validation/run_196_16_10 --images 50 --workers 2 --out runs/validation_196_16_10 --resume --no-progress
