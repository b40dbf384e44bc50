"""What the comparison scripts share: the sample image, the Fashion-MNIST test
set, and running the cuxplain program."""
import gzip
import json
import os
import pathlib
import struct
import subprocess
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "models" / "sample_fashion_mnist.png"
DEBIAN_DATA = pathlib.Path("/usr/share/datasets/fashion-mnist")


def read_png_gray(path):
    """An 8-bit grayscale PNG as floats in [0, 1], H x W (TensorFlow's decoder)."""
    import tensorflow as tf

    image = tf.io.decode_png(pathlib.Path(path).read_bytes(), channels=1).numpy()[:, :, 0]
    return image.astype(np.float32) / np.float32(255.0)


def read_idx(path):
    path = pathlib.Path(path)
    if not path.exists():
        path = path.with_name(path.name + ".gz")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def test_set(data_dir=DEBIAN_DATA):
    images = read_idx(pathlib.Path(data_dir) / "t10k-images-idx3-ubyte")
    labels = read_idx(pathlib.Path(data_dir) / "t10k-labels-idx1-ubyte")
    return images, labels


def run_cuxplain(program, *args):
    """Runs the cuxplain program with --out in a fresh directory; returns the
    parsed JSON it wrote (scores.json or concepts.json) and the directory."""
    out = tempfile.mkdtemp(prefix="cuxplain-compare-")
    cmd = [str(program), *map(str, args), "--out", out, "--no-progress"]
    env = dict(os.environ)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    for name in ("scores.json", "concepts.json"):
        path = pathlib.Path(out) / name
        if path.exists():
            return json.loads(path.read_text()), out
    raise RuntimeError(f"{cmd}: no JSON written")
