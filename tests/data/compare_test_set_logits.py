#!/usr/bin/env python3
"""Compares cuxplain's logits for models/fashion_mnist_cnn.onnx on the whole
Fashion-MNIST test set (10000 images) with those of onnx's reference evaluator,
and prints the max abs difference and the number of differing predictions.

cuxplain's logits come from the host test program
test_host_test_fashion_mnist_test_set, which writes them (10000 x 10 float32,
native byte order, row-major) to the file named by
CUXPLAIN_FASHION_MNIST_LOGITS_OUT. Either pass that file, or let this script
run the test program:

    python3 -m pip install onnx numpy
    apt-get install dataset-fashion-mnist
    cmake -S . -B build -DCUXPLAIN_WITH_CUDA=OFF
    cmake --build build --target test_host_test_fashion_mnist_test_set
    python3 tests/data/compare_test_set_logits.py \\
        --test-program build/tests/test_host_test_fashion_mnist_test_set
    # or: CUXPLAIN_FASHION_MNIST_LOGITS_OUT=/tmp/logits.bin <test program>
    #     python3 tests/data/compare_test_set_logits.py --logits /tmp/logits.bin

The network input is the pixel byte divided by 255 as float32, 1x28x28 NCHW,
as in the C++ test. Exits non-zero when a prediction differs.
"""
import argparse
import gzip
import os
import pathlib
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.reference

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEBIAN_DATA = "/usr/share/datasets/fashion-mnist"
CLASSES = 10


def read_idx(path):
    """Reads an IDX file of unsigned bytes, raw or as path.gz."""
    path = pathlib.Path(path)
    if not path.exists():
        path = path.with_name(path.name + ".gz")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def cuxplain_logits(args, count):
    if args.logits:
        path = args.logits
    else:
        path = os.path.join(tempfile.mkdtemp(prefix="cuxplain_fm_"), "logits.bin")
        env = dict(os.environ, CUXPLAIN_FASHION_MNIST_LOGITS_OUT=path)
        if args.data != DEBIAN_DATA:
            env["CUXPLAIN_FASHION_MNIST_DIR"] = args.data
        subprocess.run([args.test_program], env=env, check=True)
    logits = np.fromfile(path, dtype=np.float32)
    if logits.size != count * CLASSES:
        raise SystemExit(f"{path}: {logits.size} floats, expected {count} x {CLASSES}")
    return logits.reshape(count, CLASSES)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--logits", help="logits file written by the test program")
    source.add_argument("--test-program", help="the test program to run for them")
    parser.add_argument("--data", default=DEBIAN_DATA,
                        help="directory with the t10k IDX files (.gz or raw)")
    parser.add_argument("--model", default=str(ROOT / "models" / "fashion_mnist_cnn.onnx"))
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    images = read_idx(pathlib.Path(args.data) / "t10k-images-idx3-ubyte")
    labels = read_idx(pathlib.Path(args.data) / "t10k-labels-idx1-ubyte")
    x = (images.astype(np.float32) / np.float32(255.0))[:, None, :, :]
    ours = cuxplain_logits(args, len(x))

    session = onnx.reference.ReferenceEvaluator(onnx.load(args.model))
    reference = np.concatenate([session.run(None, {"input": x[i:i + args.batch]})[0]
                                for i in range(0, len(x), args.batch)])

    diff = np.abs(ours.astype(np.float64) - reference.astype(np.float64))
    worst = np.unravel_index(diff.argmax(), diff.shape)
    differing = np.flatnonzero(ours.argmax(1) != reference.argmax(1))
    print(f"images: {len(x)}, onnx {onnx.__version__}, numpy {np.__version__}")
    print(f"max abs logit difference: {diff.max():.3g} (image {worst[0]}, class {worst[1]}: "
          f"cuxplain {ours[worst]:.9g}, reference {reference[worst]:.9g})")
    print(f"mean abs logit difference: {diff.mean():.3g}")
    print(f"max abs logit difference, first 64 images: {diff[:64].max():.3g}")
    print(f"max abs reference logit: {np.abs(reference).max():.3g}")
    print(f"differing predictions: {len(differing)}"
          + (f" (images {differing[:20].tolist()})" if len(differing) else ""))
    print(f"accuracy: cuxplain {(ours.argmax(1) == labels).mean():.4f}, "
          f"reference {(reference.argmax(1) == labels).mean():.4f}")
    return 1 if len(differing) else 0


if __name__ == "__main__":
    sys.exit(main())
