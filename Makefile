# Thin wrapper over tools/bootstrap-deps.sh, CMake/Ninja and CTest. See README.md.
BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test test-large-upload run-all test-asan fuzz bench lint format clean

all: build

deps:
	@tools/bootstrap-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Every suite: unit (Catch2), OpenAPI route-table checks, integration (real binaries, real clients).
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The streamed-body test with a 1 GiB upload (make test runs it with 256 MiB).
test-large-upload: build
	cd $(BUILD) && STREAMED_UPLOAD_MIB=1024 ctest --output-on-failure -R integration.test_streamed_body

# Builds and starts every service with development defaults (data in ./data); Ctrl-C stops all.
run-all: build
	@tools/run-all $(BUILD)/bin

# The same suites under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps
	$(MAKE) test BUILD=build-asan BUILD_TYPE=Debug CMAKE_FLAGS="-DPLATFORM_SANITIZE=ON"

# libFuzzer targets (clang), each run for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
fuzz: deps
	@[ -f build-fuzz/build.ninja ] || CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPLATFORM_FUZZ=ON -DPLATFORM_TESTS=OFF
	cmake --build build-fuzz -j $(JOBS) --target fuzz-targets
	tools/run-fuzz build-fuzz/fuzz $(FUZZ_SECONDS)

# Benchmarks against references measured in the same run; results go to docs/benchmarks.md.
bench: build
	tools/bench/run-all.sh $(BUILD)/bin

lint:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD) build-asan build-fuzz
