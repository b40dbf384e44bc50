"""Non-negative matrix factorization A ~ U W (cuxplain::nmf), the concept
extraction step of CRAFT: Frobenius loss, multiplicative updates, NNDSVD(a)
or seeded random starts, L1/L2 penalties, scikit-learn's stopping rule."""

from __future__ import annotations

from typing import Any, Tuple

from . import _core
from ._call import Call, fill_options

__all__ = ["options", "fit", "transform", "initialize", "NmfResult"]

NmfResult = _core.NmfResult


def options(rank: int = 10, *, init: str = "nndsvda", seed: int = 0, max_iter: int = 200,
            tol: float = 1e-4, check_every: int = 10, l1_u: float = 0.0, l2_u: float = 0.0,
            l1_w: float = 0.0, l2_w: float = 0.0, loss_history: bool = False,
            svd_oversamples: int = 10, svd_power_iterations: int = -1) -> "_core.NmfOptions":
    """cuxplain::nmf::Options from keywords (its defaults); init is
    nndsvd|nndsvda|random|custom."""
    return fill_options(_core.NmfOptions(), dict(
        rank=rank, init=init, seed=seed, max_iter=max_iter, tol=tol, check_every=check_every,
        l1_u=l1_u, l2_u=l2_u, l1_w=l1_w, l2_w=l2_w, loss_history=loss_history,
        svd_oversamples=svd_oversamples, svd_power_iterations=svd_power_iterations),
        dict(init=_core.NmfInit))


def fit(A: Any, rank: int, *, U: Any = None, W: Any = None, **kwargs: Any
        ) -> Tuple[Any, Any, "_core.NmfResult"]:
    """Factorizes A (n, p), finite and >= 0, as U (n, rank) W (rank, p).
    kwargs: the options of `options()`. With init="custom", U and W are the
    starting point. Returns (U, W, result) in A's framework and device."""
    opts = options(rank, **kwargs)
    with Call(A, "A") as call:
        start_u = None if U is None else call.array(U, "U")
        start_w = None if W is None else call.array(W, "W")
        u, w, result = _core.nmf_fit(call.ctx, call.array(A, "A"), opts, start_u, start_w)
        return call.result(u), call.result(w), result


def transform(A: Any, W: Any, *, U: Any = None, **kwargs: Any) -> Tuple[Any, "_core.NmfResult"]:
    """U (n, rank) >= 0 for A (n, p) and a fixed W (rank, p): non-negative
    least squares by the U updates of fit (scikit-learn's NMF.transform).
    Returns (U, result)."""
    with Call(A, "A") as call:
        w = call.array(W, "W")
        rank = call.fw.shape(W)[0] if hasattr(W, "shape") else 0
        opts = options(kwargs.pop("rank", rank), **kwargs)
        start_u = None if U is None else call.array(U, "U")
        u, result = _core.nmf_transform(call.ctx, call.array(A, "A"), w, opts, start_u)
        return call.result(u), result


def initialize(A: Any, rank: int, **kwargs: Any) -> Tuple[Any, Any]:
    """The (U, W) that fit starts from for options.init (nndsvd, nndsvda or
    random)."""
    opts = options(rank, **kwargs)
    with Call(A, "A") as call:
        u, w = _core.nmf_initialize(call.ctx, call.array(A, "A"), opts)
        return call.result(u), call.result(w)

