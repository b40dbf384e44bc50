"""NumPy models on the host backend against plainly written NumPy
references of the methods (DESIGN.md's formulas), on designs taken from
scipy's Sobol sequence as stored in tests/data (not from cuxplain)."""

import numpy as np

import cuxplain

from conftest import DATA, random_images


def scipy_sobol_d8():
    """scipy.stats.qmc.Sobol(8, scramble=False).random(1025), exactly
    (tests/data/qmc_sobol_d8_n1025.txt stores k * 2^-11)."""
    lines = [l for l in (DATA / "qmc_sobol_d8_n1025.txt").read_text().splitlines()
             if not l.startswith("#")]
    assert lines[0].split() == ["1025", "8"] and lines[2] == "scale: 11"
    values = np.array([[int(v) for v in l.split()] for l in lines[3:]], dtype=np.float64)
    return (values / 2.0**11).astype(np.float32)


class LinearModel:
    """y = flatten(x) W + b in float64, returned as float32 (n, K): a NumPy
    model whose every output is known; it also records the batches."""

    def __init__(self, size, k, seed):
        rng = np.random.default_rng(seed)
        self.W = rng.normal(size=(size, k))
        self.b = rng.normal(size=k)
        self.calls = 0

    def __call__(self, x):
        assert isinstance(x, np.ndarray) and x.dtype == np.float32
        self.calls += 1
        return (x.reshape(len(x), -1).astype(np.float64) @ self.W + self.b).astype(np.float32)


def upsample_nearest_exact(masks, g, h, w):
    """masks (N, g, g) -> (N, h, w): src = floor((dst + 0.5) g / size)."""
    ys = np.minimum(((np.arange(h) + 0.5) * g / h).astype(int), g - 1)
    xs = np.minimum(((np.arange(w) + 0.5) * g / w).astype(int), g - 1)
    return masks[:, ys][:, :, xs]


def test_sobol_jansen_of_a_numpy_model_equals_the_reference():
    # grid 2 (d = 4): one 8-dimensional sequence gives A (4 columns) and B
    # (4 columns), skipping its first point as xplique's sampler does.
    g, n_design, h, w, c = 2, 32, 8, 6, 3
    seq = scipy_sobol_d8()[1:1 + n_design]
    d = g * g
    a_masks, b_masks = seq[:, :d], seq[:, d:]
    images = random_images(2, c, h, w, seed=5)
    model = LinearModel(c * h * w, 4, seed=6)
    targets = [1, 3]
    scores = cuxplain.sobol_attribution(model, images, targets, grid_size=g, nb_design=n_design)
    assert model.calls > 1
    for i, (image, target) in enumerate(zip(images, targets)):
        def outputs(masks):
            up = upsample_nearest_exact(masks.reshape(-1, g, g), g, h, w)[:, None]  # (N,1,h,w)
            perturbed = (image[None] * up + (1.0 - up) * 0.0).astype(np.float32)
            return model(perturbed)[:, target].astype(np.float64)

        y_a = outputs(a_masks)
        var = np.var(y_a, ddof=1)
        want = np.empty(d)
        for cell in range(d):
            c_masks = a_masks.copy()
            c_masks[:, cell] = b_masks[:, cell]
            want[cell] = np.sum((y_a - outputs(c_masks)) ** 2) / (2 * n_design * var)
        np.testing.assert_allclose(scores[i].ravel(), want, rtol=1e-6, atol=0)
        assert np.linalg.norm(want) > 0


def test_hsic_of_a_numpy_model_equals_the_reference():
    # score_i = sum_jl k_i(x_j, x_l) (H L H)_jl / N, binary kernel
    # 0.5 - (x - x')^2, L the RBF Gram of the target outputs with width
    # |median(y)|, masks = Sobol points (skip 1) rounded half to even.
    g, n_design, h, w, c = 2, 64, 8, 8, 1
    masks = np.round(scipy_sobol_d8()[1:1 + n_design, :g * g]).astype(np.float32)
    images = random_images(1, c, h, w, seed=7)
    model = LinearModel(c * h * w, 3, seed=8)
    scores = cuxplain.hsic_attribution(model, images, [2], grid_size=g, nb_design=n_design)
    up = upsample_nearest_exact(masks.reshape(-1, g, g), g, h, w)[:, None]
    y = model((images[0][None] * up).astype(np.float32))[:, 2].astype(np.float64)
    width = float(np.float32(abs(np.median(y))))
    L = np.exp(-((y[:, None] - y[None, :]) / width) ** 2 / 2)
    H = np.eye(n_design) - 1.0 / n_design
    Lc = H @ L @ H
    want = [np.sum((0.5 - (masks[:, i, None] - masks[None, :, i]) ** 2) * Lc) / n_design
            for i in range(g * g)]
    np.testing.assert_allclose(scores[0].ravel(), want, rtol=1e-5, atol=1e-7)
    assert np.linalg.norm(want) > 0


def test_nhwc_images_give_the_nchw_scores():
    # The same images in the other layout, with a model that reads them in
    # that layout: the perturbations and so the scores are the same.
    images = random_images(2, 3, 10, 12, seed=9)
    model = LinearModel(3 * 10 * 12, 5, seed=10)

    def nhwc_model(x):
        assert x.shape[1:] == (10, 12, 3)
        return model(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))

    want = cuxplain.sobol_attribution(model, images, [0, 4], grid_size=3)
    got = cuxplain.sobol_attribution(nhwc_model, np.ascontiguousarray(images.transpose(0, 2, 3, 1)),
                                     [0, 4], grid_size=3, layout="nhwc")
    assert np.array_equal(got, want)


def test_sobol_samples_are_scipys_bit_for_bit():
    np.testing.assert_array_equal(cuxplain.generate_samples("sobol", 1025, 8), scipy_sobol_d8())
    np.testing.assert_array_equal(cuxplain.generate_samples("sobol", 31, 8, skip=7),
                                  scipy_sobol_d8()[7:38])


def test_hsic_design_rounds_the_sequence_half_to_even():
    masks = cuxplain.hsic_design("sobol", 100, 8)  # skip 1 by default
    np.testing.assert_array_equal(masks, np.round(scipy_sobol_d8()[1:101]))


def test_sobol_design_masks_stack_a_b_and_the_c_blocks():
    seq = scipy_sobol_d8()[:4]
    rows = cuxplain.sobol_design_masks(seq, 4, with_b=True)
    c_blocks = []
    for i in range(4):
        c_i = seq[:, :4].copy()
        c_i[:, i] = seq[:, 4 + i]
        c_blocks.append(c_i)
    np.testing.assert_array_equal(rows, np.concatenate([seq[:, :4], seq[:, 4:], *c_blocks]))


def test_sobol_estimators_from_outputs():
    rng = np.random.default_rng(3)
    y_a = rng.normal(size=64).astype(np.float32)
    y_b = rng.normal(size=64).astype(np.float32)
    y_c = rng.normal(size=(5, 64)).astype(np.float32)
    a, b, cc = (v.astype(np.float64) for v in (y_a, y_b, y_c))
    var = np.var(a, ddof=1)
    np.testing.assert_allclose(cuxplain.sobol_total_order("jansen", y_a, y_c),
                               np.sum((a - cc) ** 2, axis=1) / (2 * 64 * var), rtol=1e-6)
    np.testing.assert_allclose(cuxplain.sobol_first_order(y_a, y_b, y_c),
                               np.mean(b * (cc - a), axis=1) / var, rtol=1e-5, atol=1e-7)
