#!/usr/bin/env python3
"""CRAFT concepts of the embedded model: xplique 2.0's CraftTf on the Keras
twin (cut after its second MaxPool) against `cuxplain concepts`, on the same
test images of one class.

    bench/xplique/run.sh compare_craft.py [--program build/apps/cuxplain]
        [--class 9] [--images 500] [--patch 10] [--concepts 10] [--nmf-solver cd]

Both factorize the crops' spatially averaged activations into the same
number of concepts and rank them by Sobol importance. The concepts of the
two banks are paired one to one by the largest total cosine (Hungarian
assignment); the script prints each pair's cosine and both importances and
ranks, the smallest cosine, the largest importance difference and whether
the two rankings agree.
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import common  # noqa: E402
import keras_twin  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--program", default=str(common.ROOT / "build" / "apps" / "cuxplain"))
    parser.add_argument("--class", dest="class_id", type=int, default=9)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--patch", type=int, default=10)
    parser.add_argument("--concepts", type=int, default=10)
    parser.add_argument("--nmf-solver", default="cd")
    parser.add_argument("--data", default=str(common.DEBIAN_DATA))
    args = parser.parse_args()

    from scipy.optimize import linear_sum_assignment
    from xplique.concepts import CraftTf

    start = time.perf_counter()
    ours, _ = common.run_cuxplain(args.program, "concepts", "--class", args.class_id, "--images",
                                  args.images, "--patch", args.patch, "--concepts", args.concepts,
                                  "--nmf-solver", args.nmf_solver, "--device", "cpu",
                                  "--data", args.data)
    cuxplain_seconds = time.perf_counter() - start
    bank_c = np.asarray(ours["bank"], dtype=np.float64)
    importance_c = np.asarray(ours["importances"], dtype=np.float64)

    images, _ = common.test_set(args.data)
    inputs = images[ours["image_indices"]].astype(np.float32)[:, :, :, None] / np.float32(255.0)
    model, g, h = keras_twin.build()
    print(f"twin vs ONNX on {len(inputs)} images: max |logit difference| "
          f"{keras_twin.check(model, inputs):.2e}")
    start = time.perf_counter()
    craft = CraftTf(g, h, number_of_concepts=args.concepts, batch_size=64, patch_size=args.patch)
    _, _, bank_x = craft.fit(inputs, class_id=args.class_id)
    importance_x = np.asarray(craft.estimate_importance(), dtype=np.float64)
    xplique_seconds = time.perf_counter() - start
    bank_x = np.asarray(bank_x, dtype=np.float64)

    unit = lambda b: b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-30)  # noqa: E731
    cosine = unit(bank_c) @ unit(bank_x).T
    rows, cols = linear_sum_assignment(-cosine)
    rank = lambda v: np.argsort(np.argsort(-v, kind="stable"), kind="stable") + 1  # noqa: E731
    rank_c, rank_x = rank(importance_c), rank(importance_x)
    print(f"class {args.class_id}, {len(inputs)} images, patch {args.patch}, {args.concepts} concepts, "
          f"cuxplain --nmf-solver {args.nmf_solver}: cuxplain {cuxplain_seconds:.1f} s (program, "
          f"end to end), xplique {xplique_seconds:.1f} s (fit + importance)")
    print("cuxplain  xplique  cosine  importance (cuxplain / xplique)  rank (cuxplain / xplique)")
    for c, x in sorted(zip(rows, cols), key=lambda p: rank_c[p[0]]):
        print(f"{c:8d} {x:8d}  {cosine[c, x]:6.4f}  {importance_c[c]:8.4f} / {importance_x[x]:8.4f}"
              f"              {rank_c[c]:2d} / {rank_x[x]:2d}")
    paired = list(zip(rows, cols))
    same_ranking = all(rank_c[c] == rank_x[x] for c, x in paired)
    print(f"smallest cosine {min(cosine[c, x] for c, x in paired):.4f}; largest importance "
          f"difference {max(abs(importance_c[c] - importance_x[x]) for c, x in paired):.4f}; "
          f"rankings {'agree' if same_ranking else 'differ'}")
    print(f"cuxplain ranking {list(map(int, np.argsort(-importance_c, kind='stable')))}; "
          f"xplique ranking {list(map(int, np.argsort(-importance_x, kind='stable')))}")


if __name__ == "__main__":
    main()
