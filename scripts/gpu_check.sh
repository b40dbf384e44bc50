#!/usr/bin/env bash
# On a machine with a GPU: build for sm_90, run every test (gpu ones included),
# compute-sanitizer memcheck and racecheck over the gpu test programs, and the
# benchmarks; write a dated report to bench/results/ (and to $OUT when set).
#
#   scripts/gpu_check.sh [--quick]     (--quick: shorter benchmark runs)
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/cuda/bin:$PATH

build=build-gpu
date_tag=$(date -u +%Y-%m-%d)
gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | tr ' ' '-')
report=bench/results/${date_tag}-${gpu_name:-unknown-gpu}.md
min_time=0.5
[[ ${1:-} == --quick ]] && min_time=0.1
mkdir -p bench/results
logs=$(mktemp -d)

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCUXPLAIN_WITH_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES=90 >"$logs/configure.log" 2>&1 &&
  cmake --build "$build" -j "$(nproc)" >"$logs/build.log" 2>&1
build_status=$?

{
  echo "# cuxplain GPU check, $date_tag"
  echo
  echo '```'
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv 2>&1
  nvcc --version | tail -2
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo '```'
  echo
  echo "## Build (sm_90): $([[ $build_status -eq 0 ]] && echo ok || echo FAILED)"
} >"$report"
if [[ $build_status -ne 0 ]]; then
  { echo '```'; tail -50 "$logs/build.log"; echo '```'; } >>"$report"
  cat "$report"
  exit 1
fi

ctest --test-dir "$build" --output-on-failure -j 4 >"$logs/ctest.log" 2>&1
ctest_status=$?
{
  echo
  echo "## Tests (host and gpu): $([[ $ctest_status -eq 0 ]] && echo pass || echo FAIL)"
  echo '```'
  grep -E "tests passed|tests failed|Skipped|Failed|\*\*\*" "$logs/ctest.log" | tail -40
  echo '```'
} >>"$report"

# The Python package's GPU tests (tests/python/test_gpu.py: PyTorch CUDA
# tensors, the caller's stream, no host round trip), when this machine's
# python3 has PyTorch, nanobind and pytest (nothing is downloaded here): the
# module is built into build-gpu/python against the library just built.
python_status=0
{
  echo
  echo "## Python package on the GPU"
  echo '```'
  if python3 -c "import torch, nanobind, pytest, numpy" >/dev/null 2>&1; then
    if cmake -S . -B "$build" -DCUXPLAIN_BUILD_PYTHON=ON -DPython_EXECUTABLE="$(command -v python3)" \
        >"$logs/python-configure.log" 2>&1 &&
        cmake --build "$build" --target _core_stub -j "$(nproc)" >"$logs/python-build.log" 2>&1; then
      (cd tests/python && PYTHONPATH="$PWD/../../$build/python" python3 -m pytest -ra \
        -p no:cacheprovider test_gpu.py test_frameworks.py) >"$logs/python.log" 2>&1
      python_status=$?
      tail -15 "$logs/python.log"
    else
      python_status=1
      echo "building the module failed:"; tail -20 "$logs/python-build.log"
    fi
  else
    echo "skipped: python3 here lacks torch, nanobind, pytest or numpy"
  fi
  echo '```'
} >>"$report"

sanitize_status=0
{
  echo
  echo "## compute-sanitizer over the gpu test programs"
  echo
  echo "| program | memcheck | racecheck |"
  echo "| --- | --- | --- |"
} >>"$report"
for program in "$build"/tests/test_gpu_*; do
  [[ -x $program ]] || continue
  name=$(basename "$program")
  results=()
  for tool in memcheck racecheck; do
    if compute-sanitizer --tool "$tool" --error-exitcode 99 "$program" \
        >"$logs/$name.$tool.log" 2>&1; then
      results+=("clean")
    else
      results+=("**errors** (see log)")
      sanitize_status=1
      { echo; echo "### $name $tool"; echo '```'; tail -30 "$logs/$name.$tool.log"; echo '```'; } \
        >>"$logs/sanitizer_failures.md"
    fi
  done
  echo "| $name | ${results[0]} | ${results[1]} |" >>"$report"
done
[[ -f $logs/sanitizer_failures.md ]] && cat "$logs/sanitizer_failures.md" >>"$report"

{
  echo
  echo "## Benchmarks"
} >>"$report"
for bench in "$build"/bench/bench_*; do
  [[ -x $bench ]] || continue
  name=$(basename "$bench")
  "$bench" --benchmark_min_time="$min_time" --benchmark_counters_tabular=true \
    >"$logs/$name.txt" 2>&1
  { echo; echo "### $name"; echo '```'; cat "$logs/$name.txt"; echo '```'; } >>"$report"
done

if [[ -n ${OUT:-} ]]; then
  cp "$report" "$OUT/"
  tar czf "$OUT/logs.tar.gz" -C "$logs" . 2>/dev/null
fi
echo "report: $report"
[[ $ctest_status -eq 0 && $sanitize_status -eq 0 && $python_status -eq 0 ]]
