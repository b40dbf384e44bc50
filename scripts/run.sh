#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs `cuxplain explain`:
# the embedded Fashion-MNIST model's decision on the bundled sample image,
# explained with Sobol, HSIC and EVA; heatmaps and scores.json go to
# ./cuxplain-out. Extra arguments go to `cuxplain explain` (e.g. --device cuda,
# --method sobol, --image FILE, --model FILE.onnx; --help lists them all).
# Then `cuxplain concepts --class 9`: the CRAFT concepts the embedded model
# uses for ankle boots (the sample's class) on the test set's ankle boots,
# written to the same directory (concepts.png, concept_maps.png,
# concepts.json), on the device and into the --out directory given to explain.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh >/dev/null
program="${CUXPLAIN_BUILD_DIR:-build}"/apps/cuxplain
"$program" explain "$@"

concepts_args=()
while (($# > 0)); do
  case "$1" in
    --device | --out) concepts_args+=("$1" "${2-}"); shift ;;
    --device=* | --out=*) concepts_args+=("$1") ;;
    -h | --help | help) exit 0 ;;
  esac
  shift || true
done
echo
"$program" concepts --class 9 "${concepts_args[@]}"
