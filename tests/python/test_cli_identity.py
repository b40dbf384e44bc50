"""The package against the cuxplain program on the same inputs, bit for bit.

The program (apps/cuxplain.cpp) calls the C++ API directly: it reads the
image, feeds the model pixel / 255 and runs the methods with a C++ lambda
around the network. Here the same pixels go through the Python package,
once with the network as the model (run by the binding without Python in
the loop) and once behind a Python callable (the GIL, DLPack views of each
batch and the copy of the scores back): every score must have the same
bits as the program's scores.json (floats written at round-trip precision
and read back with strtof). This shows the binding passes images, options,
targets, batches and outputs through unchanged; both run the same library.
"""

import numpy as np
import pytest

import cuxplain

from conftest import run_cli

# Non-default options exercise the mapping of every keyword to the C++ struct.
SOBOL_CASES = [
    ([], {}),
    (["--grid-size", "4", "--nb-design", "16", "--sampler", "halton", "--skip", "3",
      "--estimator", "homma", "--perturbation", "blurring", "--blur-size", "5",
      "--mask-interpolation", "bilinear", "--batch-size", "37", "--first-order"],
     dict(grid_size=4, nb_design=16, sampler="halton", skip=3, estimator="homma",
          perturbation="blurring", blur_size=5, mask_interpolation="bilinear", batch_size=37,
          first_order=True)),
]
HSIC_CASES = [
    ([], {}),
    (["--grid-size", "5", "--nb-design", "123", "--sampler", "lhs", "--seed", "7",
      "--hsic-kernel", "rbf", "--continuous-masks", "--hsic-width", "median_distance",
      "--perturbation", "amplitude", "--sigma", "0.5", "--batch-size", "50"],
     dict(grid_size=5, nb_design=123, sampler="lhs", seed=7, input_kernel="rbf", binary=False,
          output_width="median_distance", perturbation="amplitude", sigma=0.5, batch_size=50)),
]
EVA_CASES = [
    ([], {}),
    (["--grid-size", "4", "--epsilon", "0.1", "--no-clamp", "--mask-interpolation", "nearest",
      "--batch-size", "3"],
     dict(grid_size=4, epsilon=0.1, clamp=False, cell_mapping="nearest", batch_size=3)),
]

TARGET = 3


@pytest.fixture(scope="module")
def pixels():
    return np.random.default_rng(2024).integers(0, 256, size=(28, 28), dtype=np.uint8)


def model_input(pixels):
    # The program's to_model_input: static_cast<float>(pixel / 255.0).
    return (pixels.astype(np.float64) / 255.0).astype(np.float32).reshape(1, 1, 28, 28)


def program_scores(report, method, key="scores"):
    (entry,) = [m for m in report["methods"] if m["method"] == method]
    assert entry["target"] == TARGET
    return np.array(entry[key], dtype=np.float32)


def assert_same_bits(got, want):
    got = np.asarray(got)
    assert got.dtype == np.float32 and got.shape == want.shape
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), (
        f"max |difference| {np.max(np.abs(got - want))}")
    assert np.linalg.norm(want) > 0


@pytest.mark.parametrize("cli_args,options", SOBOL_CASES, ids=["defaults", "options"])
def test_sobol_equals_the_program_bit_for_bit(cli, tmp_path, net, pixels, cli_args, options):
    report = run_cli(cli, tmp_path, pixels, ["--method", "sobol", "--target", str(TARGET),
                                             *cli_args])
    options = dict(dict(grid_size=7), **options)  # the program's grid for 28 x 28 inputs
    x = model_input(pixels)
    for model in (net, lambda batch: net(batch)):
        result = cuxplain.sobol_attribution(model, x, [TARGET], **options)
        if options.get("first_order"):
            total, first = result
            assert_same_bits(first[0], program_scores(report, "sobol", "first_order"))
        else:
            total = result
        assert_same_bits(total[0], program_scores(report, "sobol"))


@pytest.mark.parametrize("cli_args,options", HSIC_CASES, ids=["defaults", "options"])
def test_hsic_equals_the_program_bit_for_bit(cli, tmp_path, net, pixels, cli_args, options):
    report = run_cli(cli, tmp_path, pixels, ["--method", "hsic", "--target", str(TARGET),
                                             *cli_args])
    options = dict(dict(grid_size=7), **options)
    x = model_input(pixels)
    for model in (net, lambda batch: net(batch)):
        scores = cuxplain.hsic_attribution(model, x, [TARGET], **options)
        assert_same_bits(scores[0], program_scores(report, "hsic"))


@pytest.mark.parametrize("cli_args,options", EVA_CASES, ids=["defaults", "options"])
def test_eva_equals_the_program_bit_for_bit(cli, tmp_path, net, pixels, cli_args, options):
    report = run_cli(cli, tmp_path, pixels, ["--method", "eva", "--target", str(TARGET),
                                             *cli_args])
    options = dict(dict(grid_size=7), **options)
    scores = cuxplain.eva_attribution(net, model_input(pixels), [TARGET], **options)
    assert_same_bits(scores[0], program_scores(report, "eva"))


def test_network_forward_equals_the_programs_logits(cli, tmp_path, net, pixels):
    report = run_cli(cli, tmp_path, pixels, ["--method", "eva", "--target", str(TARGET)])
    logits = np.array(report["logits"], dtype=np.float32)
    assert_same_bits(net(model_input(pixels))[0], logits)
