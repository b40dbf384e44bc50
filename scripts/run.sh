#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs `cuxplain explain`:
# the embedded Fashion-MNIST model's decision on the bundled sample image,
# explained with Sobol, HSIC and EVA; heatmaps and scores.json go to
# ./cuxplain-out. Extra arguments go to `cuxplain explain` (e.g. --device cuda,
# --method sobol, --image FILE, --model FILE.onnx; --help lists them all).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh >/dev/null
"${CUXPLAIN_BUILD_DIR:-build}"/apps/cuxplain explain "$@"
