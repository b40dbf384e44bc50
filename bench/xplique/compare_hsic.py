#!/usr/bin/env python3
"""HSIC attribution of the embedded model on the bundled sample: xplique
2.0's HsicAttributionMethod on the Keras twin against `cuxplain explain
--method hsic`, for a few targets (grid 7, 500 binary Sobol designs, the
defaults of both).

    bench/xplique/run.sh compare_hsic.py [--program build/apps/cuxplain] [--targets 0 7 9]

Prints, per target, the median of the target logits over the design (the
output kernel's width up to its sign), the largest difference between the
two maps, and both rankings of the top cells.
"""
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import common  # noqa: E402
import keras_twin  # noqa: E402


def cell_scores(explainer, image, target):
    """xplique's explain() for one image, stopped before it resizes the
    grid of scores to the image: (grid x grid scores, outputs on the design)."""
    import tensorflow as tf
    from xplique.commons import batch_tensor

    perturbator = explainer.perturbation_function(image)
    input_shape = (image.shape[0], image.shape[1])
    outputs = []
    for masks in batch_tensor(explainer.masks, explainer.batch_size):
        batch_x, batch_y = explainer._batch_perturbations(masks, perturbator, target, input_shape)
        outputs.append(explainer.inference_function(explainer.model, batch_x, batch_y))
    outputs = tf.concat(outputs, axis=0)
    return explainer.estimator(explainer.masks, outputs, explainer.nb_design).numpy(), outputs.numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--program", default=str(common.ROOT / "build" / "apps" / "cuxplain"))
    parser.add_argument("--targets", type=int, nargs="+", default=[0, 7, 9])
    parser.add_argument("--grid", type=int, default=7)
    parser.add_argument("--nb-design", type=int, default=500)
    args = parser.parse_args()

    import tensorflow as tf
    from xplique.attributions import HsicAttributionMethod

    model, _, _ = keras_twin.build()
    image = common.read_png_gray(common.SAMPLE)[None, :, :, None]
    print(f"twin vs ONNX on the sample: max |logit difference| {keras_twin.check(model, image):.2e}")
    explainer = HsicAttributionMethod(model, grid_size=args.grid, nb_design=args.nb_design)
    for target in args.targets:
        ours, _ = common.run_cuxplain(args.program, "explain", "--device", "cpu", "--method", "hsic",
                                      "--target", target, "--grid-size", args.grid,
                                      "--nb-design", args.nb_design)
        cuxplain_map = np.asarray(ours["methods"][0]["scores"], dtype=np.float64)
        xplique_cells, outputs = cell_scores(explainer, image[0], tf.one_hot(target, 10))
        xplique_cells = np.asarray(xplique_cells, dtype=np.float64).reshape(args.grid, args.grid)
        print(f"target {target}: median of the {args.nb_design} target logits "
              f"{np.median(outputs):.4f}")
        diff = np.max(np.abs(cuxplain_map - xplique_cells))
        top = lambda m: [int(i) for i in np.argsort(-m.ravel(), kind="stable")[:6]]  # noqa: E731
        print(f"target {target}: max |cuxplain - xplique| = {diff:.3g} (largest score "
              f"{np.max(np.abs(xplique_cells)):.3g}); top cells cuxplain {top(cuxplain_map)}, "
              f"xplique {top(xplique_cells)}")


if __name__ == "__main__":
    main()
