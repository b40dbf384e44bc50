#!/usr/bin/env python3
"""Writes tests/data/nmf_sklearn.txt, the scikit-learn fixtures of the NMF
tests in tests/host/test_nmf.cpp (coordinate descent fits, and transform with
both solvers).

Every case runs scikit-learn on float32 data, as cuxplain does:

  fit_*        NMF(solver='cd', init='custom', tol=0, max_iter=k) from a given
               start (U0, W0): the factors after exactly k iterations (tol=0
               stops early only on a zero violation, which these cases never
               reach, and does not trigger the max_iter warning)
  stop_*       the same with tol > 0: the iteration scikit-learn's violation
               rule stops at, with the violation ratios around it (the tol
               is chosen at least 2.5% away from every ratio up to the stop, so
               float rounding cannot move the stop)
  transform_*  NMF(solver=s, ...).fit(A) then .transform(A2): the fitted
               components (W), A2, and the coefficients; transform keeps the
               model's alpha_W, l1_ratio, max_iter and tol. n_iter is that of
               the transform (from NMF._fit_transform(update_H=False), checked
               equal to transform's output); every stopping test up to it is
               at least 1% from tol (replayed here), far beyond what float
               rounding moves

Penalties are given as scikit-learn's alpha_W (alpha_H='same') and l1_ratio;
cuxplain's l1_u = alpha l1_ratio p, l2_u = alpha (1 - l1_ratio) p,
l1_w = alpha l1_ratio n, l2_w = alpha (1 - l1_ratio) n (see nmf::Options).

File format: '#' lines are comments (the first ones name the versions);
"case NAME" starts a case; every other line is "key value...", values
whitespace separated. Matrices are row-major; float32 values are written
with 9 significant digits, which read back to the same float.

Usage: python3 tests/data/make_nmf_cd_fixtures.py [--any-version]
(writes next to this script; needs scikit-learn, pinned below).
"""
import argparse
import os
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PINNED_SKLEARN = "1.9.1"

# (name, n, p, r, seed): the matrices of the fit cases.
MATRICES = [("tall", 15, 11, 3, 1), ("wide", 24, 31, 5, 2)]
# (name, alpha_W, l1_ratio)
PENALTIES = [("plain", 0.0, 0.0), ("l2", 0.01, 0.0), ("mixed", 0.01, 0.5)]
ITERATIONS = [1, 5, 50]


def planted(n, p, r, rng, noise=0.1):
    """A = max(U* W* + noise, 0), a third of the factors' entries zero."""
    u = rng.uniform(0.0, 1.0, (n, r)) * (rng.uniform(size=(n, r)) > 1.0 / 3.0)
    w = rng.uniform(0.0, 1.0, (r, p)) * (rng.uniform(size=(r, p)) > 1.0 / 3.0)
    clean = u @ w
    a = clean + noise * np.sqrt(np.mean(clean**2)) * rng.standard_normal((n, p))
    return np.maximum(a, 0.0).astype(np.float32)


def start(n, p, r, rng):
    """A start away from the planted factors, with exact zeros in both."""
    u0 = rng.uniform(0.1, 1.0, (n, r)).astype(np.float32)
    w0 = rng.uniform(0.1, 1.0, (r, p)).astype(np.float32)
    u0[1, 0] = 0.0
    u0[4, r - 1] = 0.0
    w0[0, 2] = 0.0
    w0[r - 1, p - 3] = 0.0
    return u0, w0


def fmt(values):
    values = np.asarray(values)
    if values.dtype == np.float32:
        return " ".join(f"{float(v):.9g}" for v in values.ravel())
    return " ".join(repr(v) for v in values.ravel().tolist())


class Writer:
    def __init__(self, path, header):
        self.f = open(path, "w")
        for line in header:
            self.f.write(f"# {line}\n")

    def case(self, name, **entries):
        self.f.write(f"case {name}\n")
        for key, value in entries.items():
            if isinstance(value, (str, int, float)):
                self.f.write(f"{key} {value!r}\n" if isinstance(value, float) else f"{key} {value}\n")
            else:
                self.f.write(f"{key} {fmt(value)}\n")

    def close(self):
        self.f.close()


def cd_violations(a, u0, w0, r, alpha, l1_ratio, iterations):
    """scikit-learn's own coordinate-descent loop, run step by step for the
    violation of each iteration (the factors are checked against NMF's)."""
    from sklearn.decomposition._nmf import _update_coordinate_descent

    n, p = a.shape
    l1_u, l2_u = p * alpha * l1_ratio, p * alpha * (1.0 - l1_ratio)
    l1_w, l2_w = n * alpha * l1_ratio, n * alpha * (1.0 - l1_ratio)
    u = np.ascontiguousarray(u0.copy())
    ht = np.ascontiguousarray(w0.T.copy())
    violations = []
    for _ in range(iterations):
        v = _update_coordinate_descent(a, u, ht, l1_u, l2_u, False, None)
        v += _update_coordinate_descent(a.T, ht, u, l1_w, l2_w, False, None)
        violations.append(v)
    return u, ht.T, violations


def check_transform_margin(model, a, n_iter, margin=0.01):
    """Asserts that the transform's stopping test is at least `margin` (relative)
    away from tol at every test up to n_iter, so float rounding cannot move it."""
    from sklearn.base import clone
    from sklearn.decomposition._nmf import _update_coordinate_descent

    h = model.components_
    tol = model.tol
    if model.solver == "cd":
        l1, _, l2, _ = model._compute_regularization(a)
        u = np.zeros((a.shape[0], h.shape[0]), dtype=a.dtype)
        ht = np.ascontiguousarray(h.T)
        ratios = []
        for _ in range(n_iter):
            ratios.append(_update_coordinate_descent(a, u, ht, l1, l2, False, None))
        ratios = np.array(ratios) / ratios[0]
        assert np.all(ratios[:-1] > (1 + margin) * tol) and ratios[-1] < tol / (1 + margin), ratios
        return
    def error(k):
        if k == 0:
            u = np.full((a.shape[0], h.shape[0]), np.sqrt(a.mean() / h.shape[0]), dtype=a.dtype)
        else:
            fixed = clone(model).set_params(tol=0.0, max_iter=k)
            fixed._n_components = h.shape[0]
            u, _, _ = fixed._fit_transform(a, H=h, update_H=False)
        return np.linalg.norm(a.astype(np.float64) - u.astype(np.float64) @ h.astype(np.float64))
    e0 = error(0)
    previous = e0
    for k in range(10, n_iter + 1, 10):
        e = error(k)
        decrease = (previous - e) / e0
        assert abs(decrease - tol) > margin * tol and (decrease < tol) == (k == n_iter), (k, decrease)
        previous = e


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--any-version", action="store_true",
                        help=f"run with a scikit-learn other than {PINNED_SKLEARN}")
    args = parser.parse_args()

    import sklearn
    from sklearn.decomposition import NMF
    from threadpoolctl import threadpool_info

    if sklearn.__version__ != PINNED_SKLEARN and not args.any_version:
        raise SystemExit(f"scikit-learn {sklearn.__version__}; the fixtures are from "
                         f"{PINNED_SKLEARN} (--any-version to write them anyway)")
    warnings.simplefilter("error")  # no ConvergenceWarning (max_iter) may pass unseen
    blas = ", ".join(sorted(f"{i.get('internal_api')} {i.get('version')}" for i in threadpool_info()))
    out = Writer(os.path.join(HERE, "nmf_sklearn.txt"), [
        f"scikit-learn {sklearn.__version__}, numpy {np.__version__} ({blas})",
        "Generated by tests/data/make_nmf_cd_fixtures.py (format described there); float32 data.",
    ])

    for mname, n, p, r, seed in MATRICES:
        rng = np.random.default_rng(seed)
        a = planted(n, p, r, rng)
        u0, w0 = start(n, p, r, rng)
        for pname, alpha, l1_ratio in PENALTIES:
            for k in ITERATIONS:
                model = NMF(n_components=r, solver="cd", init="custom", tol=0.0, max_iter=k,
                            alpha_W=alpha, alpha_H="same", l1_ratio=l1_ratio)
                u = model.fit_transform(a, W=u0.copy(), H=w0.copy())
                assert model.n_iter_ == k and u.dtype == np.float32
                out.case(f"fit_{mname}_{pname}_it{k}", solver="cd", n=n, p=p, r=r,
                         alpha_W=alpha, l1_ratio=l1_ratio, max_iter=k, tol=0.0, n_iter=k,
                         A=a, U0=u0, W0=w0, U=u, W=model.components_)

        # The stopping rule: replay scikit-learn's loop for the violations,
        # then pick a tol that stops at a known iteration with a margin.
        alpha, l1_ratio = 0.01, 0.5
        su, sw, violations = cd_violations(a, u0, w0, r, alpha, l1_ratio, 200)
        ratios = np.array(violations) / violations[0]
        check = NMF(n_components=r, solver="cd", init="custom", tol=0.0, max_iter=200,
                    alpha_W=alpha, l1_ratio=l1_ratio)
        assert np.array_equal(check.fit_transform(a, W=u0.copy(), H=w0.copy()), su)
        # tol halfway (geometrically) between the smallest ratio before the
        # stop and the ratio at it, at the first iteration past the 12th whose
        # ratio is 6% below every earlier one.
        stop = next(k for k in range(12, len(ratios)) if ratios[k] * 1.06 < np.min(ratios[:k])) + 1
        before = np.min(ratios[: stop - 1])
        tol = float(np.sqrt(before * ratios[stop - 1]))
        assert before > 1.025 * tol and ratios[stop - 1] < tol / 1.025, (before, ratios[stop - 1], tol)
        model = NMF(n_components=r, solver="cd", init="custom", tol=tol, max_iter=200,
                    alpha_W=alpha, l1_ratio=l1_ratio)
        u = model.fit_transform(a, W=u0.copy(), H=w0.copy())
        assert model.n_iter_ == stop, (model.n_iter_, stop)
        out.case(f"stop_{mname}", solver="cd", n=n, p=p, r=r, alpha_W=alpha, l1_ratio=l1_ratio,
                 max_iter=200, tol=tol, n_iter=stop, ratios=ratios[: stop + 1],
                 A=a, U0=u0, W0=w0, U=u, W=model.components_)

    # transform: a model fitted on one matrix, applied to another of the same
    # features, with the model's penalties, max_iter and tol (defaults 200, 1e-4).
    rng = np.random.default_rng(7)
    n, n2, p, r = 40, 17, 23, 4
    a = planted(n, p, r, rng)
    a2 = planted(n2, p, r, rng)
    for solver in ("mu", "cd"):
        for pname, alpha, l1_ratio in (("plain", 0.0, 0.0), ("l2", 0.01, 0.0), ("mixed", 0.05, 0.3)):
            model = NMF(n_components=r, solver=solver, init="nndsvda", alpha_W=alpha,
                        alpha_H="same", l1_ratio=l1_ratio, max_iter=400, tol=1e-4, random_state=0)
            model.fit(a)
            u2 = model.transform(a2)
            again, _, n_iter = model._fit_transform(a2, H=model.components_, update_H=False)
            assert np.array_equal(again, u2) and n_iter < model.max_iter
            check_transform_margin(model, a2, n_iter)
            out.case(f"transform_{solver}_{pname}", solver=solver, n=n2, p=p, r=r,
                     alpha_W=alpha, l1_ratio=l1_ratio, max_iter=model.max_iter, tol=model.tol,
                     n_iter=n_iter, A=a2, W=model.components_, U=u2)
    out.close()


if __name__ == "__main__":
    main()
