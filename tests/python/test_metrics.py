"""The metrics and the baselines from Python: keyword defaults read from the
C++ option structs, known answers against NumPy written from the
definitions (a model reading one pixel, a perfect attribution of an
additive model, occlusion of a linear model, KernelSHAP's Shapley values,
xplique's Complexity and Sparseness formulas), the explainer callback of
AverageStability, and errors."""

import inspect

import numpy as np
import pytest

import cuxplain
from cuxplain import _core

from test_api import keyword_defaults, struct_value


@pytest.mark.parametrize("function,struct,rename", [
    (cuxplain.deletion, _core.CausalOptions, {}),
    (cuxplain.insertion, _core.CausalOptions, {}),
    (cuxplain.mu_fidelity, _core.MuFidelityOptions, {}),
    (cuxplain.average_drop_increase_gain, _core.AverageScoreOptions, {}),
    (cuxplain.average_stability, _core.StabilityOptions, {}),
    (cuxplain.rise, _core.RiseOptions, {}),
    (cuxplain.kernel_shap, _core.KernelShapOptions, {}),
    (cuxplain.occlusion, _core.OcclusionOptions,
     {"patch_size": "patch_h", "patch_stride": "stride_h"}),
], ids=["deletion", "insertion", "mu_fidelity", "average", "stability", "rise", "kernel_shap",
        "occlusion"])
def test_keyword_defaults_are_the_cpp_defaults(function, struct, rename):
    defaults = keyword_defaults(function, skip=("layout", "explanations_layout", "num_outputs",
                                                "progress", "base_explanations"))
    options = struct()
    assert defaults, function
    for name, value in defaults.items():
        want = struct_value(getattr(options, rename.get(name, name)))
        if name == "baseline" and function is cuxplain.kernel_shap:
            assert value is None and want is None  # xplique's rule by channel count
            continue
        assert value == want or (isinstance(want, float) and np.float32(value) == want), name


def linear(weights):
    """g(x) = <w, x> per image, and its negation as a second class."""
    w = weights.reshape(-1).astype(np.float64)

    def model(x):
        s = np.asarray(x, dtype=np.float64).reshape(x.shape[0], -1) @ w
        return np.stack([s, -s], axis=1).astype(np.float32)

    return model


def test_deletion_of_a_model_reading_one_pixel_is_known():
    h, w, pixel = 5, 6, 17
    image = np.full((1, 1, h, w), 0.25, np.float32)
    image[0, 0, pixel // w, pixel % w] = 0.75

    def model(x):
        v = np.asarray(x)[:, 0, pixel // w, pixel % w]
        return np.stack([v, 2 * v], axis=1).astype(np.float32)

    explanation = np.arange(h * w, 0, -1, dtype=np.float32).reshape(1, h, w)
    explanation[0, pixel // w, pixel % w] = h * w - 8.5  # 9 pixels above it
    counts = cuxplain.causal_step_counts(h * w)
    assert counts == [0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30]
    curves, aucs = cuxplain.deletion(model, image, [1], explanation, baseline=-1.0)
    want = np.array([1.5 if c <= 9 else -2.0 for c in counts], np.float32)
    np.testing.assert_array_equal(curves[0], want)
    area = sum((counts[s + 1] - counts[s]) * (want[s] + want[s + 1]) / 60.0 for s in range(10))
    assert aucs[0] == pytest.approx(area, abs=1e-6)
    curves, _ = cuxplain.insertion(model, image, [1], explanation, baseline=-1.0)
    np.testing.assert_array_equal(curves[0], np.where(want == 1.5, -2.0, 1.5))


def test_mu_fidelity_of_a_perfect_attribution_is_one():
    rng = np.random.default_rng(3)
    images = rng.random((3, 2, 12, 12), dtype=np.float32)
    weights = rng.uniform(-1, 1, (2, 12, 12)).astype(np.float32)
    phi = images * weights  # the exact drop when pixels go to 0
    model = linear(weights)
    rho = cuxplain.mu_fidelity(model, images, 0, phi, grid_size=6, nb_samples=80)
    np.testing.assert_array_equal(rho, np.ones(3, np.float32))
    rho = cuxplain.mu_fidelity(model, images, 0, -phi, grid_size=6, nb_samples=80)
    np.testing.assert_array_equal(rho, -np.ones(3, np.float32))
    # The NHWC layout of the same images and maps gives the same answer.
    rho = cuxplain.mu_fidelity(lambda x: model(np.ascontiguousarray(x.transpose(0, 3, 1, 2))),
                               np.ascontiguousarray(images.transpose(0, 2, 3, 1)), 0,
                               np.ascontiguousarray(phi.transpose(0, 2, 3, 1)), layout="nhwc",
                               grid_size=6, nb_samples=80)
    np.testing.assert_array_equal(rho, np.ones(3, np.float32))


def test_complexity_and_sparseness_are_xpliques_formulas():
    rng = np.random.default_rng(5)
    maps = rng.uniform(-1, 1, (4, 7, 9)).astype(np.float32)
    x = np.abs(maps).reshape(4, -1).astype(np.float64)
    p = x / (x.sum(axis=1, keepdims=True) + 1e-8)
    entropy = -(p * np.log(p + 1e-8)).sum(axis=1)
    s = np.sort(p, axis=1)
    n = s.shape[1]
    gini = 2 * (s * np.arange(1, n + 1)).sum(axis=1) / (n * s.sum(axis=1) + 1e-8) - (n + 1) / n
    np.testing.assert_allclose(cuxplain.complexity(maps), entropy, rtol=1e-6)
    np.testing.assert_allclose(cuxplain.sparseness(maps), gini, rtol=1e-5, atol=1e-7)


def test_occlusion_of_a_linear_model_is_the_weights_times_the_change():
    rng = np.random.default_rng(7)
    images = rng.random((2, 3, 8, 7), dtype=np.float32)
    weights = rng.uniform(-1, 1, (3, 8, 7)).astype(np.float32)
    maps = cuxplain.occlusion(linear(weights), images, [0, 1], patch_size=1, patch_stride=1,
                              occlusion_value=0.2)
    want = (weights * (images - 0.2)).sum(axis=1)
    want[1] *= -1
    np.testing.assert_allclose(maps, want, rtol=1e-5, atol=1e-6)
    assert maps.shape == (2, 8, 7)


def test_kernel_shap_recovers_the_shapley_values_of_a_cell_additive_model():
    if not _core.kernel_shap_available():
        pytest.skip("this cuxplain has no LAPACK: kernel_shap is not available")
    rng = np.random.default_rng(9)
    images = rng.random((2, 1, 12, 12), dtype=np.float32)
    a = rng.uniform(-2, 2, 16)

    def cell_means(x):
        return np.asarray(x, np.float64).reshape(-1, 4, 3, 4, 3).mean(axis=(2, 4)).reshape(-1, 16)

    def model(x):
        return (cell_means(x) @ a)[:, None].astype(np.float32)

    scores = cuxplain.kernel_shap(model, images, 0, grid_size=4, nb_samples=300)
    np.testing.assert_allclose(scores.reshape(2, 16), a * cell_means(images), atol=1e-5)


def test_rise_maps_are_finite_and_brighter_where_the_model_reads():
    images = np.ones((1, 1, 14, 14), np.float32)

    def model(x):
        v = np.asarray(x)[:, 0, 2:6, 8:12].mean(axis=(1, 2))
        return v[:, None].astype(np.float32)

    maps = cuxplain.rise(model, images, 0, nb_samples=2000, grid_size=4)
    assert maps.shape == (1, 14, 14) and np.isfinite(maps).all()
    assert maps[0, 2:6, 8:12].mean() > maps[0, 10:, :4].mean() + 0.05


def test_average_stability_runs_the_explainer_callback():
    rng = np.random.default_rng(11)
    images = rng.random((2, 1, 6, 6), dtype=np.float32)
    calls = []

    def explainer(x, targets):
        calls.append((x.shape[0], list(targets)))
        return (np.asarray(x)[:, 0] ** 2).astype(np.float32)

    d = cuxplain.average_stability(explainer, images, [3, 5], nb_samples=5, batch_size=2)
    assert d.shape == (2,) and (d > 0).all()
    assert max(n for n, _ in calls) <= 2
    assert ([5, 5] in [t for _, t in calls]) and ([3] in [t for _, t in calls])
    # An explainer that ignores its input is perfectly stable.
    flat = cuxplain.average_stability(lambda x, t: np.ones((x.shape[0], 6, 6), np.float32),
                                      images, 0, nb_samples=3)
    np.testing.assert_array_equal(flat, np.zeros(2, np.float32))


def test_errors_name_the_argument():
    images = np.ones((1, 1, 8, 8), np.float32)
    maps = np.ones((1, 8, 8), np.float32)

    def model(x):
        return np.zeros((x.shape[0], 2), np.float32)

    with pytest.raises(cuxplain.Error, match="options.steps must be >= 1, got 0"):
        cuxplain.deletion(model, images, 0, maps, steps=0)
    with pytest.raises(cuxplain.ArgumentError, match="convention must be one of"):
        cuxplain.insertion(model, images, 0, maps, convention="numpy")
    with pytest.raises(cuxplain.Error, match="explanations are 4 x 8 but the images 8 x 8"):
        cuxplain.mu_fidelity(model, images, 0, np.ones((1, 4, 8), np.float32), grid_size=4)

    def raising(x):
        raise KeyError("from the model")

    with pytest.raises(KeyError, match="from the model"):
        cuxplain.rise(raising, images, 0, nb_samples=10, grid_size=2, num_outputs=2)
    assert "patch_size" in inspect.signature(cuxplain.occlusion).parameters
