# Front door to the CMake build. `make run` and `make test` are all a fresh Debian 12
# machine needs; both install missing packages first (.ci/deps).
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CONF ?= conf/shoal.yaml

.PHONY: all deps build run test test-asan bench clean

all: build

deps:
	@bash .ci/deps

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: deps build
	./$(BUILD_DIR)/shoal -c $(CONF)

test: deps build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer (Debug build). A small
# quarantine keeps freed memory from looking like growth to the memory-bound tests.
test-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSHOAL_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=quarantine_size_mb=8 ctest --output-on-failure -j $(JOBS)

# shoal against nginx and h2o on this machine (bench/run.sh; RECORD=1 appends to RESULTS.md).
bench: deps
	bash bench/run.sh $(ROUNDS) $(SECONDS)

clean:
	rm -rf $(BUILD_DIR) build-asan
