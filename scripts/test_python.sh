#!/usr/bin/env bash
# The Python package's tests (scripts/test.sh runs this after the C++ tests):
# a virtual environment in ${CUXPLAIN_BUILD_DIR:-build}/python-venv with
# tests/python/requirements.txt (nanobind, scikit-build-core, pytest, NumPy,
# tqdm, JAX on the CPU), `pip install .` of the package into it (the CUDA
# backend as for the C++ build: when nvcc is found, for
# ${CUXPLAIN_CUDA_ARCH:-90}), then pytest over tests/python, with the
# cuxplain program of the C++ build for the bit-identity tests.
#
#   CUXPLAIN_PYTHON_TORCH=1   also install PyTorch (90 s and 5.3 GB with its
#                             CUDA libraries, measured on a 2-core CI machine:
#                             off by default; its tests then say they skip)
#   CUXPLAIN_PYTHON=python3   the interpreter the environment is made from
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvcc >/dev/null 2>&1 && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi

build_dir=${CUXPLAIN_BUILD_DIR:-build}
mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)
venv=$build_dir/python-venv
start=$SECONDS

if [[ ! -x $venv/bin/python ]]; then
  "${CUXPLAIN_PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r tests/python/requirements.txt
if [[ ${CUXPLAIN_PYTHON_TORCH:-0} == 1 ]]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check torch
fi
echo "python: environment ready in $((SECONDS - start)) s"

cuda=OFF
if command -v nvcc >/dev/null 2>&1 && [[ ${CUXPLAIN_WITH_CUDA:-ON} == ON ]]; then cuda=ON; fi
built=$SECONDS
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation \
  -C build-dir="$build_dir/python-wheel" \
  -C cmake.define.CUXPLAIN_WITH_CUDA=$cuda \
  -C cmake.define.CMAKE_CUDA_ARCHITECTURES="${CUXPLAIN_CUDA_ARCH:-90}" .
echo "python: package built and installed (CUDA $cuda) in $((SECONDS - built)) s"

# Run from tests/python so that the installed package, not python/cuxplain
# of the source tree, is the one imported.
cd tests/python
CUXPLAIN_CLI=$build_dir/apps/cuxplain "$venv/bin/python" -m pytest -ra -p no:cacheprovider "$@"
