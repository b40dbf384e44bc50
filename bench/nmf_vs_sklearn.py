#!/usr/bin/env python3
"""cuxplain's host NMF against scikit-learn's, iterations per second, in one run.

Runs bench_nmf's host iteration benchmarks of the CRAFT-size problem
(n 2000, p 2048, r 25, a fixed random start, tol 0) and scikit-learn's
NMF(init='custom', tol=0) on the same matrix (bench/sklearn_nmf.py builds
it), with the same number of threads on both sides (OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS for bench_nmf, threadpoolctl for numpy's OpenBLAS),
alternating the two for --rounds rounds. Both are timed the same way:

  per iteration   (20 - 5) / (t(20) - t(5)) from fits of 5 and 20
                  iterations: the cost of an iteration, without a fit's
                  fixed work (input checks, scikit-learn's error at the
                  start and at the end, cuxplain's pass over A)
  20-iteration fit  20 / t(20): the rate a user sees from one short fit

t is the fastest of the timed fits of that length in the round (bench_nmf
times 5 fits; scikit-learn 3). Prints each round and the median over the
rounds; the ratio is cuxplain / scikit-learn (above 1: cuxplain faster).
--omp-wait-policy sets OMP_WAIT_POLICY for bench_nmf: cuxplain's host
backend and its OpenBLAS share libgomp's threads, which by default spin
between parallel regions; on a machine with more runnable threads than
cores, passive (sleep at once) kept the second thread from stealing the
first's core (2 threads at a load average of 20 on 2 cores: 16 against 4
iterations per second). Needs scikit-learn and threadpoolctl (not
dependencies of cuxplain):

    python3 bench/nmf_vs_sklearn.py --bench-nmf build/bench/bench_nmf --threads 2
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from sklearn_nmf import planted  # noqa: E402  (the same matrix as bench_nmf)

N, P, R = 2000, 2048, 25
SHORT, LONG = 5, 20  # bench_nmf's kShortFit and its CRAFT-size fit length
SKLEARN_FITS = 3
NAMES = {"mu": "nmf_mu_iterations", "cd": "nmf_cd_iterations"}


def cuxplain_round(bench_nmf, threads, solvers, wait_policy):
    """solver -> (seconds per SHORT-iteration fit, per LONG-iteration fit)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    if wait_policy != "inherit":
        env["OMP_WAIT_POLICY"] = wait_policy
    pattern = "|".join(NAMES[s] for s in solvers)
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "nmf.json"
        subprocess.run([bench_nmf, f"--benchmark_filter=({pattern})/host/{N}/{P}/{R}/",
                        f"--benchmark_out={out}", "--benchmark_out_format=json"],
                       env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        entries = json.loads(out.read_text())["benchmarks"]
    times = {}
    for solver in solvers:
        for length in (SHORT, LONG):
            prefix = f"{NAMES[solver]}/host/{N}/{P}/{R}/{length}/"
            [entry] = [e for e in entries if e["name"].startswith(prefix)]
            assert entry["time_unit"] == "ms"
            times[(solver, length)] = entry["real_time"] * 1e-3
    return {s: (times[(s, SHORT)], times[(s, LONG)]) for s in solvers}


def sklearn_round(a, w0, h0, solvers):
    """solver -> (seconds per SHORT-iteration fit, per LONG-iteration fit)."""
    from sklearn.decomposition import NMF

    def fit(solver, k):
        model = NMF(n_components=R, init="custom", solver=solver, tol=0.0, max_iter=k)
        w, h = w0.copy(), h0.copy()
        t0 = time.perf_counter()
        model.fit_transform(a, W=w, H=h)
        return time.perf_counter() - t0

    out = {}
    for solver in solvers:
        fit(solver, 1)  # warm-up
        out[solver] = tuple(min(fit(solver, k) for _ in range(SKLEARN_FITS)) for k in (SHORT, LONG))
    return out


def rates(times):
    """(per-iteration rate, LONG-iteration fit rate) from (t(SHORT), t(LONG))."""
    short, long = times
    return (LONG - SHORT) / (long - short), LONG / long


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench-nmf", default=str(ROOT / "build" / "bench" / "bench_nmf"))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--solvers", default="mu,cd")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--omp-wait-policy", default="inherit",
                        choices=["inherit", "active", "passive"],
                        help="OMP_WAIT_POLICY for bench_nmf (inherit: the environment's)")
    args = parser.parse_args()
    solvers = args.solvers.split(",")

    import numpy as np
    import sklearn
    from sklearn.decomposition._nmf import _initialize_nmf
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_info, threadpool_limits

    warnings.simplefilter("ignore", ConvergenceWarning)
    a, _, _ = planted(N, P, R)
    w0, h0 = _initialize_nmf(a, R, init="random", random_state=0)
    with threadpool_limits(limits=args.threads):
        pools = [(i.get("internal_api"), i.get("version"), i.get("threading_layer"),
                  i.get("num_threads")) for i in threadpool_info()]
        print(f"n {N}, p {P}, r {R}, {args.threads} threads; scikit-learn {sklearn.__version__}, "
              f"numpy {np.__version__}, thread pools {pools}")
        policy = (os.environ.get("OMP_WAIT_POLICY", "unset") if args.omp_wait_policy == "inherit"
                  else args.omp_wait_policy)
        print(f"bench_nmf's OMP_WAIT_POLICY: {policy}; load average at the start: {os.getloadavg()}")
        rows = {s: [] for s in solvers}
        for k in range(args.rounds):
            ours = cuxplain_round(args.bench_nmf, args.threads, solvers, args.omp_wait_policy)
            theirs = sklearn_round(a, w0, h0, solvers)
            for s in solvers:
                (c_it, c_fit), (s_it, s_fit) = rates(ours[s]), rates(theirs[s])
                rows[s].append((c_it, s_it, c_fit, s_fit))
                print(f"round {k + 1} {s}: per iteration cuxplain {c_it:7.1f}/s sklearn {s_it:7.1f}/s "
                      f"ratio {c_it / s_it:.2f}x; {LONG}-iteration fit cuxplain {c_fit:7.1f}/s "
                      f"sklearn {s_fit:7.1f}/s ratio {c_fit / s_fit:.2f}x")
        print(f"load average at the end: {os.getloadavg()}")

    print(f"\nmedian of {args.rounds} rounds, iterations per second ({args.threads} threads)")
    print(f"{'solver':6} {'measure':22} {'cuxplain':>9} {'sklearn':>9} {'ratio':>7}")
    for s in solvers:
        for label, i in ((f"per iteration", 0), (f"{LONG}-iteration fit", 2)):
            ours = statistics.median(r[i] for r in rows[s])
            theirs = statistics.median(r[i + 1] for r in rows[s])
            ratio = statistics.median(r[i] / r[i + 1] for r in rows[s])
            print(f"{s:6} {label:22} {ours:9.1f} {theirs:9.1f} {ratio:6.2f}x")


if __name__ == "__main__":
    main()
