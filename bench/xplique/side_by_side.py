#!/usr/bin/env python3
"""cuxplain beside xplique 2.0 and scikit-learn, in one run on one machine:
the same Sobol and HSIC explanations of the embedded model on the bundled
sample (xplique on the Keras twin, TensorFlow on the CPU), and the same NMF
problems, with the ratios.

    bench/xplique/run.sh side_by_side.py [--program build/apps/cuxplain]
        [--bench-nmf build/bench/bench_nmf] [--repeats 3] [--out FILE.md]

Times, per explanation:
  cold   xplique: building the explainer and its first explain() (graph
         tracing included); cuxplain: the whole `cuxplain explain` process
         (start, model load, the method, the PNG and JSON it writes)
  warm   xplique: the best of --repeats further explain() calls; cuxplain:
         the best of --repeats runs of the method's own time (the
         "seconds" cuxplain reports in scores.json, model already loaded)
The ratio is xplique / cuxplain (above 1: cuxplain is faster). NMF: the
iterations per second, time to a target error and default fit of
bench/sklearn_nmf.py against bench_nmf's host numbers on the 2000 x 2048,
rank 25 problem (both solvers). Writes the report to stdout and, with
--out, to a markdown file with the machine's description.
"""
import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import common  # noqa: E402
import keras_twin  # noqa: E402

ROOT = common.ROOT


def machine():
    lines = [f"python {platform.python_version()}, {platform.platform()}"]
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        keep = ("Model name", "CPU(s):", "Thread(s) per core", "L2 cache", "L3 cache")
        lines += [line.strip() for line in lscpu.splitlines() if line.startswith(keep)]
    except (OSError, subprocess.CalledProcessError):
        pass
    return lines


def cuxplain_times(program, method, grid, nb_design, repeats):
    """(cold: process wall seconds, warm: best method seconds, scores)."""
    cold = None
    warm = []
    scores = None
    for _ in range(repeats + 1):
        start = time.perf_counter()
        doc, _ = common.run_cuxplain(program, "explain", "--device", "cpu", "--method", method,
                                     "--grid-size", grid, "--nb-design", nb_design, "--target", 9)
        wall = time.perf_counter() - start
        cold = wall if cold is None else cold
        warm.append(doc["methods"][0]["seconds"])
        scores = np.asarray(doc["methods"][0]["scores"], dtype=np.float64)
    return cold, min(warm[1:] or warm), scores


def xplique_times(make, image, target, repeats):
    """(cold: construction + first explain, warm: best later explain)."""
    start = time.perf_counter()
    explainer = make()
    explainer.explain(image, target)
    cold = time.perf_counter() - start
    warm = []
    for _ in range(repeats):
        start = time.perf_counter()
        explainer.explain(image, target)
        warm.append(time.perf_counter() - start)
    return cold, min(warm)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--program", default=str(ROOT / "build" / "apps" / "cuxplain"))
    parser.add_argument("--bench-nmf", default=str(ROOT / "build" / "bench" / "bench_nmf"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out")
    args = parser.parse_args()

    import tensorflow as tf
    from xplique.attributions import HsicAttributionMethod, SobolAttributionMethod

    threads = os.environ.get("OMP_NUM_THREADS", "all")
    report = ["# cuxplain beside xplique 2.0 and scikit-learn", "",
              f"Run {time.strftime('%Y-%m-%d %H:%M')}, threads: {threads} (both sides).", ""]
    report += [f"- {line}" for line in machine()] + [
        f"- tensorflow {tf.__version__}, xplique {__import__('xplique').__version__}", ""]

    model, _, _ = keras_twin.build()
    image = common.read_png_gray(common.SAMPLE)[None, :, :, None]
    target = tf.one_hot([9], 10)
    cases = [("sobol", 7, 32, lambda: SobolAttributionMethod(model, grid_size=7, nb_design=32)),
             ("sobol", 14, 128, lambda: SobolAttributionMethod(model, grid_size=14, nb_design=128)),
             ("hsic", 7, 500, lambda: HsicAttributionMethod(model, grid_size=7, nb_design=500))]
    report += ["## Explanations (embedded model, bundled sample, target 9)", "",
               "| method | grid | designs | xplique cold s | cuxplain cold s | ratio | "
               "xplique warm s | cuxplain warm s | ratio |",
               "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for method, grid, designs, make in cases:
        x_cold, x_warm = xplique_times(make, image, target, args.repeats)
        c_cold, c_warm, _ = cuxplain_times(args.program, method, grid, designs, args.repeats)
        report.append(f"| {method} | {grid} | {designs} | {x_cold:.3f} | {c_cold:.3f} | "
                      f"{x_cold / c_cold:.2f} | {x_warm:.3f} | {c_warm:.3f} | "
                      f"{x_warm / c_warm:.2f} |")
        print(report[-1], flush=True)

    report += ["", "## NMF (2000 x 2048, rank 25; bench_nmf host against scikit-learn)", "",
               "```"]
    nmf_json = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"side_by_side_nmf_{os.getpid()}.json"
    subprocess.run([args.bench_nmf, "--benchmark_filter=host/2000/",
                    f"--benchmark_out={nmf_json}", "--benchmark_out_format=json"],
                   check=True, stdout=subprocess.DEVNULL)
    compare = subprocess.run([sys.executable, str(ROOT / "bench" / "sklearn_nmf.py"), "--sizes",
                              "craft", "--cuxplain-json", str(nmf_json)],
                             check=True, capture_output=True, text=True).stdout
    nmf_json.unlink()
    report += [compare.rstrip(), "```", ""]
    text = "\n".join(report) + "\n"
    print(text)
    if args.out:
        pathlib.Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
