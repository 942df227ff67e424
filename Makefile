# rcbench — the front door. `make bench` runs the benchmark suite, `make test`
# every test. Both check the Debian packages first (tools/deps.sh) and build
# with the CMake presets in CMakePresets.json, into build/<preset>/.
#
# CI=true (as CI sets it) builds with -Werror; WERROR=ON|OFF overrides.
WERROR ?= $(if $(filter true 1 yes,$(CI)),ON,OFF)
# The aarch64 presets cross-build with Debian's cross gcc and run every test
# under qemu-aarch64 (tools/deps-arm64.sh installs what they need).
TEST_PRESETS ?= release debug asan tsan clang arm64-lse arm64-llsc

.SECONDARY:
.PHONY: bench bench-alloc bench-programs bench-gc census gate gate-baseline gate-trial test deps deps-arm64 build-% test-% clean

# The suite: every workload x strategy x allocator, 1 thread and one per
# core; the tidy CSV, the summary, the plots and report.html (the HTML
# report, self-contained: tools/rcbench-report) land in $(BENCH_OUT),
# Google Benchmark's JSON (several MB) in $(BENCH_JSON). RCBENCH_FLAGS adds
# flags (e.g. --benchmark_repetitions=5). A run with error rows (rcbench's
# exit 1) still gets its plots and report, then make fails with it; the
# report's path is the last line.
BENCH_OUT ?= build/release/results
BENCH_JSON ?= build/release/rcbench.json
RCBENCH_FLAGS ?=
bench: deps build-release
	mkdir -p $(BENCH_OUT)
	./build/release/bench/rcbench --csv=$(BENCH_OUT)/rcbench.csv --summary=$(BENCH_OUT)/summary.txt \
	    --benchmark_out=$(BENCH_JSON) --benchmark_out_format=json $(RCBENCH_FLAGS); st=$$?; \
	[ $$st -le 1 ] || exit $$st; \
	./tools/rcbench-plot $(BENCH_OUT)/rcbench.csv || exit $$?; \
	./tools/rcbench-report $(BENCH_OUT)/rcbench.csv --out $(BENCH_OUT)/report.html >/dev/null || exit $$?; \
	echo "rcbench: report: file://$$(realpath $(BENCH_OUT)/report.html)"; exit $$st

# The census (docs/census.md): every workload and program under the census
# flavour, untimed, 1 and 2 threads; census.csv and census-smallint.csv
# next to make bench's rcbench.csv, and census-smallint.png: the workloads'
# small-int references beside CPython's census (results/census/).
# CENSUS_FLAGS adds flags (--quick).
CENSUS_FLAGS ?=
census: deps build-release
	mkdir -p $(BENCH_OUT)
	./build/release/bench/rcbench --census=$(BENCH_OUT)/census.csv $(CENSUS_FLAGS)
	./tools/rcbench-census-plot results/census/cpython-smallint.csv \
	    --rcbench $(BENCH_OUT)/census-smallint.csv --out $(BENCH_OUT)/census-smallint.png

# The regression gate (instruction counts of the single-thread kernels
# against results/<arch>/icount-baseline.csv; CI runs it after the tests),
# the command that refreshes its baseline, and the trial that proves it.
# HISTORY=FILE (default $RCBENCH_HISTORY): the gate also adds its counts to
# that history and checks it (tools/rcbench-history, docs/history.md).
HISTORY ?= $(RCBENCH_HISTORY)
gate: deps build-release
	RCBENCH_HISTORY='$(HISTORY)' ./tools/rcbench-gate ./build/release/bench/rcbench
gate-baseline: deps build-release
	./tools/rcbench-gate --baseline ./build/release/bench/rcbench
gate-trial: deps build-release
	./tools/gate-trial.sh 10

# Selections of the suite: the allocators alone (the none peer's alloc_*
# workloads, every allocator); and the cycle detector against CPython's gc
# (full collections, gc_pause_*, beside the cpython-gc peer; young
# collections, gc_young), every strategy, on the arena.
bench-alloc: deps build-release
	./build/release/bench/rcbench --strategies=none --workloads=alloc --csv=build/release/rcbench-alloc.csv \
	    $(RCBENCH_FLAGS)
bench-programs: deps build-release
	./build/release/bench/rcbench --workloads=programs --allocators=arena,glibc \
	    --csv=build/release/rcbench-programs.csv --summary=build/release/rcbench-programs-summary.txt $(RCBENCH_FLAGS)
bench-gc: deps build-release
	./build/release/bench/rcbench --workloads=gc_pause,gc_young --allocators=arena --threads=1 \
	    --csv=build/release/rcbench-gc.csv $(RCBENCH_FLAGS)

test: deps $(addprefix test-,$(TEST_PRESETS))
	@echo "rcbench: all test presets passed: $(TEST_PRESETS)"

deps:
	@./tools/deps.sh

deps-arm64: deps
	@./tools/deps-arm64.sh

build-%: deps
	cmake --preset $* -DRCBENCH_WERROR=$(WERROR) >/dev/null
	cmake --build --preset $*

# (GNU make takes the rule with the shorter stem: this one for arm64-*.)
build-arm64-%: deps-arm64
	cmake --preset arm64-$* -DRCBENCH_WERROR=$(WERROR) >/dev/null
	cmake --build --preset arm64-$*

test-%: build-%
	ctest --preset $*

clean:
	rm -rf build
