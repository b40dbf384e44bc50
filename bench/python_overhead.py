#!/usr/bin/env python3
"""What the Python package adds to the C++ library (not a test: a report).

1. The cost of one model call through the binding: Sobol with batch_size 1
   on a tiny image, so that nearly all the time is the callback round trip
   (GIL, a DLPack view of the batch, the framework array, the call, the
   import and copy of the scores); the model returns a preallocated zero
   array. Reported in microseconds per call, for NumPy (and PyTorch / JAX
   when installed).
2. End to end: Sobol on the embedded network (models/fashion_mnist_cnn.onnx)
   and the bundled image (models/sample_fashion_mnist.png), grid 7, 32
   designs, target = the predicted class, from Python (the network as the
   model, run by the binding without Python in the loop, and behind a Python
   lambda) against the cuxplain program (`cuxplain explain --method sobol`,
   its own timing of the method from scores.json and the process's wall
   time), on the same machine.

    python3 bench/python_overhead.py [--cli build/apps/cuxplain] [--repeat 5]

Run it with the package importable (pip install . or PYTHONPATH=build/python).
"""

import argparse
import json
import pathlib
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import numpy as np

import cuxplain

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "fashion_mnist_cnn.onnx"
SAMPLE = ROOT / "models" / "sample_fashion_mnist.png"


def read_gray_png(path):
    """An 8-bit grayscale, non-interlaced PNG (the bundled sample) as uint8."""
    data = path.read_bytes()
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    assert (depth, colour, interlace) == (8, 0, 0), "only 8-bit grayscale PNGs"
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    rows, prev = [], bytearray(width)
    for y in range(height):
        f, line = raw[y * (width + 1)], bytearray(raw[y * (width + 1) + 1:(y + 1) * (width + 1)])
        for x in range(width):
            a = line[x - 1] if x else 0
            b, c = prev[x], prev[x - 1] if x else 0
            p = a + b - c
            pred = [0, a, b, (a + b) // 2,
                    a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c)
                    else (b if abs(p - b) <= abs(p - c) else c)][f]
            line[x] = (line[x] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(height, width)


def per_call_overhead(repeat, frameworks):
    images = np.random.default_rng(0).random((1, 1, 8, 8), dtype=np.float32)
    zeros = np.zeros((1, 10), np.float32)
    results = {}

    def timed(model, x, label, zero_out):
        calls = [0]

        def counted(batch):
            calls[0] += 1
            return zero_out

        counted_model = counted if model is None else model
        # grid 2, 1024 designs: 1024 * 5 = 5120 model calls of one image each.
        best = []
        for _ in range(repeat):
            calls[0] = 0
            start = time.perf_counter()
            cuxplain.sobol_attribution(counted_model, x, [0], num_outputs=10, grid_size=2,
                                       nb_design=1024, batch_size=1)
            best.append((time.perf_counter() - start) / max(calls[0], 1))
        results[label] = min(best) * 1e6

    timed(None, images, "numpy", zeros)
    if not frameworks:
        return results
    try:
        import torch

        timed(None, torch.from_numpy(images), "torch (cpu)", torch.zeros((1, 10)))
    except ImportError:
        pass
    try:
        import jax.numpy as jnp

        timed(None, jnp.asarray(images), "jax (cpu)", jnp.zeros((1, 10), jnp.float32))
    except ImportError:
        pass
    return results


def end_to_end(cli, repeat):
    pixels = read_gray_png(SAMPLE)
    x = (pixels.astype(np.float64) / 255.0).astype(np.float32).reshape(1, 1, 28, 28)
    start = time.perf_counter()
    net = cuxplain.nn.load_onnx(MODEL)
    load = time.perf_counter() - start
    target = int(np.argmax(net(x)[0]))
    options = dict(grid_size=7, nb_design=32)
    labels = ["python, network as the model", "python, network behind a lambda"]
    if cli:
        labels += ["cli, the method (scores.json seconds)", "cli, whole process"]
    timings = {label: [] for label in labels}
    scores, cli_scores = {}, None
    # Interleaved, so that the machine's other load weighs on all alike.
    with tempfile.TemporaryDirectory() as out:
        for _ in range(repeat):
            for label, model in ((labels[0], net), (labels[1], lambda b: net(b))):
                start = time.perf_counter()
                scores[label] = cuxplain.sobol_attribution(model, x, [target], **options)
                timings[label].append(time.perf_counter() - start)
            if cli:
                start = time.perf_counter()
                subprocess.run([cli, "explain", "--method", "sobol", "--target", str(target),
                                "--out", out, "--no-progress"], check=True, capture_output=True)
                timings[labels[3]].append(time.perf_counter() - start)
                with open(pathlib.Path(out) / "scores.json") as f:
                    entry = json.load(f)["methods"][0]
                timings[labels[2]].append(entry["seconds"])
                cli_scores = np.array(entry["scores"], np.float32)
    report = {k: (statistics.median(v), min(v)) for k, v in timings.items()}
    report["python, load_onnx"] = load
    if cli:
        report["same scores as the cli (to 1e-6)"] = all(
            np.allclose(s[0], cli_scores, rtol=1e-6, atol=0) for s in scores.values())
    return target, report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", default=str(ROOT / "build" / "apps" / "cuxplain"))
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--no-frameworks", action="store_true",
                        help="NumPy only: PyTorch's and JAX's thread pools share the cores")
    args = parser.parse_args()
    cli = args.cli if pathlib.Path(args.cli).exists() else None

    print(f"cuxplain {cuxplain.__version__}, backends {cuxplain.backends()}, "
          f"Python {sys.version.split()[0]}, NumPy {np.__version__}")
    print("one model call through the binding (a model returning zeros, batch of 1):")
    for label, us in per_call_overhead(args.repeat, not args.no_frameworks).items():
        print(f"  {label:<12} {us:8.1f} us per call")
    target, report = end_to_end(cli, args.repeat)
    print(f"Sobol on the embedded network and the bundled image, grid 7, 32 designs, target "
          f"{target} (1600 model evaluations; median and best of {args.repeat}):")
    for label, value in report.items():
        if isinstance(value, tuple):
            text = f"{value[0]:.3f} s (best {value[1]:.3f} s)"
        else:
            text = f"{value:.3f} s" if isinstance(value, float) else str(value)
        print(f"  {label:<40} {text}")
    if cli is None:
        print(f"  (no cuxplain program at {args.cli}: build it with scripts/build.sh)")


if __name__ == "__main__":
    main()
