#!/usr/bin/env python3
"""Times scikit-learn's NMF(solver='mu' and 'cd') on the problems of bench/bench_nmf.cpp.

Builds the same planted matrix A = max(U* W* + noise, 0) (splitmix64-hashed
entries, as bench_nmf.cpp does) and measures, for each size and solver:

  iterations_per_second     iterations per second from a fixed random start
                            (tol=0): (K2 - K1) / (t(K2) - t(K1)), which leaves
                            out each fit's input checks and final error
  time_to_error             NMF(init='nndsvda', tol=0, max_iter=k) with k the
                            first iteration whose relative error is at most
                            1.35 x the noise level (found by continuing the
                            updates from the NNDSVDa start, 10 at a time)
  fit_defaults              NMF(init='nndsvda', solver=s), tol 1e-4, max_iter 200
                            (mu tests the error every 10 iterations, cd the
                            violation every iteration)

With --cuxplain-json (Google Benchmark's --benchmark_out of bench_nmf) it
also prints cuxplain's numbers and the ratios. scikit-learn is not a
dependency of cuxplain: pip install scikit-learn to run this.

    build/bench/bench_nmf --benchmark_filter=host --benchmark_out=nmf.json
    python3 bench/sklearn_nmf.py --cuxplain-json nmf.json
"""
import argparse
import json
import time
import warnings

import numpy as np

NOISE = 0.1
TARGET_RATIO = 1.35
MAX_ITER_TO_TARGET = 1000
# n, p, r, bench_nmf's iterations per timed fit, and the two fit lengths
# whose time difference gives scikit-learn's iterations per second.
SIZES = [(2000, 2048, 25, 20, (5, 25)), (50000, 2048, 25, 5, (2, 10))]

M64 = (1 << 64) - 1


def mix64(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def uniform(stream, start, count):
    """Entries start .. start + count of stream `stream`, uniform in [0, 1)."""
    index = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    key = np.uint64((stream * 0xD1B54A32D192ED03) & M64)
    bits = mix64(key + index * np.uint64(0x9E3779B97F4A7C15))
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def planted_factor(count, zero_stream, value_stream):
    zero = uniform(zero_stream, 0, count) < 1.0 / 3.0
    return np.where(zero, 0.0, uniform(value_stream, 0, count)).astype(np.float32)


def planted(n, p, r):
    u = planted_factor(n * r, 1, 2).reshape(n, r)
    w = planted_factor(r * p, 3, 4).reshape(r, p)
    clean = u @ w  # float32, as the C++ side's sgemm
    sigma = NOISE * np.sqrt(np.sum(clean.astype(np.float64) ** 2) / (n * p))
    a = np.empty((n, p), dtype=np.float32)
    noise_sq = 0.0
    rows = max(1, (1 << 22) // p)
    for i0 in range(0, n, rows):
        i1 = min(n, i0 + rows)
        start, count = i0 * p, (i1 - i0) * p
        z = np.sqrt(-2.0 * np.log(1.0 - uniform(5, start, count))) * np.cos(
            6.283185307179586 * uniform(6, start, count))
        block = clean[i0:i1].astype(np.float64) + sigma * z.reshape(i1 - i0, p)
        a[i0:i1] = np.maximum(block, 0.0)
        noise_sq += np.sum((a[i0:i1].astype(np.float64) - clean[i0:i1]) ** 2)
    norm_a = np.sqrt(np.sum(a.astype(np.float64) ** 2))
    return a, np.sqrt(noise_sq) / norm_a, norm_a


def wall(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def iterations_per_second(NMF, solver, a, r, k1, k2):
    from sklearn.decomposition._nmf import _initialize_nmf

    w0, h0 = _initialize_nmf(a, r, init="random", random_state=0)

    def fit(k):
        model = NMF(n_components=r, init="custom", solver=solver, tol=0.0, max_iter=k)
        return wall(lambda: model.fit_transform(a, W=w0.copy(), H=h0.copy()))[0]

    fit(1)  # warm-up
    t1 = min(fit(k1) for _ in range(2))
    t2 = min(fit(k2) for _ in range(2))
    return (k2 - k1) / (t2 - t1), k2 / t2


def iterations_to_target(NMF, solver, a, r, target, norm_a):
    """First k whose relative error is <= target, from NNDSVDa (chunks of 10, then 1;
    both solvers carry no state but W and H from one fit to the next)."""
    from sklearn.decomposition._nmf import _initialize_nmf

    w, h = _initialize_nmf(a, r, init="nndsvda", random_state=0)
    done = 0
    while done < MAX_ITER_TO_TARGET:
        model = NMF(n_components=r, init="custom", solver=solver, tol=0.0, max_iter=10)
        w_next = model.fit_transform(a, W=w.copy(), H=h.copy())
        if model.reconstruction_err_ / norm_a <= target:
            for k in range(1, 11):  # refine within the chunk
                step = NMF(n_components=r, init="custom", solver=solver, tol=0.0, max_iter=1)
                w = step.fit_transform(a, W=w, H=h)
                h = step.components_
                if step.reconstruction_err_ / norm_a <= target:
                    return done + k, step.reconstruction_err_ / norm_a
            return done + 10, model.reconstruction_err_ / norm_a
        w, h = w_next, model.components_
        done += 10
    return None, None


def cuxplain_numbers(path):
    """name -> benchmark entry of bench_nmf's JSON output."""
    with open(path) as f:
        data = json.load(f)
    return {b["name"]: b for b in data.get("benchmarks", [])}


def seconds(entry):
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[entry.get("time_unit", "ns")]
    return entry["real_time"] * scale


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cuxplain-json", help="bench_nmf --benchmark_out JSON to compare with")
    parser.add_argument("--sizes", default="all", choices=["all", "craft", "large"])
    parser.add_argument("--solvers", default="both", choices=["both", "mu", "cd"])
    args = parser.parse_args()

    import sklearn
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_info

    warnings.simplefilter("ignore", ConvergenceWarning)
    blas = [(i.get("internal_api"), i.get("num_threads")) for i in threadpool_info()]
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, thread pools {blas}")
    ours = cuxplain_numbers(args.cuxplain_json) if args.cuxplain_json else {}

    sizes = SIZES if args.sizes == "all" else SIZES[:1] if args.sizes == "craft" else SIZES[1:]
    solvers = ["mu", "cd"] if args.solvers == "both" else [args.solvers]
    for n, p, r, iterations, (k1, k2) in sizes:
        a, noise_level, norm_a = planted(n, p, r)
        print(f"\nn = {n}, p = {p}, r = {r}: noise level {noise_level:.5f}")
        for solver in solvers:
            report(NMF, solver, a, n, p, r, iterations, k1, k2, noise_level, norm_a, ours)


def report(NMF, solver, a, n, p, r, iterations, k1, k2, noise_level, norm_a, ours):
    """scikit-learn's numbers for one solver, with cuxplain's when given."""
    # bench_nmf's names: mu kept its names from before cd.
    prefix = {"mu": ("nmf_mu_iterations", "nmf_time_to_error", "nmf_fit_defaults"),
              "cd": ("nmf_cd_iterations", "nmf_cd_time_to_error", "nmf_cd_fit_defaults")}[solver]
    tag = solver.upper()

    rate, whole_rate = iterations_per_second(NMF, solver, a, r, k1, k2)
    line = f"  sklearn {tag} iterations/s  {rate:8.2f}  ({whole_rate:.2f} counting a {k2}-iteration fit's overhead)"
    key = f"{prefix[0]}/host/{n}/{p}/{r}/{iterations}/iterations:{1 if n > 10000 else 5}/real_time"
    if key in ours:
        mine = ours[key][f"{solver}_iterations_per_second"]
        line += f"   cuxplain host {mine:8.2f}   ratio {mine / rate:.2f}x"
    print(line)

    target = TARGET_RATIO * noise_level
    k, reached = iterations_to_target(NMF, solver, a, r, target, norm_a)
    if k is None:
        print(f"  sklearn {tag} did not reach {target:.5f} within {MAX_ITER_TO_TARGET} iterations")
    else:
        model = NMF(n_components=r, init="nndsvda", solver=solver, tol=0.0, max_iter=k, random_state=0)
        t, _ = wall(lambda: model.fit_transform(a))
        line = f"  sklearn {tag} time to error {target:.5f}: {t:8.3f} s ({k} iterations, error {reached:.5f})"
        key = f"{prefix[1]}/host/{n}/{p}/{r}/iterations:1/real_time"
        if key in ours:
            mine = seconds(ours[key])
            line += f"   cuxplain host {mine:.3f} s ({ours[key]['iterations']:.0f} iterations)   ratio {t / mine:.2f}x"
        print(line)

    model = NMF(n_components=r, init="nndsvda", solver=solver, random_state=0)
    t, _ = wall(lambda: model.fit_transform(a))
    line = (f"  sklearn {tag} defaults (tol 1e-4): {t:8.3f} s, {model.n_iter_} iterations, "
            f"error {model.reconstruction_err_ / norm_a:.5f}")
    key = f"{prefix[2]}/host/{n}/{p}/{r}/iterations:1/real_time"
    if key in ours:
        mine = seconds(ours[key])
        line += (f"   cuxplain host {mine:.3f} s, {ours[key]['iterations']:.0f} iterations, "
                 f"error {ours[key]['relative_error']:.5f}   ratio {t / mine:.2f}x")
    print(line)


if __name__ == "__main__":
    main()
