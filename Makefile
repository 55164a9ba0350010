# nibble — the two commands a newcomer needs are `make run` and `make test`.
# Every dependency comes from the Debian packages listed in .ci/debian-packages.txt.

ASAN   ?= 0
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
ifeq ($(ASAN),1)
BUILD  ?= build-asan
CMAKE_FLAGS += -DNIBBLE_ASAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
else
BUILD  ?= build
CMAKE_FLAGS += -DCMAKE_BUILD_TYPE=Release
endif

PACKAGES      := $(shell sed -e 's/\#.*//' .ci/debian-packages.txt)
FUZZ_PACKAGES := $(shell sed -e 's/\#.*//' .ci/debian-packages-fuzz.txt)
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

FUZZ_BUILD   ?= build-fuzz
FUZZ_RUNS    ?= 1000000
FUZZ_SECONDS ?= 300

.PHONY: all deps deps-fuzz configure build test test-fast test-asan test-asan-unit run bench bench-accuracy fuzz fuzz-smoke clean

all: build

# $(call install_missing,PACKAGES): installs those of PACKAGES that are missing (apt-get update
# only when some are); the recipe of deps and deps-fuzz
define install_missing
	@missing=""; \
	for p in $(1); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	else \
	  echo "make deps: all $(words $(1)) Debian packages present"; \
	fi
endef

## deps: install the Debian packages that are missing
deps:
	$(call install_missing,$(PACKAGES))

## deps-fuzz: deps, plus clang and its libFuzzer runtime (only `make fuzz` needs them)
deps-fuzz:
	$(call install_missing,$(PACKAGES) $(FUZZ_PACKAGES))

# $(call generator,DIR): a new build folder gets Ninja (from deps), which compiles one target's
# sources while another links: a clean Release build took 319 s instead of 523 s with Makefiles
# on 2 cores (docs/validation.md, "Start-up, build and test time"). A folder configured before
# keeps its generator. Whether ninja is there is asked when the recipe runs, after deps.
generator = $(if $(wildcard $(1)/CMakeCache.txt),,$$(command -v ninja >/dev/null 2>&1 && echo -G Ninja))

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(call generator,$(BUILD)) $(CMAKE_FLAGS)

configure: $(BUILD)/CMakeCache.txt

## build: compile everything; the command lands at build/nibble
build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

## test: deps + build + the whole test suite through CTest, then every unit test again
## under AddressSanitizer + UndefinedBehaviorSanitizer (what CI runs)
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600
ifeq ($(ASAN),0)
	$(MAKE) test-asan-unit
endif

## test-fast: the test suite without the sanitizer pass
test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

## test-asan: the whole test suite built with AddressSanitizer + UndefinedBehaviorSanitizer
test-asan:
	$(MAKE) test ASAN=1

## test-asan-unit: the GoogleTest unit tests (label `unit`) under ASan + UBSan, in build-asan-unit/.
## Verilator's generated models are left out of this build (the co-simulation runs in `test`).
## The five accuracy runs (`*LearnsFrom*`: a network trained to a threshold, 550 s of CPU under
## the sanitizers) are left to the plain pass: the same networks and kernels run under the
## sanitizers in the short determinism tests (`*SameResultsAtAnyThreadCount`).
ASAN_SKIP := LearnsFrom|LearnFrom
test-asan-unit: deps
	cmake -S . -B build-asan-unit $(call generator,build-asan-unit) -DNIBBLE_ASAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	      -DCMAKE_DISABLE_FIND_PACKAGE_verilator=ON
	cmake --build build-asan-unit --target unit_tests -j $(JOBS)
	cd build-asan-unit && ctest -L unit -E '$(ASAN_SKIP)' --output-on-failure -j $(JOBS) --timeout 900

## run: deps + build + the main job (nibble run: 4-bit vs FP16 at equal area, and 4-bit accuracy) into out/
run: build
	$(BUILD)/nibble run --out out

## bench: the performance figures the issues set as bars
bench: build
	@for b in $(BUILD)/bench/bench_*; do echo "== $$b"; $$b || exit 1; done

## fuzz: every parser under libFuzzer (clang), FUZZ_RUNS executions or FUZZ_SECONDS each
fuzz: deps-fuzz
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) $(call generator,$(FUZZ_BUILD)) -DNIBBLE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(FUZZ_BUILD) --target fuzzers -j $(JOBS)
	tests/fuzz/run_fuzzers.sh $(FUZZ_BUILD) $(FUZZ_RUNS) $(FUZZ_SECONDS)

## fuzz-smoke: a few seconds of fuzzing per parser
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=5

## bench-accuracy: the accuracy table of docs/validation.md (trains Fashion-MNIST networks; hours, not CI)
bench-accuracy: build
	tests/train/bench_accuracy.sh $(BUILD)/nibble $(BUILD)/bench-accuracy

clean:
	rm -rf build build-asan build-asan-unit build-fuzz
