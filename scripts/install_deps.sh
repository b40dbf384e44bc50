#!/usr/bin/env bash
# Installs the Debian packages cuxplain builds with, where they are missing.
# The CUDA toolkit is optional: without nvcc the host backend builds alone.
set -euo pipefail

# clang-14 and libclang-rt-14-dev: libFuzzer and clang's sanitizer runtimes
# for scripts/fuzz.sh.
packages=(cmake g++ make libgtest-dev libbenchmark-dev libomp-dev libopenblas-dev libopenblas-openmp-dev libonnx-dev libprotobuf-dev dataset-fashion-mnist libstb-dev zlib1g-dev clang-14 libclang-rt-14-dev)
# oneDNN: the host backend's convolutions and dense layers.
packages+=(libdnnl-dev)
# The cuxplain program's command line and JSON files.
packages+=(libcli11-dev nlohmann-json3-dev)
# The Python package's tests (scripts/test_python.sh) make a virtual environment.
packages+=(python3-venv python3-dev)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v nvcc >/dev/null 2>&1 && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  echo "note: nvcc found at /usr/local/cuda/bin; add it to PATH to build the CUDA backend"
fi
