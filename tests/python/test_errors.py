"""What a caller sees when something is wrong: the model's own exception,
the library's message for bad outputs and options, a named argument for
what only the binding sees; and the library still works afterwards."""

import gc
import warnings

import numpy as np
import pytest

import cuxplain

from conftest import random_images

K = 4


def good_model(x):
    return (x.reshape(len(x), -1)[:, :K] * np.arange(1, K + 1, dtype=np.float32)).astype(
        np.float32)


@pytest.fixture
def images():
    return random_images(2, 1, 8, 8, seed=1)


@pytest.fixture
def reference(images):
    return cuxplain.sobol_attribution(good_model, images, [0, 2], grid_size=2)


@pytest.fixture(autouse=True)
def still_usable(images, reference):
    """After each test, the library gives the same result as before it."""
    yield
    gc.collect()
    again = cuxplain.sobol_attribution(good_model, images, [0, 2], grid_size=2)
    assert np.array_equal(again, reference)
    assert np.linalg.norm(reference) > 0


class ModelFailure(Exception):
    pass


def test_a_model_exception_reaches_the_caller_as_itself(images):
    def model(x):
        raise ModelFailure("the GPU caught fire")

    with pytest.raises(ModelFailure, match="the GPU caught fire") as info:
        cuxplain.sobol_attribution(model, images, [0, 1], num_outputs=K, grid_size=2)
    cause = info.value.__cause__
    assert isinstance(cause, cuxplain.Error) and isinstance(cause, RuntimeError)
    # Two designs of 32 x (4 + 1) rows share the first batch of 256.
    assert "model.forward threw on images 0..1" in str(cause)
    assert "ModelFailure: the GPU caught fire" in str(cause)
    # The model's own frame is in the traceback.
    frames = []
    tb = info.value.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    assert "model" in frames


def test_a_model_failing_on_a_later_batch_and_keyboard_interrupt(images):
    calls = []

    def model(x):
        calls.append(len(x))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return good_model(x)

    with pytest.raises(KeyboardInterrupt) as info:
        cuxplain.hsic_attribution(model, images, [0, 1], num_outputs=K, grid_size=2,
                                  nb_design=40, batch_size=16)
    assert len(calls) == 3
    # The third batch holds the end of image 0's design and the start of image 1's.
    assert "(design rows 32..39 of image 0 to 0..7 of image 1)" in str(info.value.__cause__)


def test_hsic_and_craft_callables_raise_their_own_exceptions(images):
    def model(x):
        raise ZeroDivisionError("hsic")

    with pytest.raises(ZeroDivisionError, match="hsic"):
        cuxplain.hsic_attribution(model, images, [0, 1], num_outputs=K, grid_size=2)

    def g(x):
        raise LookupError("g failed")

    split = cuxplain.craft.SplitModel(g, None, activation_shape=(3, 2, 2))
    with pytest.raises(LookupError, match="g failed") as info:
        cuxplain.craft.fit(split, images, patch_size=4, rank=2)
    assert "g threw" in str(info.value.__cause__)


@pytest.mark.parametrize("bad,message", [
    (lambda x: np.full((len(x), K), np.nan, np.float32), "non-finite"),
    (lambda x: np.zeros((len(x), K + 1), np.float32), r"model returned shape \((\d+), 5\) "
     r"for a batch of \1; expected \(\1, 4\)"),
    (lambda x: np.zeros((len(x),), np.float32), r"model returned shape \(\d+,\)"),
    (lambda x: np.zeros((len(x), K), np.float64), "model returned float64 values; expected "
     "float32"),
    (lambda x: [[0.0] * K] * len(x), "model returned list, not an array"),
], ids=["nan", "wrong-width", "one-axis", "float64", "list"])
def test_bad_model_outputs_are_named(images, bad, message):
    with pytest.raises(cuxplain.Error, match=message) as info:
        cuxplain.sobol_attribution(bad, images, [0, 1], num_outputs=K, grid_size=2)
    assert "model.forward" in str(info.value)


def test_strided_host_outputs_are_read_as_they_are(images, reference):
    def transposed(x):
        return np.ascontiguousarray(good_model(x).T).T  # same values, column-major

    assert np.array_equal(
        cuxplain.sobol_attribution(transposed, images, [0, 2], grid_size=2), reference)


def test_non_contiguous_or_float64_images_are_converted_once_with_a_warning(images, reference):
    batches = []

    def model(x):
        batches.append(x.flags.c_contiguous and x.dtype == np.float32)
        return good_model(x)

    strided = np.asfortranarray(images)
    assert not strided.flags.c_contiguous
    for variant in (strided, images.astype(np.float64)):
        batches.clear()
        with pytest.warns(cuxplain.ConversionWarning, match="images converted once") as record:
            got = cuxplain.sobol_attribution(model, variant, [0, 2], grid_size=2, batch_size=16)
        assert len(record) == 1 and len(batches) > 1 and all(batches)
        assert np.array_equal(got, reference)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cuxplain.sobol_attribution(good_model, images, [0, 2], grid_size=2)


class Producer:
    """A DLPack producer the package knows nothing about."""

    def __init__(self, array):
        self.array = array

    def __dlpack__(self, **kwargs):
        return self.array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.array.__dlpack_device__()

    @property
    def shape(self):
        return self.array.shape

    @property
    def dtype(self):
        return self.array.dtype


def test_an_unknown_producer_is_read_without_copy_or_refused_by_name(images, reference):
    got = cuxplain.sobol_attribution(good_model, Producer(images), [0, 2], grid_size=2,
                                     num_outputs=K)
    assert np.array_equal(got, reference)
    with pytest.raises(cuxplain.ArgumentError, match="images must be float32 and C-contiguous, "
                       "got float64"):
        cuxplain.sobol_attribution(good_model, Producer(images.astype(np.float64)), [0, 2],
                                   grid_size=2)


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(grid_size="2"), cuxplain.ArgumentError, "grid_size must be int, got '2'"),
    (dict(grid_size=2, sampler="sobel"), cuxplain.ArgumentError,
     "sampler must be one of 'sobol', .* got 'sobel'"),
    (dict(grid_size=2, seed=-1), cuxplain.ArgumentError, "seed must be int >= 0, got -1"),
    (dict(grid_size=2, first_order=1), cuxplain.ArgumentError, "first_order must be bool"),
    (dict(grid_size=2, layout="hwc"), cuxplain.ArgumentError, "layout must be 'nchw' or 'nhwc'"),
    (dict(grid_size=2, nb_design=24), cuxplain.Error,
     "options.nb_design must be a power of two >= 2, got 24"),
    (dict(grid_size=9), cuxplain.Error, "options.grid_size 9 is larger than the image"),
    (dict(grid_size=2, mask_interpolation="bicubic"), cuxplain.Error,
     "mask_interpolation must be nearest, nearest_exact or bilinear, got bicubic"),
], ids=["int-as-str", "enum", "seed", "bool", "layout", "nb_design", "grid", "interpolation"])
def test_bad_options_are_named(images, kwargs, error, message):
    with pytest.raises(error, match=message):
        cuxplain.sobol_attribution(good_model, images, [0, 1], **kwargs)


def test_argument_errors_are_value_errors_and_cuxplain_errors():
    assert issubclass(cuxplain.ArgumentError, ValueError)
    assert issubclass(cuxplain.ArgumentError, cuxplain.Error)
    assert issubclass(cuxplain.Error, RuntimeError)


@pytest.mark.parametrize("targets,error,message", [
    ([0, 7], cuxplain.Error, r"targets\[1\] = 7 is outside \[0, 4\)"),
    ([0], cuxplain.ArgumentError, "targets has 1 entries for 2 images"),
    (np.array([[0, 1, 0, 0], [0.5, 0.5, 0, 0]]), cuxplain.ArgumentError,
     "targets row 1 is not one-hot"),
    (np.array([[0, 1, 0], [1, 0, 0]]), cuxplain.ArgumentError,
     "targets rows have 3 entries but the model has 4 outputs"),
    ([0, 1.5], cuxplain.ArgumentError, r"targets\[1\] must be an integer class id"),
    ("cat", cuxplain.ArgumentError, "targets must be an int, a sequence"),
], ids=["range", "count", "soft", "width", "float", "string"])
def test_bad_targets_are_named(images, targets, error, message):
    with pytest.raises(error, match=message):
        cuxplain.sobol_attribution(good_model, images, targets, num_outputs=K, grid_size=2)


def test_targets_as_ints_arrays_and_one_hot_rows_agree(images, reference):
    for targets in ([0, 2], (0, 2), np.array([0, 2], dtype=np.int64),
                    np.eye(K, dtype=np.float32)[[0, 2]]):
        assert np.array_equal(
            cuxplain.sobol_attribution(good_model, images, targets, grid_size=2), reference)
    same = cuxplain.sobol_attribution(good_model, images, 2, grid_size=2)
    assert np.array_equal(same[1], reference[1])


def test_bad_images_are_named():
    with pytest.raises(cuxplain.ArgumentError, match=r"images must be a 4-D batch .* got shape "
                       r"\(8, 8\)"):
        cuxplain.sobol_attribution(good_model, np.zeros((8, 8), np.float32), [0])
    with pytest.raises(cuxplain.ArgumentError, match="images must be an array"):
        cuxplain.sobol_attribution(good_model, [[[[0.0]]]], [0])
    with pytest.raises(cuxplain.ArgumentError, match="model must be callable"):
        cuxplain.sobol_attribution(42, np.zeros((1, 1, 8, 8), np.float32), [0], num_outputs=2)


def test_a_probe_call_learns_the_output_count_and_checks_its_shape(images):
    calls = []

    def model(x):
        calls.append(len(x))
        return good_model(x)

    cuxplain.sobol_attribution(model, images, [0, 3], grid_size=2)
    assert calls[0] == 1  # the probe, on the first image
    with pytest.raises(cuxplain.ArgumentError, match="model must return \\(n, num_outputs\\)"):
        cuxplain.sobol_attribution(lambda x: np.zeros(3, np.float32), images, [0, 1])
