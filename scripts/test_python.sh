#!/usr/bin/env bash
# The Python package's tests (scripts/test.sh runs this after the C++ tests):
# a virtual environment in ${CUXPLAIN_BUILD_DIR:-build}/python-venv with
# tests/python/requirements.txt (nanobind, scikit-build-core, pytest, NumPy,
# tqdm, JAX on the CPU) and PyTorch, `pip install .` of the package into it
# (the CUDA backend as for the C++ build: when nvcc is found, for
# ${CUXPLAIN_CUDA_ARCH:-90}), then pytest over tests/python, with the
# cuxplain program of the C++ build for the bit-identity tests.
#
# Measured on the 2-core CI machine: the environment 19 s (JAX 8 s of it),
# the package with CUDA 97 s, the tests 15 s; PyTorch adds 90 s and 5.3 GB
# (PyPI's build carries its CUDA libraries).
#
#   CUXPLAIN_PYTHON_TORCH=0   leave PyTorch out (its tests then say they skip);
#                             it is also left out, saying so, when the build
#                             directory's disk has less than 12 GB free
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
if [[ ${CUXPLAIN_PYTHON_TORCH:-1} == 1 ]]; then
  free_gb=$(( $(df -Pk "$build_dir" | awk 'NR == 2 {print $4}') / 1024 / 1024 ))
  if "$venv/bin/python" -c "import torch" >/dev/null 2>&1; then
    :
  elif (( free_gb >= 12 )); then
    torch_start=$SECONDS
    "$venv/bin/python" -m pip install -q --disable-pip-version-check torch==2.15.0
    echo "python: PyTorch installed in $((SECONDS - torch_start)) s"
  else
    echo "python: PyTorch left out: $free_gb GB free under $build_dir, it needs 5.3 GB" \
      "(its tests skip)"
  fi
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
