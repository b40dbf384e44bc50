#!/usr/bin/env bash
# Configures and builds cuxplain into ${CUXPLAIN_BUILD_DIR:-build}. With nvcc
# present the CUDA backend is built for ${CUXPLAIN_CUDA_ARCH:-90} (sm_90, one
# architecture keeps the build short); without it, the host backend alone.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvcc >/dev/null 2>&1 && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi

build_dir=${CUXPLAIN_BUILD_DIR:-build}
cuda_flags=()
if command -v nvcc >/dev/null 2>&1 && [[ ${CUXPLAIN_WITH_CUDA:-ON} == ON ]]; then
  cuda_flags=(-DCUXPLAIN_WITH_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="${CUXPLAIN_CUDA_ARCH:-90}")
else
  cuda_flags=(-DCUXPLAIN_WITH_CUDA=OFF)
fi

# compile_commands.json: tools/ptxas_gate.py recompiles the kernels from it.
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  "${cuda_flags[@]}" "$@"
cmake --build "$build_dir" -j "$(nproc)"
