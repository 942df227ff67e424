# rcbench — the front door. `make bench` runs the benchmark suite, `make test`
# every test. Both check the Debian packages first (tools/deps.sh) and build
# with the CMake presets in CMakePresets.json, into build/<preset>/.
#
# CI=true (as CI sets it) builds with -Werror; WERROR=ON|OFF overrides.
WERROR ?= $(if $(filter true 1 yes,$(CI)),ON,OFF)
TEST_PRESETS ?= release debug asan tsan clang

.PHONY: bench test deps build-% test-% clean

bench: deps build-release
	./build/release/bench/rcbench-lite
	./build/release/bench/rcbench-alloc --csv build/release/rcbench-alloc.csv
	./build/release/bench/rcbench-gc

test: deps $(addprefix test-,$(TEST_PRESETS))
	@echo "rcbench: all test presets passed: $(TEST_PRESETS)"

deps:
	@./tools/deps.sh

build-%: deps
	cmake --preset $* -DRCBENCH_WERROR=$(WERROR) >/dev/null
	cmake --build --preset $*

test-%: build-%
	ctest --preset $*

clean:
	rm -rf build
