# User entry points. `make run` and `make test` install what is missing first (scripts/bootstrap).
PORT ?= 8080
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all bootstrap build run test test-asan test-dev fuzz fuzz-build bench clean format

all: build

bootstrap:
	@scripts/bootstrap

build/release/build.ninja:
	cmake --preset release

build: build/release/build.ninja
	cmake --build --preset release -j $(JOBS)

run: bootstrap build
	build/release/relay serve --port $(PORT)

test: bootstrap build
	ctest --preset release -j $(JOBS)

test-dev: bootstrap
	cmake --preset dev && cmake --build --preset dev -j $(JOBS) && ctest --preset dev -j $(JOBS)

test-asan: bootstrap
	cmake --preset asan && cmake --build --preset asan -j $(JOBS) && ctest --preset asan -j $(JOBS)

fuzz-build: bootstrap
	cmake --preset fuzz && cmake --build --preset fuzz -j $(JOBS)

# Runs every fuzzer for FUZZ_SECONDS on its committed corpus (new inputs go to build/fuzz/corpus).
fuzz: fuzz-build
	@scripts/run-fuzzers $(FUZZ_SECONDS)

bench: bootstrap build
	@bench/run.sh

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf build
