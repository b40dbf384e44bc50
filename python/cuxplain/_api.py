"""Sobol, HSIC and EVA attributions, upsample, the samplers and the Sobol
estimators, over arrays of any DLPack framework."""

from __future__ import annotations

from typing import Any, Optional, Tuple

from . import _core, _progress
from ._call import (
    Call,
    enum_value,
    fill_options,
    one_hot_width,
    probe_outputs,
    run,
    targets_list,
)
from ._core import ArgumentError

_PERTURBATION_ENUMS = {
    "sampler": _core.Sampler,
    "perturbation": _core.Perturbation,
    "mask_interpolation": _core.Interpolation,
}


def _model_and_outputs(model: Any, images: Any, targets: Any, num_outputs: Optional[int],
                       call: Call) -> Tuple[Any, int]:
    """The C++ Network (run without Python in the loop) or the callable, and
    the number of outputs: given, the network's, the one-hot width, or one
    probe call on the first image."""
    from .nn import Network

    if isinstance(model, Network):
        return model._net, model.num_outputs
    if not callable(model):
        raise ArgumentError(f"model must be callable or a cuxplain.nn.Network, got "
                            f"{type(model).__qualname__}")
    if num_outputs is None:
        num_outputs = one_hot_width(targets)
    if num_outputs is None:
        num_outputs = probe_outputs(model, images, call.fw)
    if isinstance(num_outputs, bool) or not isinstance(num_outputs, int) or num_outputs < 1:
        raise ArgumentError(f"num_outputs must be an int >= 1, got {num_outputs!r}")
    return model, num_outputs


def sobol_attribution(
    model: Any,
    images: Any,
    targets: Any,
    *,
    layout: str = "nchw",
    num_outputs: Optional[int] = None,
    grid_size: int = 8,
    nb_design: int = 32,
    sampler: str = "sobol",
    skip: int = 1,
    seed: int = 0,
    estimator: str = "jansen",
    first_order: bool = False,
    per_channel: bool = False,
    perturbation: str = "inpainting",
    baseline: float = 0.0,
    blur_size: int = 10,
    sigma: float = 1.0,
    mask_interpolation: str = "nearest_exact",
    batch_size: int = 256,
    progress: Any = False,
) -> Any:
    """Total-order Sobol indices of every grid cell (Fel et al., NeurIPS 2021).

    model: a callable taking a batch of perturbed images (an array of the
        images' framework and device, a view of cuxplain's buffer valid
        during the call, in `layout`) and returning (n, num_outputs) float32
        scores on the same device, in any DLPack framework; or a
        cuxplain.nn.Network (run without Python in the loop).
    images: (n, c, h, w) for layout="nchw", (n, h, w, c) for "nhwc", float32,
        on the CPU (host backend) or a CUDA device (CUDA backend, on the
        framework's current stream).
    targets: class ids (an int for all images, a sequence or an integer
        array) or one-hot rows (n, num_outputs).
    num_outputs: the model's output count; by default the one-hot width or
        one call of the model on the first image.
    The options are cuxplain::SobolOptions' (xplique's defaults); enums are
    strings: sampler sobol|sobol_owen|halton|lhs|monte_carlo, estimator
    jansen|homma|janon|glen|saltelli, perturbation inpainting|blurring|amplitude,
    mask_interpolation nearest|nearest_exact|bilinear.
    progress: True for a progress bar over the model evaluations (tqdm when
        installed), or a tqdm-like factory.

    Returns the scores, (n, g, g) or (n, g, g, c) with per_channel, as the
    images' framework on their device; with first_order, a tuple (total,
    first). Raises cuxplain.Error with the library's message, or the
    model's own exception (chained to that message) when the model raised.
    """
    with Call(images, "images") as call:
        exported, layout_enum, shape, images = call.images(images, layout)
        model, k = _model_and_outputs(model, images, targets, num_outputs, call)
        ids = targets_list(targets, shape[0], k)
        options = fill_options(
            _core.SobolOptions(),
            dict(grid_size=grid_size, nb_design=nb_design, sampler=sampler, skip=skip, seed=seed,
                 estimator=estimator, first_order=first_order, per_channel=per_channel,
                 perturbation=perturbation, baseline=baseline, blur_size=blur_size, sigma=sigma,
                 mask_interpolation=mask_interpolation, batch_size=batch_size),
            dict(_PERTURBATION_ENUMS, estimator=_core.Estimator),
        )
        channels = shape[1] if layout == "nchw" else shape[3]
        d = grid_size * grid_size * (channels if per_channel else 1)
        bar = _progress.progress_bar(
            progress, shape[0] * _core.sobol_design_rows(nb_design, d, first_order), "sobol")
        adapter = None if isinstance(model, _core.Network) else call.adapter(model, progress=bar)
        try:
            scores, first = run(_core.sobol_attribution, [adapter], call.ctx,
                                model if adapter is None else adapter, call.cuda and not
                                call.fw.stream_ordered, k, exported, layout_enum, ids, options)
        finally:
            _progress.close(bar)
        if first is None:
            return call.result(scores)
        return call.result(scores), call.result(first)


def hsic_attribution(
    model: Any,
    images: Any,
    targets: Any,
    *,
    layout: str = "nchw",
    num_outputs: Optional[int] = None,
    grid_size: int = 8,
    nb_design: int = 500,
    sampler: str = "sobol",
    skip: int = 1,
    seed: int = 0,
    binary: bool = True,
    input_kernel: str = "binary",
    output_width: str = "median_output",
    interactions: bool = False,
    perturbation: str = "inpainting",
    baseline: float = 0.0,
    blur_size: int = 10,
    sigma: float = 1.0,
    mask_interpolation: str = "nearest_exact",
    batch_size: int = 256,
    progress: Any = False,
) -> Any:
    """HSIC between each grid cell's mask and the target output (Novello et
    al., NeurIPS 2022).

    model, images, targets, num_outputs, layout, progress: as
    sobol_attribution. Options are cuxplain::HsicOptions' (xplique's
    defaults): input_kernel binary|rbf|sobolev, output_width
    median_output|median_distance, the sampler and perturbation options as
    sobol_attribution.

    Returns (n, g, g) scores; with interactions, a tuple (scores,
    interactions) with interactions (n, g*g, g*g).
    """
    with Call(images, "images") as call:
        exported, layout_enum, shape, images = call.images(images, layout)
        model, k = _model_and_outputs(model, images, targets, num_outputs, call)
        ids = targets_list(targets, shape[0], k)
        options = fill_options(
            _core.HsicOptions(),
            dict(grid_size=grid_size, nb_design=nb_design, sampler=sampler, skip=skip, seed=seed,
                 binary=binary, input_kernel=input_kernel, output_width=output_width,
                 interactions=interactions, perturbation=perturbation, baseline=baseline,
                 blur_size=blur_size, sigma=sigma, mask_interpolation=mask_interpolation,
                 batch_size=batch_size),
            dict(_PERTURBATION_ENUMS, input_kernel=_core.HsicKernel,
                 output_width=_core.Bandwidth),
        )
        bar = _progress.progress_bar(progress, shape[0] * nb_design, "hsic")
        adapter = None if isinstance(model, _core.Network) else call.adapter(model, progress=bar)
        try:
            scores, pairs = run(_core.hsic_attribution, [adapter], call.ctx,
                                model if adapter is None else adapter, call.cuda and not
                                call.fw.stream_ordered, k, exported, layout_enum, ids, options)
        finally:
            _progress.close(bar)
        if pairs is None:
            return call.result(scores)
        return call.result(scores), call.result(pairs)


def eva_attribution(
    network: Any,
    images: Any,
    targets: Any,
    *,
    layout: str = "nchw",
    grid_size: int = 8,
    epsilon: float = 0.05,
    clamp: bool = True,
    clamp_min: float = 0.0,
    clamp_max: float = 1.0,
    cell_mapping: str = "nearest_exact",
    batch_size: int = 256,
    sound: bool = False,
) -> Any:
    """EVA (Fel et al., CVPR 2023): how much fixing each grid cell to its
    value shrinks the verified adversarial overlap of the L-inf ball of
    radius epsilon. network: a cuxplain.nn.Network on the images' device
    (EVA needs the network's weights for its bounds, not a callable); images
    NCHW. Options are cuxplain::EvaOptions'. Returns (n, g, g) scores.
    """
    from .nn import Network

    if not isinstance(network, Network):
        raise ArgumentError(
            f"network must be a cuxplain.nn.Network (cuxplain.nn.load_onnx), got "
            f"{type(network).__qualname__}; EVA propagates bounds through its layers")
    with Call(images, "images") as call:
        exported, layout_enum, shape, images = call.images(images, layout)
        ids = targets_list(targets, shape[0], network.num_outputs)
        options = fill_options(
            _core.EvaOptions(),
            dict(grid_size=grid_size, epsilon=epsilon, clamp=clamp, clamp_min=clamp_min,
                 clamp_max=clamp_max, cell_mapping=cell_mapping, batch_size=batch_size,
                 sound=sound),
            dict(cell_mapping=_core.Interpolation),
        )
        scores = _core.eva_attribution(call.ctx, network._net, exported, layout_enum, ids,
                                       options)
        return call.result(scores)


def upsample(cells: Any, size: Tuple[int, int], method: str = "bicubic") -> Any:
    """Resizes (n, gh, gw) or (n, gh, gw, channels) grids to (n, h, w[,
    channels]) with size = (h, w). method: "bicubic" (cv2's INTER_CUBIC),
    "bicubic_tensorflow" (tf.image.resize(method="bicubic") bit for bit, as
    xplique resizes its grids) or "nearest". Returns the cells' framework on
    their device."""
    try:
        h, w = (int(s) for s in size)
    except (TypeError, ValueError):
        raise ArgumentError(f"size must be (h, w), got {size!r}") from None
    with Call(cells, "cells") as call:
        exported = call.array(cells, "cells")
        out = _core.upsample(call.ctx, exported, h, w,
                             enum_value(_core.Interpolation, method, "method"))
        return call.result(out)


def _like_call(like: Any) -> Call:
    if like is None:
        import numpy

        like = numpy.empty(0, dtype=numpy.float32)
    return Call(like, "like")


def generate_samples(sampler: str, n: int, dims: int, *, skip: int = 0, seed: int = 0,
                     like: Any = None) -> Any:
    """Points [skip, skip + n) of a dims-dimensional point set, (n, dims) in
    [0, 1) (cuxplain::generate_samples): sobol (scipy's unscrambled Sobol, bit
    for bit), sobol_owen, halton, lhs, monte_carlo. The result is NumPy, or
    the framework and device of `like`."""
    with _like_call(like) as call:
        out = _core.generate_samples(call.ctx, enum_value(_core.Sampler, sampler, "sampler"),
                                     n, dims, skip, seed)
        return call.result(out)


def hsic_design(sampler: str, nb_design: int, d: int, *, binary: bool = True, skip: int = 1,
                seed: int = 0, like: Any = None) -> Any:
    """HSIC's (nb_design, d) masks: the sampler's points, rounded half to
    even when binary (cuxplain::hsic_design)."""
    with _like_call(like) as call:
        out = _core.hsic_design(call.ctx, enum_value(_core.Sampler, sampler, "sampler"),
                                nb_design, d, binary, skip, seed)
        return call.result(out)


def sobol_design_masks(sequence: Any, d: int, *, with_b: bool = False, row_begin: int = 0,
                       rows: Optional[int] = None) -> Any:
    """Rows of the stacked Sobol design [A | B | C_1 .. C_d] built from a
    (nb_design, 2d) sequence (cuxplain::sobol_design_masks); all rows by
    default."""
    with Call(sequence, "sequence") as call:
        exported = call.array(sequence, "sequence")
        nb_design = call.fw.shape(sequence)[0]
        if rows is None:
            rows = _core.sobol_design_rows(nb_design, d, with_b) - row_begin
        out = _core.sobol_design_masks(call.ctx, exported, d, with_b, row_begin, rows)
        return call.result(out)


def sobol_total_order(estimator: str, y_a: Any, y_c: Any) -> Any:
    """Total-order indices (d,) from the outputs on A (nb_design,) and on
    C_1..C_d (d, nb_design) (cuxplain::sobol_total_order)."""
    with Call(y_a, "y_a") as call:
        out = _core.sobol_total_order(call.ctx, enum_value(_core.Estimator, estimator,
                                                           "estimator"),
                                      call.array(y_a, "y_a"), call.array(y_c, "y_c"))
        return call.result(out)


def sobol_first_order(y_a: Any, y_b: Any, y_c: Any) -> Any:
    """First-order indices S_i = mean(b (c_i - a)) / V (cuxplain::sobol_first_order)."""
    with Call(y_a, "y_a") as call:
        out = _core.sobol_first_order(call.ctx, call.array(y_a, "y_a"), call.array(y_b, "y_b"),
                                      call.array(y_c, "y_c"))
        return call.result(out)


def cuda_available() -> bool:
    """True when this build has the CUDA backend and a usable GPU."""
    return bool(_core.cuda_available())


def backends() -> Tuple[str, ...]:
    """The backends usable here: ("host",) or ("host", "cuda")."""
    return ("host", "cuda") if cuda_available() else ("host",)

