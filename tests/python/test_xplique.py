"""cuxplain.xplique against its formula and against xplique 2.0.2.

xplique 2.0.2's GSABaseAttributionMethod.explain (gsa_attribution_method.py)
returns, for inputs (N, H, W, C) and one-hot targets,

    stack_i( tf.image.resize(scores_i (g, g, nb_channels), (H, W), method="bicubic") )

with scores_i the estimator's grid for image i; so explain() here must
equal upsample(<cuxplain scores>[..., None], (H, W), "bicubic_tensorflow")
bit for bit, and upsample's bicubic_tensorflow must give
tf.image.resize's bits (tests/data/tf_resize_bicubic.txt, written by
TensorFlow 2.20 with make_tf_resize_fixtures.py)."""

import inspect

import numpy as np
import pytest

import cuxplain
from cuxplain.xplique import HsicAttributionMethod, SobolAttributionMethod

from conftest import DATA, random_images


def tf_resize_cases():
    lines = (DATA / "tf_resize_bicubic.txt").read_text().splitlines()
    cases = []
    for i, line in enumerate(lines):
        if line.startswith("case "):
            in_h, in_w, out_h, out_w, c = (int(v) for v in line.split()[1:])
            x = np.array(lines[i + 1].split(), dtype=np.float32).reshape(1, in_h, in_w, c)
            y = np.array(lines[i + 2].split(), dtype=np.float32).reshape(1, out_h, out_w, c)
            cases.append((line, x, y))
    assert len(cases) >= 10
    return cases


@pytest.mark.parametrize("name,x,want", tf_resize_cases(), ids=lambda v: None)
def test_upsample_bicubic_tensorflow_gives_tf_image_resizes_bits(name, x, want):
    got = cuxplain.upsample(x, want.shape[1:3], method="bicubic_tensorflow")
    assert got.shape == want.shape and got.dtype == np.float32
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), name
    if x.shape[3] == 1:  # the (n, gh, gw) form
        assert np.array_equal(cuxplain.upsample(x[..., 0], want.shape[1:3],
                                                method="bicubic_tensorflow"), want[..., 0])


class Linear:
    """A channels-last NumPy classifier."""

    def __init__(self, shape, k, seed):
        self.W = np.random.default_rng(seed).normal(size=(int(np.prod(shape)), k))

    def __call__(self, x):
        return (x.reshape(len(x), -1).astype(np.float64) @ self.W).astype(np.float32)


INPUTS = random_images(3, 3, 20, 16, seed=31, layout="nhwc")
MODEL = Linear((20, 16, 3), 5, seed=32)
ONE_HOT = np.eye(5, dtype=np.float32)[[4, 0, 2]]


def expected(scores):
    return cuxplain.upsample(scores, (20, 16), method="bicubic_tensorflow")


def test_sobol_explain_is_the_scores_resized_as_xplique_resizes_them():
    got = SobolAttributionMethod(MODEL, grid_size=4, nb_design=16).explain(INPUTS, ONE_HOT)
    scores = cuxplain.sobol_attribution(MODEL, INPUTS, [4, 0, 2], layout="nhwc", grid_size=4,
                                        nb_design=16, skip=1)
    assert got.shape == (3, 20, 16, 1) and got.dtype == np.float32
    assert np.array_equal(got, expected(scores[..., None]))
    assert np.linalg.norm(got) > 0


def test_sobol_per_channel_masks_with_nb_channels():
    got = SobolAttributionMethod(MODEL, grid_size=3, nb_design=8, nb_channels=3).explain(
        INPUTS, ONE_HOT)
    scores = cuxplain.sobol_attribution(MODEL, INPUTS, [4, 0, 2], layout="nhwc", grid_size=3,
                                        nb_design=8, per_channel=True)
    assert got.shape == (3, 20, 16, 3)
    assert np.array_equal(got, expected(scores))


def test_hsic_explain_is_the_scores_resized_as_xplique_resizes_them():
    got = HsicAttributionMethod(MODEL, grid_size=4, nb_design=64).explain(INPUTS, [4, 0, 2])
    scores = cuxplain.hsic_attribution(MODEL, INPUTS, [4, 0, 2], layout="nhwc", grid_size=4,
                                       nb_design=64)
    assert got.shape == (3, 20, 16, 1)
    assert np.array_equal(got, expected(scores[..., None]))


class HaltonSequenceRS:  # named as xplique's class: matched by name
    pass


class GlenEstimator:
    pass


def blurring(x):  # xplique's perturbation function of that name
    return x


def test_xplique_objects_and_names_map_to_the_same_design():
    got = SobolAttributionMethod(MODEL, grid_size=4, nb_design=16, sampler=HaltonSequenceRS(),
                                 estimator=GlenEstimator(), perturbation_function=blurring,
                                 batch_size=None).explain(INPUTS, ONE_HOT)
    scores = cuxplain.sobol_attribution(MODEL, INPUTS, [4, 0, 2], layout="nhwc", grid_size=4,
                                        nb_design=16, sampler="halton", skip=0,
                                        estimator="glen", perturbation="blurring")
    assert np.array_equal(got, expected(scores[..., None]))


# xplique 2.0.2's signatures (sobol_attribution_method.py,
# hsic_attribution_method.py): name, default, keyword-only.
XPLIQUE_SOBOL = [("model", None, False), ("grid_size", 8, False), ("nb_design", 32, False),
                 ("sampler", None, False), ("estimator", None, False),
                 ("perturbation_function", "inpainting", False), ("batch_size", 256, False),
                 ("operator", None, False), ("nb_channels", 1, True)]
XPLIQUE_HSIC = [("model", None, False), ("grid_size", 8, False), ("nb_design", 500, False),
                ("sampler", None, False), ("estimator", None, False),
                ("perturbation_function", "inpainting", False), ("batch_size", 256, False),
                ("estimator_batch_size", None, False), ("operator", None, False),
                ("nb_channels", 1, True)]


@pytest.mark.parametrize("cls,want", [(SobolAttributionMethod, XPLIQUE_SOBOL),
                                      (HsicAttributionMethod, XPLIQUE_HSIC)])
def test_constructors_take_xpliques_arguments_and_defaults(cls, want):
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    got = [(p.name, None if p.default is inspect.Parameter.empty else p.default,
            p.kind is inspect.Parameter.KEYWORD_ONLY) for p in params]
    assert got == want
    explain = list(inspect.signature(cls.explain).parameters)
    assert explain == ["self", "inputs", "targets", "verbose"]


@pytest.mark.parametrize("make,message", [
    (lambda: SobolAttributionMethod(MODEL, operator=lambda f, x, y: f(x)), "operator must be"),
    (lambda: SobolAttributionMethod(MODEL, perturbation_function=lambda x: x),
     "custom perturbation functions are not supported"),
    (lambda: SobolAttributionMethod(MODEL, sampler=object()), "sampler must be one of"),
    (lambda: HsicAttributionMethod(MODEL, nb_channels=3), "nb_channels must be 1 for HSIC"),
], ids=["operator", "perturbation", "sampler", "hsic-channels"])
def test_what_is_not_supported_is_refused_by_name(make, message):
    with pytest.raises(cuxplain.ArgumentError, match=message):
        make()


def test_soft_targets_and_channel_less_inputs_are_refused():
    explainer = SobolAttributionMethod(MODEL, grid_size=4, nb_design=8)
    with pytest.raises(cuxplain.ArgumentError, match="targets row 0 is not one-hot"):
        explainer.explain(INPUTS, np.full((3, 5), 0.2, np.float32))
    with pytest.raises(cuxplain.ArgumentError, match=r"inputs must be \(N, H, W, C\)"):
        explainer.explain(INPUTS[..., 0], ONE_HOT)


def test_against_xplique_itself():
    """Where xplique 2.0.2 and TensorFlow are installed (not in CI): the same
    Keras-free model, inputs and targets through both, to float rounding
    (xplique runs its estimator in float32 TensorFlow ops)."""
    xplique = pytest.importorskip("xplique", reason="xplique 2.0.2 and TensorFlow are not "
                                  "installed (bench/xplique/run.sh makes a venv with them)")
    tf = pytest.importorskip("tensorflow")
    from xplique.attributions import HsicAttributionMethod as XHsic
    from xplique.attributions import SobolAttributionMethod as XSobol

    assert xplique.__version__ == "2.0.2"
    weights = tf.constant(MODEL.W, dtype=tf.float32)

    def tf_model(x):
        return tf.reshape(tf.cast(x, tf.float32), (tf.shape(x)[0], -1)) @ weights

    for ours, theirs in ((SobolAttributionMethod(MODEL, grid_size=4, nb_design=16),
                          XSobol(tf_model, grid_size=4, nb_design=16)),
                         (HsicAttributionMethod(MODEL, grid_size=4, nb_design=64),
                          XHsic(tf_model, grid_size=4, nb_design=64))):
        want = theirs.explain(INPUTS, ONE_HOT).numpy()
        got = ours.explain(INPUTS, ONE_HOT)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6 * np.abs(want).max())
