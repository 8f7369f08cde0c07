# The two commands: `make demo` and `make test`. Each installs missing Debian packages,
# then configures and builds in build/ (sanitizer build in build-asan/). `make fuzz`
# builds the libFuzzer targets with clang in build-fuzz/ and runs each FUZZ_SECONDS.
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 60
FUZZ_BUILD ?= build-fuzz

.PHONY: deps configure build demo test test-asan test-tsan bench bench-deps consumer package fuzz-deps fuzz-build fuzz clean

deps:
	@./scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	rm -rf $(BUILD)/demo-blog
	$(BUILD)/bin/blog $(BUILD)/demo-blog
	@echo
	@echo "== ashlar log $(BUILD)/demo-blog"
	$(BUILD)/bin/ashlar log $(BUILD)/demo-blog
	@echo
	$(BUILD)/bin/ashlar stats $(BUILD)/demo-blog

test: build
	cd $(BUILD) && ctest --output-on-failure --no-tests=error -j$(JOBS)

# Sanitizer and fuzz builds keep line tables only (-g1): enough for their reports' file
# and line, and much cheaper to compile than full debug information.
LINE_TABLES = -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1
LINE_TABLES_O2 = "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"

# LeakSanitizer skips the one allocation libzmq itself can lose (tests/lsan.supp says which).
test-asan:
	LSAN_OPTIONS="$${LSAN_OPTIONS:+$$LSAN_OPTIONS:}suppressions=$(CURDIR)/tests/lsan.supp" $(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DASHLAR_SANITIZE=ON -DASHLAR_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug $(LINE_TABLES)"

# The concurrency tests (group commit, many callers) under ThreadSanitizer: only what
# they need is built.
test-tsan: deps
	cmake -S . -B build-tsan -DASHLAR_TSAN=ON -DASHLAR_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo $(LINE_TABLES_O2)
	cmake --build build-tsan -j$(JOBS) --target concurrency_test
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ctest --output-on-failure --no-tests=error -j$(JOBS) -R '^concurrency_test:'

# The built tree installed into a prefix inside it, then tests/consumer configured, built
# (through find_package(ashlar) and through pkg-config) and run against that prefix alone.
CONSUMER_PREFIX = $(abspath $(BUILD))/consumer-prefix
consumer: build
	rm -rf $(CONSUMER_PREFIX) $(BUILD)/consumer
	cmake --install $(BUILD) --prefix $(CONSUMER_PREFIX)
	cmake -S tests/consumer -B $(BUILD)/consumer -DCMAKE_PREFIX_PATH=$(CONSUMER_PREFIX) $(CMAKE_FLAGS)
	cmake --build $(BUILD)/consumer -j$(JOBS)
	$(BUILD)/consumer/consumer $(BUILD)/consumer/store
	$(BUILD)/consumer/consumer_pc $(BUILD)/consumer/store-pc

# A Debian package of what cmake --install installs, under /usr (CPack), in $(BUILD).
# It must hold the tool, the libraries, the headers and both package descriptions.
PACKAGE_FILES = usr/bin/ashlar usr/lib/libashlar.so usr/lib/libashlar_http.so usr/include/ashlar/ashlar.hpp \
	usr/lib/cmake/ashlar/ashlarConfig.cmake usr/lib/pkgconfig/ashlar.pc usr/lib/pkgconfig/ashlar-http.pc
package: build
	rm -f $(BUILD)/ashlar_*.deb
	cd $(BUILD) && cpack -G DEB
	dpkg-deb -c $(BUILD)/ashlar_*.deb > $(BUILD)/package-contents.txt
	@for f in $(PACKAGE_FILES); do grep -Eq " \./$$f( |$$)" $(BUILD)/package-contents.txt || \
	  { echo "make package: $$f is missing from the package" >&2; exit 1; }; done
	@dpkg-deb -f $(BUILD)/ashlar_*.deb Depends | grep -q libzmq5 || \
	  { echo "make package: its Depends lack the shared libraries it links" >&2; exit 1; }

bench-deps:
	@./scripts/install-deps.sh bench

bench: build bench-deps
	$(BUILD)/bin/bench_create
	$(BUILD)/bin/bench_concurrency
	$(BUILD)/bin/bench_get
	$(BUILD)/bin/bench_bulk
	$(BUILD)/bin/bench_publish
	$(BUILD)/bin/bench_load
	$(BUILD)/bin/bench_rebuild
	$(BUILD)/bin/bench_manage
	$(BUILD)/bin/bench_policies
	$(BUILD)/bin/bench_http
	$(BUILD)/bin/bench_mirror

fuzz-deps:
	@./scripts/install-deps.sh fuzz

# Only the libraries the targets need, instrumented; no tests, tools, examples or benches.
fuzz-build: deps fuzz-deps
	cmake -S . -B $(FUZZ_BUILD) -DASHLAR_FUZZ=ON -DCMAKE_C_COMPILER=clang-14 \
	  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
	  -DASHLAR_BUILD_BENCH=OFF $(LINE_TABLES_O2)
	cmake --build $(FUZZ_BUILD) -j$(JOBS)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./fuzz/run.sh $(FUZZ_BUILD)

clean:
	rm -rf build build-asan build-tsan build-fuzz
