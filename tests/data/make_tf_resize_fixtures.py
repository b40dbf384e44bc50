#!/usr/bin/env python3
"""Writes tf_resize_bicubic.txt: tf.image.resize(method="bicubic") outputs
that tests/host/test_craft.cpp compares CRAFT's TensorFlow crop resize with
(xplique's CraftTf resizes its crops this way).

    python3 -m pip install tensorflow-cpu numpy
    python3 tests/data/make_tf_resize_fixtures.py

Format, per case: a line `case <in_h> <in_w> <out_h> <out_w> <channels>`,
then a line of in_h*in_w*channels input floats and a line of
out_h*out_w*channels output floats, both row-major with the channel fastest
(NHWC), written with 9 significant digits (float32 round trips exactly).
"""
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

CASES = [
    # in_h, in_w, out_h, out_w, channels
    (10, 10, 28, 28, 1),   # CRAFT on the embedded model: patch 10 of a 28 x 28 image
    (10, 10, 28, 28, 3),
    (5, 5, 16, 16, 3),     # x3.2
    (7, 7, 24, 17, 1),     # non-square output, non-integer scales
    (12, 12, 20, 36, 2),
    (16, 16, 16, 16, 1),   # same size: a copy
    (2, 2, 9, 13, 1),      # two rows: most taps fall outside and renormalize
    (1, 1, 5, 5, 1),       # a single pixel
    (32, 32, 112, 112, 1),
    (9, 7, 4, 3, 1),       # downscale (no antialiasing)
]


def line(values):
    return " ".join(f"{v:.9g}" for v in np.asarray(values, dtype=np.float32).ravel()) + "\n"


def main():
    rng = np.random.default_rng(1507)
    out = [f"# tensorflow {tf.__version__}: tf.image.resize(x, (h, w), method='bicubic') on float32 NHWC\n"]
    for in_h, in_w, out_h, out_w, channels in CASES:
        x = rng.uniform(-1.0, 1.0, size=(1, in_h, in_w, channels)).astype(np.float32)
        y = tf.image.resize(x, (out_h, out_w), method="bicubic").numpy().astype(np.float32)
        out.append(f"case {in_h} {in_w} {out_h} {out_w} {channels}\n")
        out.append(line(x))
        out.append(line(y))
    path = pathlib.Path(__file__).with_name("tf_resize_bicubic.txt")
    path.write_text("".join(out))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
