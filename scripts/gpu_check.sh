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
[[ $ctest_status -eq 0 && $sanitize_status -eq 0 ]]
