#!/usr/bin/env python3
"""Writes upsample_cv2.txt: cv2.resize outputs that tests/host/test_upsample.cpp
compares cuxplain::upsample with (INTER_CUBIC within 1e-5, INTER_NEAREST exactly).

    python3 -m pip install opencv-python-headless numpy
    python3 tests/data/make_upsample_fixtures.py

Format, per case: a line `case <method> <grid_h> <grid_w> <h> <w> <channels>`,
then a line of grid_h*grid_w*channels input floats and a line of
h*w*channels output floats, both row-major with the channel fastest, written
with 9 significant digits (float32 round trips exactly).
"""
import pathlib

import cv2
import numpy as np

CASES = [
    # method, grid_h, grid_w, h, w, channels
    ("bicubic", 8, 8, 64, 64, 1),   # integer scale
    ("bicubic", 7, 5, 23, 31, 3),   # non-square, non-integer scales, 3 channels
    ("bicubic", 4, 4, 9, 13, 1),
    ("bicubic", 3, 2, 16, 16, 2),
    ("bicubic", 1, 3, 4, 9, 1),     # one row: every vertical tap clamps
    ("bicubic", 8, 8, 8, 8, 1),     # same size: a copy
    ("bicubic", 9, 7, 4, 3, 1),     # downscale (no antialiasing in INTER_CUBIC)
    ("nearest", 8, 8, 64, 64, 1),
    ("nearest", 7, 5, 23, 31, 3),
    ("nearest", 3, 3, 10, 10, 1),
]

FLAGS = {"bicubic": cv2.INTER_CUBIC, "nearest": cv2.INTER_NEAREST}


def line(values):
    return " ".join(f"{v:.9g}" for v in values.astype(np.float32).ravel()) + "\n"


def main():
    rng = np.random.default_rng(2024)
    out = [f"# cv2 {cv2.__version__}: cv2.resize(cells, (w, h), interpolation=...) on float32\n"]
    for method, gh, gw, h, w, c in CASES:
        cells = rng.uniform(-1.0, 1.0, size=(gh, gw, c)).astype(np.float32)
        resized = cv2.resize(cells, (w, h), interpolation=FLAGS[method])
        resized = resized.reshape(h, w, c)  # cv2 drops a channel axis of size 1
        out.append(f"case {method} {gh} {gw} {h} {w} {c}\n")
        out.append(line(cells))
        out.append(line(resized))
    path = pathlib.Path(__file__).with_name("upsample_cv2.txt")
    path.write_text("".join(out))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
