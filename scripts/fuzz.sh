#!/usr/bin/env bash
# Fuzzes the input readers: builds the libFuzzer programs of tests/fuzz with
# clang, -fsanitize=fuzzer,address,undefined, into ${CUXPLAIN_FUZZ_BUILD_DIR:-build-fuzz}
# (host backend, no BLAS or OpenMP: every line the fuzzers reach is
# instrumented, stb's decoder and resizer included), then runs each target for
# ${CUXPLAIN_FUZZ_SECONDS:-60} seconds from its seed corpus and regression
# inputs. Any crash, sanitizer report, timeout or out-of-memory fails the
# script; the input is left in <build dir>/fuzz-artifacts/<target>/ (copy it
# to tests/fuzz/regressions/<target>/ once fixed, and the normal test run
# replays it). CUXPLAIN_FUZZ_TARGETS selects targets (default: onnx image idx).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${CUXPLAIN_FUZZ_BUILD_DIR:-build-fuzz}
seconds=${CUXPLAIN_FUZZ_SECONDS:-60}
targets=(${CUXPLAIN_FUZZ_TARGETS:-onnx image idx})

cxx=""
for candidate in clang++-14 clang++; do
  if command -v "$candidate" >/dev/null 2>&1; then cxx=$candidate; break; fi
done
if [[ -z $cxx ]]; then
  echo "fuzz.sh: clang++ not found (Debian: apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 1
fi
cc=${cxx/clang++/clang}
# CMake drops every -D setting when the compiler of an existing build changes.
if [[ -f $build_dir/CMakeCache.txt ]] &&
   ! grep -q "^CMAKE_CXX_COMPILER:[A-Z]*=.*$cxx\$" "$build_dir/CMakeCache.txt"; then
  rm -rf "$build_dir"
fi

sanitizers="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# No NDEBUG: assertions stay on (stb's decoder checks its own invariants).
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS="$sanitizers" -DCMAKE_EXE_LINKER_FLAGS="$sanitizers" \
  -DCUXPLAIN_WITH_CUDA=OFF -DCUXPLAIN_WITH_BLAS=OFF -DCMAKE_DISABLE_FIND_PACKAGE_OpenMP=ON \
  -DCUXPLAIN_BUILD_FUZZERS=ON -DCUXPLAIN_BUILD_TESTS=OFF -DCUXPLAIN_BUILD_BENCHMARKS=OFF \
  -DCUXPLAIN_BUILD_EXAMPLES=OFF -DCUXPLAIN_BUILD_APPS=ON
cmake --build "$build_dir" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

# The longest input each target tries: a few kilobytes hold every seed and
# reach every branch of the readers (larger ones only decode longer).
declare -A max_len=([onnx]=4096 [image]=4096 [idx]=2048)
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

failed=()
summary=()
for target in "${targets[@]}"; do
  work="$build_dir/fuzz-corpus/$target"
  artifacts="$build_dir/fuzz-artifacts/$target/"
  mkdir -p "$work" "$artifacts"
  options=(-max_total_time="$seconds" -max_len="${max_len[$target]}" -timeout=20
           -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts")
  if [[ -f tests/fuzz/$target.dict ]]; then options+=(-dict="tests/fuzz/$target.dict"); fi
  log="$build_dir/fuzz-$target.log"
  echo "fuzz.sh: $target for $seconds s (log: $log)"
  status=0
  # New inputs go to the first directory (in the build tree); the seed and
  # regression directories are only read.
  "$build_dir/tests/fuzz/fuzz_$target" "${options[@]}" "$work" \
    "tests/fuzz/corpus/$target" "tests/fuzz/regressions/$target" >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  summary+=("$target: ${runs:-?} executions, exit status $status")
  if ((status != 0)); then
    failed+=("$target")
    tail -n 60 "$log" >&2
    echo "fuzz.sh: $target failed; the input is in $artifacts" >&2
  fi
done

printf 'fuzz.sh: %s\n' "${summary[@]}"
if ((${#failed[@]} > 0)); then
  echo "fuzz.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
