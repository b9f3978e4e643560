# The targets every project of the team shares. `make run` and `make test` work on a fresh
# Debian 12 machine as root: both install what they need first.
BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
JOBS ?= $(shell nproc)
CONFIG ?= examples/vigie.yaml
STATE_DIR ?= $(CURDIR)/.state
CMAKE_FLAGS ?=

.PHONY: all init configure build test test-asan run format style bench package clean

all: build

init:
	@bash scripts/init.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

configure: $(BUILD_DIR)/build.ninja

build: init configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --no-tests=error -j 1

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer (helpers stay plain).
# A 16 MiB quarantine (ASan's default is 256 MiB) keeps freed memory from looking like growth in
# the flood test's RSS bound; use-after-free detection still covers recent frees.
test-asan: init
	cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DVIGIE_SANITIZE=address,undefined $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)
	cd $(ASAN_BUILD_DIR) && VIGIE_SANITIZED=1 \
	  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=1:quarantine_size_mb=16 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure --no-tests=error -j 1

run: build
	mkdir -p $(STATE_DIR)
	$(BUILD_DIR)/bin/vigied --config $(CONFIG) --state-dir $(STATE_DIR) \
	  --socket $(STATE_DIR)/vigie.sock

FORMAT_SOURCES = $(shell git ls-files '*.cc' '*.h')

format:
	clang-format -i $(FORMAT_SOURCES)

style: configure
	clang-format --dry-run --Werror $(FORMAT_SOURCES)
	clang-tidy -p $(BUILD_DIR) --quiet --extra-arg=-Wno-unknown-warning-option $(filter %.cc,$(filter agent/%,$(FORMAT_SOURCES)))

bench: build
	bash bench/run.sh $(BUILD_DIR)

# The Debian package (vigie_<version>_<arch>.deb and its -dbgsym .ddeb) into $(BUILD_DIR)/.
package: init configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target vigie_packaged_binaries
	cd $(BUILD_DIR) && cpack -G DEB

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR)
