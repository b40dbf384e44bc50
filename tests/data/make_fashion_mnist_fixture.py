#!/usr/bin/env python3
"""Writes fashion_mnist_logits.txt: the first 64 Fashion-MNIST test images, their
labels and the logits of models/fashion_mnist_cnn.onnx on them, computed by
onnx's reference evaluator, so that a C++ test can load the ONNX file, run the
same images and compare. It also holds the evaluator's predicted class for
every one of the 10000 test images, for a test that reads the Debian dataset.

    python3 -m pip install onnx numpy
    apt-get install dataset-fashion-mnist
    python3 tests/data/make_fashion_mnist_fixture.py [--data DIR]

Format (text; lines starting with '#' are comments):
    fashion_mnist_fixture <count=64> <classes=10> <height=28> <width=28>
then, per image k = 0..count-1 (test-set index k):
    image <k> <label>
    pixels <784 bytes as 1568 lowercase hex digits, row-major, no separators>
    logits <10 floats, 9 significant digits (float32 round-trips exactly)>
then
    test_predictions <n=10000> <n digits, the argmax class of each test image>
    test_accuracy <fraction of the n predictions equal to the label>

The network input is the pixel byte divided by 255 as float32, one 1x28x28
NCHW image per item.
"""
import argparse
import json
import pathlib
import sys

import numpy as np
import onnx
import onnx.reference

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "models"))
from train_fashion_mnist import DEBIAN_DATA, load_split, to_input  # noqa: E402

COUNT = 64
# The ops cuxplain's ONNX reader supports.
SUPPORTED_OPS = {"Conv", "Gemm", "MatMul", "Add", "Relu", "MaxPool", "AveragePool",
                 "GlobalAveragePool", "Flatten", "Reshape", "BatchNormalization"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=DEBIAN_DATA)
    parser.add_argument("--model", default=str(ROOT / "models" / "fashion_mnist_cnn.onnx"))
    parser.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parent
                                             / "fashion_mnist_logits.txt"))
    args = parser.parse_args()

    proto = onnx.load(args.model)
    ops = [node.op_type for node in proto.graph.node]
    unsupported = sorted(set(ops) - SUPPORTED_OPS)
    if unsupported:
        raise SystemExit(f"{args.model}: ops outside cuxplain's subset: {unsupported}")
    opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))

    images, labels = load_split(args.data, "test")
    session = onnx.reference.ReferenceEvaluator(proto)
    x = to_input(images)
    logits = np.concatenate([session.run(None, {"input": x[i:i + 500]})[0]
                             for i in range(0, len(x), 500)])
    predictions = logits.argmax(1)
    accuracy = float((predictions == labels).mean())

    meta_path = pathlib.Path(args.model).with_suffix(".json")
    torch_diff = None
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        torch_diff = meta.get("torch_vs_onnx_reference_max_abs_logit_diff", {})

    lines = [
        "# Written by tests/data/make_fashion_mnist_fixture.py from models/fashion_mnist_cnn.onnx",
        f"# (opset {opset}; nodes: {' '.join(ops)}) and the Debian dataset-fashion-mnist",
        "# t10k files; logits from onnx.reference.ReferenceEvaluator "
        f"(onnx {onnx.__version__}), float32.",
        "# Input: pixel byte / 255 as float32, 1x28x28 NCHW.",
        "# Layout: a line 'fashion_mnist_fixture <count> <classes> <height> <width>'; per image",
        "# k = 0..count-1 (test-set index k) the lines 'image <k> <label>', 'pixels <height*width",
        "# bytes as lowercase hex, 2 digits each, row-major, no separators>' and 'logits <classes",
        "# floats>'; then 'test_predictions <n> <n digits: argmax class of each test image>' and",
        "# 'test_accuracy <fraction of those equal to the label>'.",
    ]
    if torch_diff:
        lines.append("# torch vs this evaluator, max abs logit difference: "
                     f"{torch_diff.get('first_64_test_images'):.3g} on these images, "
                     f"{torch_diff.get('test_set'):.3g} on the test set.")
    lines.append(f"fashion_mnist_fixture {COUNT} 10 28 28")
    for k in range(COUNT):
        lines.append(f"image {k} {int(labels[k])}")
        lines.append("pixels " + images[k].astype(np.uint8).tobytes().hex())
        lines.append("logits " + " ".join(f"{float(v):.9g}" for v in logits[k]))
    lines.append(f"test_predictions {len(predictions)} "
                 + "".join(str(int(p)) for p in predictions))
    lines.append(f"test_accuracy {accuracy:.4f}")
    out = pathlib.Path(args.out)
    out.write_text("\n".join(lines) + "\n")
    print(f"{out}: {out.stat().st_size} bytes; reference evaluator test accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
