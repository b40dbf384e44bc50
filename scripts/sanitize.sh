#!/usr/bin/env bash
# The sanitizer job: builds the host backend, the tests and the program with
# AddressSanitizer (leaks included) and UndefinedBehaviorSanitizer into
# ${CUXPLAIN_SANITIZE_BUILD_DIR:-build-asan} (no CUDA, benchmarks or
# examples) and runs every host test there, the CLI tests and the replay of
# the fuzzers' inputs included. The first report aborts the process it is in,
# which fails that test and the script.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${CUXPLAIN_SANITIZE_BUILD_DIR:-build-asan}
sanitizers="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# Through the environment, CMake takes them as the initial flags of this build
# and of the consumer project the package test configures at test time.
export CXXFLAGS="$sanitizers" LDFLAGS="$sanitizers"
# -O1 keeps the tests fast enough; no NDEBUG, so assertions stay on.
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCUXPLAIN_WITH_CUDA=OFF \
  -DCUXPLAIN_BUILD_TESTS=ON -DCUXPLAIN_BUILD_APPS=ON \
  -DCUXPLAIN_BUILD_BENCHMARKS=OFF -DCUXPLAIN_BUILD_EXAMPLES=OFF
cmake --build "$build_dir" -j "$(nproc)"

# allocator_may_return_null: an allocation that cannot be served returns null
# (the host allocator then throws std::bad_alloc) instead of ending the
# process, as the tests of allocation failures (a buffer of 2^47 bytes) need.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:print_stacktrace=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
ctest --test-dir "$build_dir" -L host --output-on-failure -j "$(nproc)"
