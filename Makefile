# The two commands of the README: `make demo` and `make test`.
# Each target installs what is missing first (scripts/setup).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: setup configure build demo test bench fuzz clean

setup:
	@bash scripts/setup

configure: setup
	@if [ ! -f $(BUILD)/build.ninja ]; then \
	  cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS); fi

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo $(BUILD)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: build
	@bash scripts/bench $(BUILD)

# libFuzzer (clang-14, ASan/UBSan) over every fuzz target, FUZZ_SECONDS each.
# `make test` already runs each target as a bounded CTest under g++.
fuzz: setup
	@bash scripts/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD)
