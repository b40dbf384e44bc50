"""Shared fixtures of the Python package's tests.

The package under test is whatever `import cuxplain` finds: the installed
one (scripts/test_python.sh installs it into a virtual environment with
`pip install .`) or a build tree's (PYTHONPATH=build/python)."""

import ctypes
import json
import os
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

import cuxplain

REPO = pathlib.Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "fashion_mnist_cnn.onnx"
SAMPLE = REPO / "models" / "sample_fashion_mnist.png"
DATA = REPO / "tests" / "data"


@pytest.fixture(scope="session")
def net():
    if not cuxplain.nn.onnx_available():
        pytest.skip("this cuxplain was built without ONNX support (libonnx-dev)")
    return cuxplain.nn.load_onnx(MODEL)


def random_images(n, c, h, w, seed, layout="nchw"):
    rng = np.random.default_rng(seed)
    shape = (n, c, h, w) if layout == "nchw" else (n, h, w, c)
    return rng.random(shape, dtype=np.float32)


@pytest.fixture
def fashion_images():
    """Two 28 x 28 grayscale images in [0, 1]."""
    return random_images(2, 1, 28, 28, seed=11)


def cli_path():
    path = os.environ.get("CUXPLAIN_CLI") or str(REPO / "build" / "apps" / "cuxplain")
    return path if os.access(path, os.X_OK) else None


@pytest.fixture(scope="session")
def cli():
    path = cli_path()
    if path is None:
        pytest.skip("the cuxplain program is not built (set CUXPLAIN_CLI or build build/apps/"
                    "cuxplain with scripts/build.sh)")
    return path


_libc = ctypes.CDLL(None)
_libc.strtof.restype = ctypes.c_float
_libc.strtof.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]


def strtof(text):
    """The float32 a decimal string names, rounded once (as the CLI's own
    check, strtof, reads it), not through a double."""
    return np.float32(_libc.strtof(text.encode(), None))


def run_cli(cli, tmp_path, pixels, args):
    """Runs `cuxplain explain` on a 28 x 28 grayscale image (uint8 pixels,
    written as a binary PGM) and returns scores.json, floats as float32."""
    image = tmp_path / "image.pgm"
    image.write_bytes(b"P5\n28 28\n255\n" + pixels.astype(np.uint8).tobytes())
    out = tmp_path / "out"
    subprocess.run([cli, "explain", "--model", str(MODEL), "--image", str(image), "--out",
                    str(out), "--no-progress", *args], check=True, capture_output=True)
    with open(out / "scores.json") as f:
        report = json.load(f, parse_float=strtof)
    shutil.rmtree(out)
    return report
