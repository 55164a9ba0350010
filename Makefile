# nibble — the two commands a newcomer needs are `make run` and `make test`.
# Every dependency comes from the Debian packages listed in .ci/debian-packages.txt.

ASAN   ?= 0
JOBS   ?= 2
ifeq ($(ASAN),1)
BUILD  ?= build-asan
CMAKE_FLAGS += -DNIBBLE_ASAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
else
BUILD  ?= build
CMAKE_FLAGS += -DCMAKE_BUILD_TYPE=Release
endif

PACKAGES := $(shell sed -e 's/\#.*//' .ci/debian-packages.txt)
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

FUZZ_BUILD   ?= build-fuzz
FUZZ_RUNS    ?= 1000000
FUZZ_SECONDS ?= 300

.PHONY: all deps configure build test test-asan run bench bench-accuracy fuzz fuzz-smoke clean

all: build

## deps: install the Debian packages that are missing (apt-get update only when needed)
deps:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	else \
	  echo "make deps: all $(words $(PACKAGES)) Debian packages present"; \
	fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

configure: $(BUILD)/CMakeCache.txt

## build: compile everything; the command lands at build/nibble
build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

## test: deps + build + the whole test suite through CTest
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

## test-asan: the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
test-asan:
	$(MAKE) test ASAN=1

## run: deps + build + the main job
run: build
	$(BUILD)/nibble numerics

## bench: the performance figures the issues set as bars
bench: build
	@for b in $(BUILD)/bench/bench_*; do echo "== $$b"; $$b || exit 1; done

## fuzz: every parser under libFuzzer (clang), FUZZ_RUNS executions or FUZZ_SECONDS each
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DNIBBLE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(FUZZ_BUILD) --target fuzzers -j $(JOBS)
	tests/fuzz/run_fuzzers.sh $(FUZZ_BUILD) $(FUZZ_RUNS) $(FUZZ_SECONDS)

## fuzz-smoke: a few seconds of fuzzing per parser
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=5

clean:
	rm -rf build build-asan build-fuzz
