#!/usr/bin/env python3
"""The metrics and the baselines of cuxplain against xplique 2.0.2 on the
embedded model (its Keras twin) and the first N Fashion-MNIST test images.

    bench/xplique/run.sh compare_metrics.py [--program build/apps/cuxplain] [--images 20]

`cuxplain evaluate --convention xplique --save-maps` explains the images with
every method and scores the maps; then, on the same maps and targets:

- Deletion / Insertion: xplique's Deletion and Insertion(batch_size=64)
  .evaluate(maps), as they are (NumPy's default argsort, which orders tied
  pixels arbitrarily) and with np.argsort made stable (the tie order
  cuxplain's xplique convention reproduces).
- MuFidelity: xplique's MuFidelity on each image with the masks cuxplain
  draws (cuRAND's Philox stream, bench/xplique/philox.py) handed to it, per
  image; and with xplique's own random masks, as a statistical check.
- Occlusion: xplique's Occlusion maps against cuxplain's.
- RISE: xplique's Rise with cuxplain's masks and shifts handed to it (same
  numbers, so the maps should agree up to float rounding), and with its own
  random masks (the maps' correlation).
- KernelSHAP: xplique's KernelShap on the same 7 x 7 grid cells with
  cuxplain's coalitions handed to it, and with its own.

Prints one line per comparison with the largest difference found. The twin
and the ONNX model agree to about 1e-6 on the logits, which bounds what can
agree.
"""
import argparse
import json
import os
import pathlib
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import common  # noqa: E402
import keras_twin  # noqa: E402
import philox  # noqa: E402


class StableNumpy:
    """numpy, with argsort stable (kind="stable"): installed in place of
    xplique.metrics.fidelity's `np` to fix its tie order."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def argsort(a, axis=-1):
        return np.argsort(a, axis=axis, kind="stable")


def run_evaluate(program, images, out):
    cmd = [str(program), "evaluate", "--device", "cpu", "--images", str(images), "--method",
           "sobol,hsic,eva,occlusion,rise,kernelshap", "--metrics", "deletion,insertion,mufidelity",
           "--convention", "xplique", "--batch-size", "32", "--save-maps", "--no-progress",
           "--out", str(out)]
    import subprocess

    start = time.time()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    print(f"cuxplain evaluate on {images} images: {time.time() - start:.1f} s")
    return json.loads((pathlib.Path(out) / "metrics.json").read_text())


def causal(model, x, y, maps, kind, stable):
    import xplique.metrics.fidelity as fidelity
    from xplique.metrics import Deletion, Insertion

    saved = fidelity.np
    if stable:
        fidelity.np = StableNumpy()
    try:
        metric = (Deletion if kind == "deletion" else Insertion)(model, x, y, batch_size=64)
        return float(metric.evaluate(maps[..., None]))
    finally:
        fidelity.np = saved


def mufidelity_same_masks(model, x, y, maps, seed=0, grid=9, samples=200, subset=0.2):
    """Per image: xplique's MuFidelity with cuxplain's masks (xplique
    convention, batch_size 64: one image per draw group, group = image)."""
    import tensorflow as tf
    from xplique.metrics import MuFidelity

    class Seeded(MuFidelity):
        image = 0
        done = 0

        def _perturb_samples(self, inputs, nb_perturbations):
            cells = grid * grid
            j = np.arange(self.done, self.done + nb_perturbations)
            positions = (self.image * samples + j[:, None]) * cells + np.arange(cells)[None, :]
            keep = (philox.uniform(seed, positions) > np.float32(subset)).astype(np.float32)
            self.done += nb_perturbations
            masks = tf.reshape(tf.constant(keep), (nb_perturbations, grid, grid, 1))
            masks = tf.image.resize(masks, self.inputs.shape[1:-1], method="nearest")
            masks = tf.repeat(masks[tf.newaxis], repeats=inputs.shape[0], axis=0)
            perturbed = tf.repeat(inputs[:, tf.newaxis], nb_perturbations, axis=1)
            perturbed = perturbed * masks + (1.0 - masks) * self.baseline_mode
            return tf.reshape(perturbed, (-1, *self.inputs.shape[1:])), masks

    out = []
    for i in range(len(x)):
        metric = Seeded(model, x[i:i + 1], y[i:i + 1], batch_size=64, grid_size=grid,
                        nb_samples=samples, subset_percent=subset)
        metric.image = i
        out.append(metric.evaluate(maps[i:i + 1]))
    return np.array(out)


def mufidelity_own(model, x, y, maps):
    from xplique.metrics import MuFidelity

    return float(MuFidelity(model, x, y, batch_size=64).evaluate(maps))


def rise_same_masks(model, x, y, seed=0, samples=4000, grid=7, p=0.5, batch=32):
    """xplique's Rise with cuxplain's binary cells and its xplique-convention
    shifts (one per image and batch of `batch` masks)."""
    import tensorflow as tf
    import xplique.attributions.rise as rise_module
    from xplique.attributions import Rise

    cells = grid * grid
    positions = np.arange(samples)[:, None] * cells + np.arange(cells)[None, :]
    binary = (philox.uniform(seed, positions) < np.float32(p)).reshape(samples, grid, grid, 1)
    h, w = x.shape[1], x.shape[2]
    canvas = (int(h * (1.0 + 1.0 / grid)), int(w * (1.0 + 1.0 / grid)))
    batches = (samples + batch - 1) // batch
    state = {"image": 0, "batch": 0}

    def get_masks(input_shape, nb_samples, grid_size, preservation_probability):
        return tf.constant(binary)

    def apply_masks(single_input, binary_masks, mask_value=0.0):
        draw = state["image"] * batches + state["batch"]
        dy, dx = (int(philox.uniform_below(seed, [philox.REGION_SHIFTS + 2 * draw + a],
                                           canvas[a] - (h, w)[a] + 1)[0]) for a in (0, 1))
        state["batch"] += 1
        if state["batch"] == batches:
            state["batch"] = 0
            state["image"] += 1
        up = tf.image.resize(tf.cast(binary_masks, tf.float32), canvas)
        masks = up[:, dy:dy + h, dx:dx + w, :]
        masked = masks * tf.expand_dims(single_input, 0) + (1 - masks) * mask_value
        return masked, masks

    saved = (rise_module.Rise._get_masks, rise_module.Rise._apply_masks)
    rise_module.Rise._get_masks = staticmethod(get_masks)
    rise_module.Rise._apply_masks = staticmethod(apply_masks)
    try:
        return Rise(model, batch_size=batch, nb_samples=samples, grid_size=grid).explain(x, y)
    finally:
        rise_module.Rise._get_masks, rise_module.Rise._apply_masks = saved


def grid_mapping(h, w, grid):
    """Pixel -> cell as cuxplain's nearest_exact cells (TensorFlow's nearest)."""
    ys = np.minimum(((2 * np.arange(h) + 1) * grid) // (2 * h), grid - 1)
    xs = np.minimum(((2 * np.arange(w) + 1) * grid) // (2 * w), grid - 1)
    return (ys[:, None] * grid + xs[None, :]).astype(np.int32)


def kernel_shap(model, x, y, seed=0, samples=800, grid=7, same=True):
    import tensorflow as tf
    from xplique.attributions import KernelShap

    mapping = grid_mapping(x.shape[1], x.shape[2], grid)
    d = grid * grid
    explainer = KernelShap(model, batch_size=64, nb_samples=samples,
                           map_to_interpret_space=lambda inp: tf.constant(mapping))
    if same:
        weights = np.array([(d - 1) / (k * (d - k)) for k in range(1, d)])
        cdf = np.cumsum(weights / weights.sum())
        cdf[-1] = 1.0
        state = {"image": 0}

        def coalitions(num_features, nb_samples):
            i = state["image"]
            state["image"] += 1
            u = philox.uniform(seed, philox.REGION_SUBSET_SIZES + i * nb_samples +
                               np.arange(nb_samples)).astype(np.float64)
            sizes = np.searchsorted(cdf, u, side="left") + 1
            keys = philox.bits(seed, (i * nb_samples + np.arange(nb_samples))[:, None] * d +
                               np.arange(d)[None, :]).astype(np.int64)
            # The `size` largest keys; ties to the lower cell.
            order = np.lexsort((np.arange(d)[None, :].repeat(nb_samples, 0), -keys), axis=1)
            z = np.zeros((nb_samples, d), np.int32)
            for j in range(nb_samples):
                z[j, order[j, :sizes[j]]] = 1
            return tf.constant(z)

        explainer.pertub_func = coalitions
    return explainer.explain(x, y)


def report(name, ours, theirs):
    diff = np.max(np.abs(ours - theirs))
    scale = np.max(np.abs(theirs))
    print(f"  {name}: max |cuxplain - xplique| = {diff:.3g} (largest value {scale:.3g}, "
          f"relative {diff / scale:.2g})")
    return diff / scale


def correlation(a, b):
    a = a.reshape(len(a), -1)
    b = b.reshape(len(b), -1)
    return np.mean([np.corrcoef(a[i], b[i])[0, 1] for i in range(len(a))])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--program", default=str(common.ROOT / "build" / "apps" / "cuxplain"))
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--out", default="/tmp/cuxplain-compare-metrics")
    args = parser.parse_args()

    import tensorflow as tf

    ours = run_evaluate(args.program, args.images, args.out)
    model, _, _ = keras_twin.build()
    images, _ = common.test_set()
    x = (images[:args.images].astype(np.float32) / np.float32(255.0))[..., None]
    print(f"twin vs ONNX on the images: max |logit difference| {keras_twin.check(model, x):.2e}")
    targets = np.array(ours["targets"])
    y = tf.one_hot(targets, 10).numpy()
    methods = {m["method"]: m for m in ours["methods"]}

    print("Deletion / Insertion (cuxplain's xplique convention: the mean of the per-image "
          "areas; xplique: the area of the mean curve):")
    for name, m in methods.items():
        maps = np.asarray(m["maps"], np.float32).reshape(-1, x.shape[1], x.shape[2])
        for kind in ("deletion", "insertion"):
            value = m["metrics"][kind]["mean"]
            stable = causal(model, x, y, maps, kind, stable=True)
            default = causal(model, x, y, maps, kind, stable=False)
            print(f"  {name:10s} {kind:9s} cuxplain {value:.6f}  xplique (stable argsort) "
                  f"{stable:.6f} (diff {abs(value - stable):.2g})  xplique (its argsort) "
                  f"{default:.6f} (diff {abs(value - default):.2g})")

    print("MuFidelity:")
    for name, m in methods.items():
        maps = np.asarray(m["maps"], np.float32).reshape(-1, x.shape[1], x.shape[2])
        values = np.asarray(m["metrics"]["mufidelity"]["values"])
        same = mufidelity_same_masks(model, x, y, maps[..., None])
        own = mufidelity_own(model, x, y, maps[..., None])
        print(f"  {name:10s} cuxplain {values.mean():.4f}; xplique with cuxplain's masks "
              f"{same.mean():.4f} (largest per-image difference {np.max(np.abs(values - same)):.2g},"
              f" {int(np.sum(np.abs(values - same) > 1e-6))} of {len(values)} images differ); "
              f"xplique's own masks {own:.4f}")

    print("Baselines (the maps):")
    occlusion_ours = np.asarray(methods["occlusion"]["maps"], np.float32).reshape(x.shape[:3])
    from xplique.attributions import Occlusion

    occlusion_theirs = Occlusion(model, batch_size=32, patch_size=3, patch_stride=3).explain(
        x, y).numpy()[..., 0]
    report("occlusion", occlusion_ours, occlusion_theirs)
    rise_ours = np.asarray(methods["rise"]["maps"], np.float32).reshape(x.shape[:3])
    start = time.time()
    rise_same = rise_same_masks(model, x, y).numpy()[..., 0]
    report(f"rise, cuxplain's masks and shifts ({time.time() - start:.0f} s in xplique)",
           rise_ours, rise_same)
    from xplique.attributions import Rise

    rise_own = Rise(model, batch_size=32).explain(x, y).numpy()[..., 0]
    print(f"  rise, xplique's own masks: mean per-image correlation with cuxplain's maps "
          f"{correlation(rise_ours, rise_own):.4f} (two independent 4000-mask estimates of "
          f"one map; xplique against itself with another draw: "
          f"{correlation(rise_own, Rise(model, batch_size=32).explain(x, y).numpy()[..., 0]):.4f})")
    shap_ours = np.asarray(methods["kernelshap"]["maps"], np.float32).reshape(x.shape[:3])
    shap_same = kernel_shap(model, x, y, same=True).numpy()[..., 0]
    report("kernelshap, cuxplain's coalitions", shap_ours, shap_same)
    shap_own = kernel_shap(model, x, y, same=False).numpy()[..., 0]
    print(f"  kernelshap, xplique's own coalitions: mean per-image correlation "
          f"{correlation(shap_ours, shap_own):.4f}")


if __name__ == "__main__":
    main()
