"""CRAFT and NMF from Python: properties the C++ API documents, and the
callable path (Python g and h) equal to the network path bit for bit."""

import numpy as np
import pytest

import cuxplain
from cuxplain import craft

from conftest import MODEL, random_images

LAYER = "/features/features.7/MaxPool_output_0"


@pytest.fixture(scope="module")
def split():
    if not cuxplain.nn.onnx_available():
        pytest.skip("this cuxplain was built without ONNX support (libonnx-dev)")
    g, h = cuxplain.nn.load_onnx_split(MODEL, LAYER)
    return g, h


@pytest.fixture(scope="module")
def images():
    return random_images(3, 1, 28, 28, seed=41)


OPTIONS = dict(patch_size=10, rank=4, nb_design=8, batch_size=16)


def test_onnx_tensors_list_the_layer(split):
    tensors = cuxplain.nn.onnx_tensors(MODEL)
    names = [t[0] for t in tensors]
    assert LAYER in names
    g, h = split
    assert dict((n, s) for n, s, _ in tensors)[LAYER] == g.output_shape == h.input_shape
    assert tensors[-1][2] or any(t[2] for t in tensors)


def test_python_callables_give_the_networks_results(split, images):
    g, h = split
    direct = craft.SplitModel(g, h)
    python = craft.SplitModel(lambda x: g(x), lambda a: h(a), activation_shape=g.output_shape,
                              num_outputs=h.num_outputs)
    a = craft.fit(direct, images, **OPTIONS)
    b = craft.fit(python, images, **OPTIONS)
    assert np.array_equal(a.W, b.W) and np.array_equal(a.U, b.U)
    assert a.rank == 4 and a.W.shape == (4, g.output_shape[0])
    assert a.crops == 3 * a.grid.per_image() == a.U.shape[0]
    imp_a = craft.concept_importance(direct, a, images, [9, 9, 1], **OPTIONS)
    imp_b = craft.concept_importance(python, a.W, images, [9, 9, 1], **OPTIONS)
    assert np.array_equal(imp_a, imp_b) and imp_a.shape == (4,) and np.all(imp_a >= -1e-6)
    assert np.array_equal(craft.concept_maps(direct, a, images, **OPTIONS),
                          craft.concept_maps(python, a, images, **OPTIONS))


def test_concepts_properties(split, images):
    g, h = split
    model = craft.SplitModel(g, h)
    concepts = craft.fit(model, images, **OPTIONS)
    W, U = concepts.W, concepts.U
    assert np.all(W >= 0) and np.all(U >= 0) and np.linalg.norm(W) > 0
    # top_crops: the largest U[:, c], ties to the lower id.
    for c in range(concepts.rank):
        want = np.argsort(-U[:, c], kind="stable")[:5].tolist()
        assert craft.top_crops(concepts, c, 5) == want
    # concept_maps = concept_coefficients resized bicubically (as documented).
    coefficients = craft.concept_coefficients(model, concepts, images, **OPTIONS)
    n, r, hh, ww = coefficients.shape
    assert (n, r, hh, ww) == (3, 4) + g.output_shape[1:]
    maps = craft.concept_maps(model, concepts, images, **OPTIONS)
    resized = cuxplain.upsample(coefficients.reshape(n * r, hh, ww), (28, 28), "bicubic")
    assert np.array_equal(maps, resized.reshape(n, r, 28, 28))
    mean, per_image = craft.concept_importance(model, concepts, images, [0, 3, 9],
                                               per_image=True, **OPTIONS)
    np.testing.assert_allclose(mean, per_image.mean(axis=0), rtol=1e-6, atol=1e-7)


def test_subconcepts_and_crops(split, images):
    g, h = split
    early, _ = cuxplain.nn.load_onnx_split(MODEL, "/features/features.3/MaxPool_output_0")
    concepts = craft.fit(craft.SplitModel(g, h), images, **OPTIONS)
    sub = craft.fit_subconcepts(craft.SplitModel(early), images, concepts, 1, 12,
                                **dict(OPTIONS, rank=3))
    assert sub.crop_ids == craft.top_crops(concepts, 1, 12)
    assert sub.concepts.rank == 3 and sub.concepts.U.shape == (12, 3)
    grid = craft.crop_grid(28, 28, 10)
    assert (grid.patch, grid.stride, grid.rows, grid.cols) == (10, 8, 3, 3)
    crops = craft.extract_crops(images, 10, 0, 2)
    assert crops.shape == (2, 1, 28, 28)


def test_nmf_recovers_an_exact_factorization():
    rng = np.random.default_rng(4)
    U0 = rng.random((60, 3)).astype(np.float32)
    W0 = rng.random((3, 20)).astype(np.float32)
    A = U0 @ W0
    U, W, result = cuxplain.nmf.fit(A, 3, max_iter=2000, tol=0)
    assert U.shape == (60, 3) and W.shape == (3, 20) and np.all(U >= 0) and np.all(W >= 0)
    assert result.iterations == 2000 and result.relative_error < 1e-2
    # The report comes from the Gram form: its error is float rounding of
    # ||A||^2 (nmf.hpp), so compare squares in units of ||A||^2.
    a64 = A.astype(np.float64)
    true = np.linalg.norm(a64 - U.astype(np.float64) @ W.astype(np.float64)) / np.linalg.norm(a64)
    assert abs(true**2 - result.relative_error**2) < 1e-6
    U2, result2 = cuxplain.nmf.transform(A, W, max_iter=500, tol=0)
    assert U2.shape == (60, 3) and np.linalg.norm(A - U2 @ W) / np.linalg.norm(A) < 2e-2
    Ui, Wi = cuxplain.nmf.initialize(A, 3)
    Uc, Wc, rc = cuxplain.nmf.fit(A, 3, init="custom", U=Ui, W=Wi)
    Ud, Wd, rd = cuxplain.nmf.fit(A, 3)  # nndsvda: the same start
    assert np.array_equal(Uc, Ud) and np.array_equal(Wc, Wd)
    with pytest.raises(cuxplain.Error, match="negative"):
        cuxplain.nmf.fit(A - 1.0, 3)
