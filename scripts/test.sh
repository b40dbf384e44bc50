#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test (C++,
# then the Python package's, scripts/test_python.sh). CUDA tests (label gpu)
# report "Skipped" on machines without a GPU; the CUDA kernels' code is
# checked for spills and local memory (tools/ptxas_gate.py). Then the
# sanitizer job (scripts/sanitize.sh: host tests under AddressSanitizer and
# UndefinedBehaviorSanitizer) and the fuzzers (scripts/fuzz.sh: each input
# reader for CUXPLAIN_FUZZ_SECONDS, default 60). CI runs all of them; locally,
# CUXPLAIN_SKIP_SANITIZE=1 and CUXPLAIN_SKIP_FUZZ=1 skip the last two.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
# No GPU needed: the kernels' code generation, checked for register spills
# and local memory (tools/ptxas_gate.py, about 30 s on 2 cores).
if grep -q "\.cu\"" "${CUXPLAIN_BUILD_DIR:-build}/compile_commands.json" 2>/dev/null; then
  python3 tools/ptxas_gate.py "${CUXPLAIN_BUILD_DIR:-build}" --arch "sm_${CUXPLAIN_CUDA_ARCH:-90}"
fi
ctest --test-dir "${CUXPLAIN_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
scripts/test_python.sh
if [[ ${CUXPLAIN_SKIP_SANITIZE:-0} != 1 ]]; then
  scripts/sanitize.sh
fi
if [[ ${CUXPLAIN_SKIP_FUZZ:-0} != 1 ]]; then
  scripts/fuzz.sh
fi
