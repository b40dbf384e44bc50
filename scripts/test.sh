#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test (C++,
# then the Python package's, scripts/test_python.sh). CUDA tests (label gpu)
# report "Skipped" on machines without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
ctest --test-dir "${CUXPLAIN_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
scripts/test_python.sh
