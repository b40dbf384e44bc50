"""The package's surface: the keyword defaults are the C++ option structs'
defaults (read from the structs, so that they cannot drift apart), the
backends are reported, and the modules have their docstrings and stubs."""

import enum
import inspect
import pathlib

import numpy as np
import pytest

import cuxplain
from cuxplain import _core


def keyword_defaults(function, skip=()):
    return {p.name: p.default for p in inspect.signature(function).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in skip}


def struct_value(value):
    return value.name if isinstance(value, enum.Enum) else value


@pytest.mark.parametrize("function,struct", [
    (cuxplain.sobol_attribution, _core.SobolOptions),
    (cuxplain.hsic_attribution, _core.HsicOptions),
    (cuxplain.eva_attribution, _core.EvaOptions),
], ids=["sobol", "hsic", "eva"])
def test_keyword_defaults_are_the_cpp_defaults(function, struct):
    defaults = keyword_defaults(function, skip=("layout", "num_outputs", "progress"))
    options = struct()
    assert defaults, function
    for name, value in defaults.items():
        want = struct_value(getattr(options, name))
        assert value == want or (isinstance(want, float) and np.float32(value) == want), name


def test_craft_and_nmf_defaults_are_the_cpp_defaults():
    from cuxplain.craft import _options

    craft = _core.CraftOptions()
    ours = _options()
    for name in ("patch_size", "crop_resize", "alpha_w", "nb_design", "sampler", "skip", "seed",
                 "estimator", "map_interpolation", "batch_size"):
        assert struct_value(getattr(ours, name)) == struct_value(getattr(craft, name)), name
    assert ours.nmf.rank == craft.nmf.rank == 20
    nmf = _core.NmfOptions()
    for name, value in inspect.signature(cuxplain.nmf.options).parameters.items():
        assert value.default == struct_value(getattr(nmf, name)) or (
            isinstance(value.default, float) and np.float32(value.default) == getattr(nmf, name)
        ), name


def test_backends_are_reported():
    assert cuxplain.backends()[0] == "host"
    assert cuxplain.cuda_available() == ("cuda" in cuxplain.backends())
    if not _core.BUILT_WITH_CUDA:
        assert not cuxplain.cuda_available()


def test_cuda_context_without_a_gpu_says_why():
    if cuxplain.cuda_available():
        pytest.skip("a GPU is present: Context.cuda() works here")
    with pytest.raises(cuxplain.Error, match="CUDA|cuda"):
        _core.Context.cuda(0)


def test_public_functions_have_docstrings_and_the_stub_is_installed():
    for name in cuxplain.__all__:
        obj = getattr(cuxplain, name)
        if callable(obj) and not isinstance(obj, type):
            assert obj.__doc__ and len(obj.__doc__) > 40, name
    package = pathlib.Path(cuxplain.__file__).parent
    assert (package / "py.typed").exists()
    stub = (package / "_core.pyi").read_text()
    assert "def sobol_attribution(" in stub and "class SobolOptions" in stub


def test_the_gil_is_released_while_cuxplain_computes(net):
    """Another Python thread runs while a call computes with a network as
    the model (no Python in the loop): the binding holds the GIL only to
    call Python. Were it held, the counting thread would get a few 5 ms
    switch intervals in a call of about a second, not a good share of it."""
    import threading
    import time

    def count_until(event):
        ticks = 0
        start = time.perf_counter()
        while not event.is_set():
            ticks += 1
        return ticks / (time.perf_counter() - start)

    alone = threading.Event()
    threading.Timer(0.2, alone.set).start()
    solo_rate = count_until(alone)

    images = np.random.default_rng(1).random((1, 1, 28, 28), dtype=np.float32)
    done = threading.Event()

    def explain():
        cuxplain.sobol_attribution(net, images, [0], grid_size=7, nb_design=128)
        done.set()

    worker = threading.Thread(target=explain)
    worker.start()
    rate = count_until(done)
    worker.join()
    assert rate > 0.1 * solo_rate, (rate, solo_rate)


def test_progress_counts_every_model_evaluation():
    bars = []

    class Bar:
        def __init__(self, total, desc):
            self.total, self.desc, self.n, self.closed = total, desc, 0, False
            bars.append(self)

        def update(self, k):
            self.n += k

        def close(self):
            self.closed = True

    images = np.random.default_rng(2).random((2, 1, 8, 8), dtype=np.float32)
    model = lambda x: np.ascontiguousarray(x.reshape(len(x), -1)[:, :3])  # noqa: E731
    cuxplain.sobol_attribution(model, images, [0, 1], grid_size=2, nb_design=16, batch_size=7,
                               progress=Bar)
    cuxplain.hsic_attribution(model, images, [0, 1], grid_size=2, nb_design=30, progress=Bar)
    assert [(b.desc, b.total, b.n, b.closed) for b in bars] == [
        ("sobol", 2 * 16 * 5, 2 * 16 * 5, True), ("hsic", 60, 60, True)]


def read_fixture_io(path):
    """tests/data/onnx/<name>.io: int32 n, input and output floats per
    sample, then n inputs and n onnxruntime outputs (fixture_io.py)."""
    raw = pathlib.Path(path).read_bytes()
    n, size_in, size_out = np.frombuffer(raw[:12], dtype="<i4")
    floats = np.frombuffer(raw[12:], dtype="<f4")
    inputs = floats[: n * size_in].reshape(n, size_in)
    outputs = floats[n * size_in: n * (size_in + size_out)].reshape(n, size_out)
    return inputs, outputs


def test_a_keras_model_reads_nchw_images_with_channels_last_as_nchw():
    if not cuxplain.nn.onnx_available():
        pytest.skip("this cuxplain was built without ONNX support (libonnx-dev)")
    model = pathlib.Path(__file__).resolve().parents[1] / "data" / "onnx" / "keras_cnn.onnx"
    inputs, expected = read_fixture_io(model.with_suffix(".io"))
    as_exported = cuxplain.nn.load_onnx(model)
    assert as_exported.input_shape == (24, 24, 3)  # N x H x W x C read as (c, h, w)
    net = cuxplain.nn.load_onnx(model, channels_last_as_nchw=True)
    assert net.input_shape == (3, 24, 24)
    nhwc = inputs.reshape(-1, 24, 24, 3)
    nchw = np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))
    out = np.asarray(net.forward(nchw))
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(as_exported.forward(np.ascontiguousarray(nhwc).reshape(-1, 24, 24, 3))),
                               expected, rtol=1e-4, atol=1e-6)
    names = [name for name, _, _ in cuxplain.nn.onnx_tensors(model, channels_last_as_nchw=True)]
    assert len(names) > 3
