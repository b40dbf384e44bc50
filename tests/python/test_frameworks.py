"""A second framework through DLPack on the host backend: JAX and PyTorch
arrays in, the same framework out, the model fed views of cuxplain's batch
buffer (its address is the same on every call: no copy per batch), and the
same scores as NumPy. Skipped, saying so, where the framework is not
installed (scripts/test_python.sh installs both, PyTorch unless
CUXPLAIN_PYTHON_TORCH=0 or the disk is short)."""

import numpy as np
import pytest

import cuxplain

from conftest import random_images

K = 6


def numpy_model(x):
    x = np.asarray(x)
    flat = x.reshape(len(x), -1).astype(np.float64)
    w = np.cos(np.arange(flat.shape[1] * K, dtype=np.float64)).reshape(-1, K)
    return (flat @ w).astype(np.float32)


IMAGES = random_images(2, 3, 12, 10, seed=21)


@pytest.fixture(scope="module")
def reference():
    return cuxplain.sobol_attribution(numpy_model, IMAGES, [1, 5], grid_size=3, batch_size=40)


def test_jax_arrays_in_and_out():
    jax = pytest.importorskip("jax", reason="JAX is not installed")
    jnp = jax.numpy
    w = jnp.asarray(np.cos(np.arange(3 * 12 * 10 * K, dtype=np.float64)).reshape(-1, K),
                    dtype=jnp.float32)
    pointers = []

    def model(x):
        assert isinstance(x, jax.Array) and x.dtype == jnp.float32 and x.shape[1:] == (3, 12, 10)
        pointers.append(x.unsafe_buffer_pointer())
        return numpy_model(np.asarray(x))  # a NumPy result is fine too

    images = jnp.asarray(IMAGES)
    got = cuxplain.sobol_attribution(model, images, jnp.array([1, 5]), grid_size=3,
                                     batch_size=40)
    assert isinstance(got, jax.Array) and got.dtype == jnp.float32 and got.shape == (2, 3, 3)
    # The probe sees the images themselves; every batch after it the same buffer.
    assert len(pointers) > 3 and len(set(pointers[1:])) == 1
    want = cuxplain.sobol_attribution(numpy_model, IMAGES, [1, 5], grid_size=3, batch_size=40)
    assert np.array_equal(np.asarray(got), want)

    def jax_model(x):
        return x.reshape(x.shape[0], -1) @ w  # a JAX result

    a = cuxplain.hsic_attribution(jax_model, images, [1, 5], grid_size=3, nb_design=64)
    b = cuxplain.hsic_attribution(lambda x: np.asarray(jax_model(jnp.asarray(x))), IMAGES,
                                  [1, 5], grid_size=3, nb_design=64)
    assert isinstance(a, jax.Array) and np.array_equal(np.asarray(a), b)


def test_jax_channels_last_and_a_jax_exception():
    jax = pytest.importorskip("jax", reason="JAX is not installed")
    jnp = jax.numpy
    nhwc = jnp.asarray(IMAGES.transpose(0, 2, 3, 1))
    got = cuxplain.sobol_attribution(
        lambda x: numpy_model(np.asarray(x).transpose(0, 3, 1, 2)), nhwc, [1, 5], layout="nhwc",
        grid_size=3, batch_size=40)
    want = cuxplain.sobol_attribution(numpy_model, IMAGES, [1, 5], grid_size=3, batch_size=40)
    assert np.array_equal(np.asarray(got), want)

    def failing(x):
        return jnp.ones((x.shape[0], K)) @ jnp.ones((K + 1, K))  # a shape error inside JAX

    with pytest.raises(TypeError) as info:
        cuxplain.sobol_attribution(failing, jnp.asarray(IMAGES), [1, 5], num_outputs=K,
                                   grid_size=3)
    assert isinstance(info.value.__cause__, cuxplain.Error)


def test_torch_tensors_in_and_out(reference):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed "
                                "(scripts/test_python.sh installs it unless CUXPLAIN_PYTHON_TORCH=0 or "
                                "the disk is short)")
    w = torch.from_numpy(np.cos(np.arange(3 * 12 * 10 * K, dtype=np.float64)).reshape(-1, K))
    pointers = []

    def model(x):
        assert isinstance(x, torch.Tensor) and x.dtype == torch.float32 and not x.is_cuda
        pointers.append(x.data_ptr())
        return (x.reshape(len(x), -1).double() @ w).float()

    images = torch.from_numpy(IMAGES.copy())
    got = cuxplain.sobol_attribution(model, images, torch.tensor([1, 5]), grid_size=3,
                                     batch_size=40)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    assert len(pointers) > 3 and len(set(pointers[1:])) == 1
    assert np.array_equal(got.numpy(), reference)

    # A permuted (non-contiguous) batch is converted once, with a warning.
    nhwc = images.permute(0, 2, 3, 1)
    assert not nhwc.is_contiguous()
    with pytest.warns(cuxplain.ConversionWarning, match="images converted once"):
        got = cuxplain.sobol_attribution(
            lambda x: model(x.permute(0, 3, 1, 2).contiguous()), nhwc, [1, 5], layout="nhwc",
            grid_size=3, batch_size=40)
    assert np.array_equal(got.numpy(), reference)

    with pytest.raises(cuxplain.Error, match="model returned float64 values"):
        cuxplain.sobol_attribution(lambda x: model(x).double(), images, [1, 5], grid_size=3)

    # A module called without torch.no_grad(): its outputs require grad.
    linear = torch.nn.Linear(3 * 12 * 10, K)
    with torch.no_grad():
        linear.weight.copy_(w.T.float())
        linear.bias.zero_()
    module = torch.nn.Sequential(torch.nn.Flatten(), linear)
    got = cuxplain.sobol_attribution(module, images, [1, 5], grid_size=3, batch_size=40)
    with torch.no_grad():
        want = cuxplain.sobol_attribution(module, images, [1, 5], grid_size=3, batch_size=40)
    assert np.array_equal(got.numpy(), want.numpy()) and np.linalg.norm(want.numpy()) > 0


def test_torch_network_forward_and_upsample():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed "
                                "(scripts/test_python.sh installs it unless CUXPLAIN_PYTHON_TORCH=0 or "
                                "the disk is short)")
    cells = torch.rand(2, 4, 4, generator=torch.Generator().manual_seed(3))
    got = cuxplain.upsample(cells, (9, 7), method="bicubic")
    assert isinstance(got, torch.Tensor) and got.shape == (2, 9, 7)
    assert np.array_equal(got.numpy(), cuxplain.upsample(cells.numpy(), (9, 7)))


def test_batches_are_views_of_cuxplains_buffer(monkeypatch):
    """Each framework array the model gets has the address of the batch
    buffer the binding hands over (read through NumPy, which never copies
    an import): no copy per batch."""
    from cuxplain import _frameworks

    checked = []
    frameworks = [("numpy", _frameworks.NumPy, lambda a: a.__array_interface__["data"][0],
                   lambda x: x)]
    try:
        import jax.numpy as jnp

        frameworks.append(("jax", _frameworks.Jax, lambda a: a.unsafe_buffer_pointer(),
                           jnp.asarray))
    except ImportError:
        pass
    try:
        import torch

        frameworks.append(("torch", _frameworks.Torch, lambda a: a.data_ptr(), torch.from_numpy))
    except ImportError:
        pass
    for name, cls, address, convert in frameworks:
        original = cls.from_dlpack

        def recording(self, array, cuda, original=original, address=address):
            wrapped = original(self, array, cuda)
            checked.append((name, address(wrapped) == np.from_dlpack(array).__array_interface__[
                "data"][0]))
            return wrapped

        monkeypatch.setattr(cls, "from_dlpack", recording)
        cuxplain.sobol_attribution(lambda x: numpy_model(np.asarray(x)), convert(IMAGES.copy()),
                                   [1, 5], num_outputs=K, grid_size=2, batch_size=16)
    names = {n for n, _ in checked}
    assert names == {f[0] for f in frameworks} and all(ok for _, ok in checked), checked


def test_tensorflow_tensors_in_and_out(reference):
    tf = pytest.importorskip("tensorflow", reason="TensorFlow is not installed (not in CI: "
                             "bench/xplique/run.sh makes a venv with it)")
    w = tf.constant(np.cos(np.arange(3 * 12 * 10 * K, dtype=np.float64)).reshape(-1, K))

    def model(x):
        assert isinstance(x, tf.Tensor) and x.dtype == tf.float32
        return tf.cast(tf.reshape(tf.cast(x, tf.float64), (tf.shape(x)[0], -1)) @ w, tf.float32)

    got = cuxplain.sobol_attribution(model, tf.constant(IMAGES), [1, 5], grid_size=3,
                                     batch_size=40)
    assert isinstance(got, tf.Tensor) and got.dtype == tf.float32
    assert np.array_equal(got.numpy(), reference)
