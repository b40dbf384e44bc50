#!/usr/bin/env bash
# The main job: installs what is missing, builds, and explains a synthetic
# scene with a model whose answer is known, with Sobol and HSIC (examples/synthetic_scene.cpp).
# Extra arguments go to the example (e.g. --device cuda).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh >/dev/null
"${CUXPLAIN_BUILD_DIR:-build}"/examples/synthetic_scene "$@"
