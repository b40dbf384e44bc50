#!/usr/bin/env python3
"""Checks what `cuxplain evaluate` (metrics.json, curves.png) and `cuxplain
explain --metrics` (the "metrics" of scores.json) wrote, with the standard
library only.

    check_evaluate.py evaluate OUT --images N --methods a,b --metrics m,n [--steps K]
    check_evaluate.py explain OUT --methods a,b --metrics m,n [--steps K]
"""
import argparse
import json
import math
import struct
import sys


def fail(message):
    print("check_evaluate: " + message, file=sys.stderr)
    sys.exit(1)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        fail(path + " is not a PNG file")
    return struct.unpack(">II", head[16:24])


def step_counts(pixels, steps):
    # np.linspace(0, P, steps + 1, dtype=np.int32) with max_percentage 1
    return [int(math.floor(s * (pixels / steps))) for s in range(steps)] + [pixels]


def check_metrics(where, metrics, names, images, steps, pixels):
    expected = []
    for name in names:
        expected += ["drop", "increase", "gain"] if name == "average" else [name]
    if list(metrics) != expected:
        fail(f"{where}: metrics {list(metrics)}, expected {expected}")
    for name, m in metrics.items():
        values = m["values"]
        if len(values) != images or not all(math.isfinite(v) for v in values):
            fail(f"{where} {name}: {len(values)} values, expected {images} finite ones")
        if abs(m["mean"] - sum(values) / images) > 1e-5 * max(1.0, abs(m["mean"])):
            fail(f"{where} {name}: the mean is not the values' mean")
        if name == "mufidelity" and not all(-1.0 <= v <= 1.0 for v in values):
            fail(f"{where} mufidelity outside [-1, 1]: {values}")
        if name in ("deletion", "insertion"):
            if len(m["curve"]) != steps + 1:
                fail(f"{where} {name}: {len(m['curve'])} curve points, expected {steps + 1}")
            if m["counts"] != step_counts(pixels, steps):
                fail(f"{where} {name}: counts {m['counts']}")
    if "deletion" in metrics and "insertion" in metrics:
        # Both ends of both curves are the same two images: the unperturbed
        # image and the all-baseline one.
        d, i = metrics["deletion"]["curve"], metrics["insertion"]["curve"]
        for a, b in ((d[0], i[-1]), (d[-1], i[0])):
            if abs(a - b) > 1e-5 * max(1.0, abs(a)):
                fail(f"{where}: the curves' ends differ: deletion {d}, insertion {i}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["evaluate", "explain"])
    parser.add_argument("out")
    parser.add_argument("--images", type=int, default=1)
    parser.add_argument("--methods", required=True)
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--pixels", type=int, default=28 * 28)
    args = parser.parse_args()
    methods = args.methods.split(",")
    names = args.metrics.split(",")
    path = args.out + ("/metrics.json" if args.command == "evaluate" else "/scores.json")
    with open(path) as f:
        document = json.load(f)
    if args.command == "evaluate":
        if document["images"] != args.images or len(document["targets"]) != args.images:
            fail(f"{path}: images {document['images']}, expected {args.images}")
    got = [m["method"] for m in document["methods"]]
    if got != methods:
        fail(f"{path}: methods {got}, expected {methods}")
    for m in document["methods"]:
        check_metrics(f"{path} {m['method']}", m["metrics"], names, args.images, args.steps,
                      args.pixels)
    if "deletion" in names or "insertion" in names:
        width, height = png_size(args.out + "/curves.png")
        panels = int("deletion" in names) + int("insertion" in names)
        if width != 420 * panels or height < 320:
            fail(f"curves.png is {width} x {height}, expected {420 * panels} wide")
    print(f"check_evaluate: {path} holds {len(methods)} methods x {len(names)} metrics")


if __name__ == "__main__":
    main()
