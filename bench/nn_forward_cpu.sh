#!/usr/bin/env bash
# cuxplain's host forward against onnxruntime and Keras (TensorFlow) on the
# CPU, same models, same thread count, one run: the embedded model
# (models/fashion_mnist_cnn.onnx; Keras runs its twin, bench/xplique/
# keras_twin.py) and a ResNet-18 (torchvision's graph, random weights,
# written here; Keras has no twin of it) at batch 1, 64 and 256.
#
#   bench/nn_forward_cpu.sh [threads]      (default 1; build-host must hold bench_nn)
#
# Virtual environments: onnxruntime (and onnx) in ${ORT_VENV:-build-host/bench-venv-ort}
# (made when missing);
# TensorFlow from ${XPLIQUE_VENV:-/work/venv-xplique} (TF 2.20, read only).
# The ResNet-18 (build-host/bench-models/resnet18.onnx) comes from torch.onnx
# when TORCH_PYTHON names a Python with torch and torchvision, else it is
# written node by node with onnx.helper (the same graph: nn_forward_cpu.py).
# Prints a markdown table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-1}
build=${CUXPLAIN_BUILD_DIR:-build-host}
out=$build/bench-nn-forward-cpu
mkdir -p "$out" "$build/bench-models"

ort_venv=${ORT_VENV:-$build/bench-venv-ort}
if [[ ! -x $ort_venv/bin/python ]]; then
  python3 -m venv "$ort_venv"
  "$ort_venv/bin/pip" install -q onnxruntime numpy onnx
fi
resnet=$build/bench-models/resnet18.onnx
if [[ ! -f $resnet ]]; then
  "${TORCH_PYTHON:-$ort_venv/bin/python}" bench/nn_forward_cpu.py export-resnet18 --out "$resnet"
fi

export OMP_NUM_THREADS=$threads
echo "threads $threads; $(nproc --all) cores; load before: $(uptime | sed 's/.*load/load/')" >&2
CUXPLAIN_BENCH_ONNX=$resnet "$build/bench/bench_nn" --benchmark_filter='^nn/onnx/' \
  --benchmark_repetitions="${REPETITIONS:-1}" --benchmark_out="$out/cuxplain.json" \
  --benchmark_out_format=json >&2
"$ort_venv/bin/python" bench/nn_forward_cpu.py ort --threads "$threads" --out "$out/ort.json" \
  models/fashion_mnist_cnn.onnx "$resnet"
keras=()
if [[ -x ${XPLIQUE_VENV:-/work/venv-xplique}/bin/python ]]; then
  TF_CPP_MIN_LOG_LEVEL=2 CUDA_VISIBLE_DEVICES= "${XPLIQUE_VENV:-/work/venv-xplique}/bin/python" \
    bench/nn_forward_cpu.py keras --threads "$threads" --out "$out/keras.json"
  keras=("$out/keras.json")
fi
echo "load after: $(uptime | sed 's/.*load/load/')" >&2
"$ort_venv/bin/python" bench/nn_forward_cpu.py report --threads "$threads" "$out/cuxplain.json" \
  "$out/ort.json" "${keras[@]}"
