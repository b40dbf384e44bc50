"""The metrics of attribution maps (cuxplain/metrics.hpp) and the baseline
explainers (cuxplain/baselines.hpp), over arrays of any DLPack framework.

Defaults are xplique 2.0.2's; `convention="xplique"` reproduces xplique's
code where it differs from the papers (see the C++ headers for every
difference). Models are callables as for sobol_attribution, or a
cuxplain.nn.Network.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple, Union

from . import _core, _progress
from ._api import _model_and_outputs
from ._call import Adapter, Call, fill_options, layout_of, run, targets_list
from ._core import ArgumentError

_ENUMS = {
    "activation": _core.OutputActivation,
    "convention": _core.Convention,
    "distance": _core.Distance,
    "mask_interpolation": _core.Interpolation,
}


def _explanations(call: Call, explanations: Any, layout: str,
                  explanations_layout: Optional[str]) -> Tuple[Any, Any]:
    """The exported explanations and their layout enum: (n, h, w) maps, or a
    4-D batch in explanations_layout (default: the images' layout)."""
    exported = call.array(explanations, "explanations")
    return exported, layout_of(explanations_layout or layout)


def _model_call(model: Any, images: Any, targets: Any, layout: str, num_outputs: Optional[int],
                rows_per_image: int, name: str, progress: Any, call: Call):
    exported, layout_enum, shape, images = call.images(images, layout)
    model, k = _model_and_outputs(model, images, targets, num_outputs, call)
    ids = targets_list(targets, shape[0], k)
    bar = _progress.progress_bar(progress, shape[0] * rows_per_image, name)
    adapter = None if isinstance(model, _core.Network) else call.adapter(model, progress=bar)
    return exported, layout_enum, shape, ids, k, (model if adapter is None else adapter), adapter, bar


def _causal(which: str, model: Any, images: Any, targets: Any, explanations: Any, layout: str,
            explanations_layout: Optional[str], num_outputs: Optional[int], options: dict,
            progress: Any) -> Tuple[Any, Any]:
    with Call(images, "images") as call:
        opts = fill_options(_core.CausalOptions(), options, _ENUMS)
        exported, layout_enum, shape, ids, k, forward, adapter, bar = _model_call(
            model, images, targets, layout, num_outputs, opts.steps + 1, which, progress, call)
        e, e_layout = _explanations(call, explanations, layout, explanations_layout)
        try:
            curves, aucs = run(getattr(_core, which), [adapter], call.ctx, forward,
                               call.cuda and not call.fw.stream_ordered, k, exported,
                               layout_enum, ids, e, e_layout, opts)
        finally:
            _progress.close(bar)
        return call.result(curves), call.result(aucs)


def deletion(model: Any, images: Any, targets: Any, explanations: Any, *, layout: str = "nchw",
             explanations_layout: Optional[str] = None, num_outputs: Optional[int] = None,
             steps: int = 10, max_percentage_perturbed: float = 1.0, baseline: float = 0.0,
             activation: str = "none", convention: str = "paper", batch_size: int = 64,
             progress: Any = False) -> Tuple[Any, Any]:
    """Deletion (Petsiuk et al.): the target score as the highest-ranked
    pixels of each explanation (channels averaged) move to `baseline`, at
    steps + 1 points (NumPy's linspace of pixel counts), and its trapezoidal
    area. explanations: (n, h, w) maps or a 4-D batch (1 or c channels) in
    explanations_layout (default `layout`). Returns (curves (n, steps + 1),
    areas (n,)); lower is better. The model runs n * (steps + 1) times."""
    return _causal("deletion", model, images, targets, explanations, layout,
                   explanations_layout, num_outputs,
                   dict(steps=steps, max_percentage_perturbed=max_percentage_perturbed,
                        baseline=baseline, activation=activation, convention=convention,
                        batch_size=batch_size), progress)


def insertion(model: Any, images: Any, targets: Any, explanations: Any, *, layout: str = "nchw",
              explanations_layout: Optional[str] = None, num_outputs: Optional[int] = None,
              steps: int = 10, max_percentage_perturbed: float = 1.0, baseline: float = 0.0,
              activation: str = "none", convention: str = "paper", batch_size: int = 64,
              progress: Any = False) -> Tuple[Any, Any]:
    """Insertion: as deletion, from the baseline image to the image.
    Returns (curves, areas); higher is better."""
    return _causal("insertion", model, images, targets, explanations, layout,
                   explanations_layout, num_outputs,
                   dict(steps=steps, max_percentage_perturbed=max_percentage_perturbed,
                        baseline=baseline, activation=activation, convention=convention,
                        batch_size=batch_size), progress)


def causal_step_counts(pixels: int, *, steps: int = 10,
                       max_percentage_perturbed: float = 1.0) -> list:
    """The pixel counts of deletion's and insertion's points."""
    opts = fill_options(_core.CausalOptions(),
                        dict(steps=steps, max_percentage_perturbed=max_percentage_perturbed), {})
    return list(_core.causal_step_counts(pixels, opts))


def mu_fidelity(model: Any, images: Any, targets: Any, explanations: Any, *,
                layout: str = "nchw", explanations_layout: Optional[str] = None,
                num_outputs: Optional[int] = None, grid_size: int = 9, nb_samples: int = 200,
                subset_percent: float = 0.2, baseline: float = 0.0, seed: int = 0,
                activation: str = "none", convention: str = "paper", batch_size: int = 64,
                progress: Any = False) -> Any:
    """MuFidelity (Bhatt et al.): Spearman's correlation, over nb_samples
    random subsets of grid cells (each removed with probability
    subset_percent, set to `baseline`), between the score drop and the
    explanation's mass over the removed pixels. Returns (n,) correlations
    in [-1, 1]; higher is better."""
    with Call(images, "images") as call:
        opts = fill_options(
            _core.MuFidelityOptions(),
            dict(grid_size=grid_size, nb_samples=nb_samples, subset_percent=subset_percent,
                 baseline=baseline, seed=seed, activation=activation, convention=convention,
                 batch_size=batch_size), _ENUMS)
        exported, layout_enum, shape, ids, k, forward, adapter, bar = _model_call(
            model, images, targets, layout, num_outputs, nb_samples + 1, "mu_fidelity",
            progress, call)
        e, e_layout = _explanations(call, explanations, layout, explanations_layout)
        try:
            out = run(_core.mu_fidelity, [adapter], call.ctx, forward,
                      call.cuda and not call.fw.stream_ordered, k, exported, layout_enum, ids, e,
                      e_layout, opts)
        finally:
            _progress.close(bar)
        return call.result(out)


def average_drop_increase_gain(model: Any, images: Any, targets: Any, explanations: Any, *,
                               layout: str = "nchw", explanations_layout: Optional[str] = None,
                               num_outputs: Optional[int] = None, activation: str = "none",
                               batch_size: int = 64, progress: Any = False
                               ) -> Tuple[Any, Any, Any]:
    """Average Drop, Increase and Gain (xplique's metrics): the image times
    its min-max normalized |explanation| through the model. Returns (drop,
    increase, gain), each (n,)."""
    with Call(images, "images") as call:
        opts = fill_options(_core.AverageScoreOptions(),
                            dict(activation=activation, batch_size=batch_size), _ENUMS)
        exported, layout_enum, shape, ids, k, forward, adapter, bar = _model_call(
            model, images, targets, layout, num_outputs, 2, "average_drop_increase_gain",
            progress, call)
        e, e_layout = _explanations(call, explanations, layout, explanations_layout)
        try:
            drop, increase, gain = run(_core.average_drop_increase_gain, [adapter], call.ctx,
                                       forward, call.cuda and not call.fw.stream_ordered, k,
                                       exported, layout_enum, ids, e, e_layout, opts)
        finally:
            _progress.close(bar)
        return call.result(drop), call.result(increase), call.result(gain)


class _ExplainerAdapter(Adapter):
    """An explainer callable(images, targets) -> explanations for the C++
    AverageStability: the library sets `targets` before each call."""

    __slots__ = ("targets",)

    def __init__(self, explainer: Any, call: Call):
        super().__init__(explainer, call, "explainer", None)
        self.targets: list = []

    def __call__(self, batch: Any) -> Any:
        try:
            x = self.fw.from_dlpack(batch, self.cuda)
            out = self.fw.model_result(self.model(x, list(self.targets)))
            if self.cuda and hasattr(out, "__dlpack__"):
                out = out.__dlpack__(stream=self.stream)
            return out
        except BaseException as e:
            self.error = e
            raise


def average_stability(explainer: Any, images: Any, targets: Any, *, layout: str = "nchw",
                      base_explanations: Any = None, radius: float = 0.1,
                      distance: str = "l2", nb_samples: int = 20, seed: int = 0,
                      convention: str = "paper", batch_size: int = 64) -> Any:
    """AverageStability (Bhatt et al.): the mean distance between an image's
    explanation and those of nb_samples neighbours x + u radius (u uniform
    per element). explainer(images, targets) returns the explanations of a
    batch (an array of the images' framework, the same shape per image),
    e.g. lambda x, t: cuxplain.sobol_attribution(model, x, t). Returns (n,)
    distances; lower is better."""
    if not callable(explainer):
        raise ArgumentError(f"explainer must be callable, got {type(explainer).__qualname__}")
    with Call(images, "images") as call:
        exported, layout_enum, shape, images = call.images(images, layout)
        ids = targets_list(targets, shape[0])
        opts = fill_options(
            _core.StabilityOptions(),
            dict(radius=radius, distance=distance, nb_samples=nb_samples, seed=seed,
                 convention=convention, batch_size=batch_size), _ENUMS)
        if base_explanations is None:
            probe = explainer(images[0:1], ids[0:1])
            row_shape = tuple(int(s) for s in call.fw.shape(probe)[1:])
            base = None
        else:
            row_shape = tuple(int(s) for s in call.fw.shape(base_explanations)[1:])
            base = call.array(base_explanations, "base_explanations")
        adapter = _ExplainerAdapter(explainer, call)
        out = run(_core.average_stability, [adapter], call.ctx, adapter,
                  call.cuda and not call.fw.stream_ordered, list(row_shape), exported,
                  layout_enum, ids, base, opts)
        return call.result(out)


def complexity(explanations: Any, *, layout: str = "nchw") -> Any:
    """Complexity (xplique's): the entropy of each map's |values| (channels
    averaged), normalized to sum 1. (n, h, w) maps or a 4-D batch. Returns
    (n,); lower is more concentrated."""
    with Call(explanations, "explanations") as call:
        e = call.array(explanations, "explanations")
        return call.result(_core.complexity(call.ctx, e, layout_of(layout)))


def sparseness(explanations: Any, *, layout: str = "nchw") -> Any:
    """Sparseness (xplique's): the Gini index of each map's |values|.
    Returns (n,); higher is sparser."""
    with Call(explanations, "explanations") as call:
        e = call.array(explanations, "explanations")
        return call.result(_core.sparseness(call.ctx, e, layout_of(layout)))


def _pair(value: Union[int, Sequence[int]], name: str) -> Tuple[int, int]:
    if isinstance(value, bool):
        raise ArgumentError(f"{name} must be an int or a pair of ints, got {value!r}")
    if isinstance(value, int):
        return value, value
    try:
        a, b = value
        return int(a), int(b)
    except (TypeError, ValueError):
        raise ArgumentError(f"{name} must be an int or a pair of ints, got {value!r}") from None


def occlusion(model: Any, images: Any, targets: Any, *, layout: str = "nchw",
              num_outputs: Optional[int] = None, patch_size: Union[int, Sequence[int]] = 3,
              patch_stride: Union[int, Sequence[int]] = 3, occlusion_value: float = 0.0,
              batch_size: int = 32, progress: Any = False) -> Any:
    """Occlusion (xplique's Occlusion): every patch of patch_size pixels
    (anchors every patch_stride, whole patches only) set to
    occlusion_value; a pixel's score is the sum of g(x) - g(occluded) over
    the patches that cover it. Returns (n, h, w) maps."""
    ph, pw = _pair(patch_size, "patch_size")
    sh, sw = _pair(patch_stride, "patch_stride")
    with Call(images, "images") as call:
        opts = fill_options(_core.OcclusionOptions(),
                            dict(patch_h=ph, patch_w=pw, stride_h=sh, stride_w=sw,
                                 occlusion_value=occlusion_value, batch_size=batch_size), {})
        shape = call.fw.shape(images)
        h, w = (shape[2], shape[3]) if layout == "nchw" else (shape[1], shape[2])
        rows = _core.occlusion_patches(h, w, opts) + 1 if len(shape) == 4 else 1
        exported, layout_enum, shape, ids, k, forward, adapter, bar = _model_call(
            model, images, targets, layout, num_outputs, rows, "occlusion", progress, call)
        try:
            out = run(_core.occlusion, [adapter], call.ctx, forward,
                      call.cuda and not call.fw.stream_ordered, k, exported, layout_enum, ids,
                      opts)
        finally:
            _progress.close(bar)
        return call.result(out)


def rise(model: Any, images: Any, targets: Any, *, layout: str = "nchw",
         num_outputs: Optional[int] = None, nb_samples: int = 4000, grid_size: int = 7,
         preservation_probability: float = 0.5, mask_value: float = 0.0, seed: int = 0,
         convention: str = "paper", batch_size: int = 32, progress: Any = False) -> Any:
    """RISE (Petsiuk et al.; xplique's Rise defaults): nb_samples random
    grid_size x grid_size binary masks, upsampled bilinearly with random
    shifts; the saliency is the masks weighted by the target score.
    convention "xplique" takes xplique's one shift per batch and per-pixel
    normalization. Returns (n, h, w) maps."""
    with Call(images, "images") as call:
        opts = fill_options(
            _core.RiseOptions(),
            dict(nb_samples=nb_samples, grid_size=grid_size,
                 preservation_probability=preservation_probability, mask_value=mask_value,
                 seed=seed, convention=convention, batch_size=batch_size), _ENUMS)
        exported, layout_enum, shape, ids, k, forward, adapter, bar = _model_call(
            model, images, targets, layout, num_outputs, nb_samples, "rise", progress, call)
        try:
            out = run(_core.rise, [adapter], call.ctx, forward,
                      call.cuda and not call.fw.stream_ordered, k, exported, layout_enum, ids,
                      opts)
        finally:
            _progress.close(bar)
        return call.result(out)


def kernel_shap(model: Any, images: Any, targets: Any, *, layout: str = "nchw",
                num_outputs: Optional[int] = None, grid_size: int = 8, nb_samples: int = 800,
                baseline: Optional[float] = None, seed: int = 0,
                mask_interpolation: str = "nearest_exact", batch_size: int = 64,
                progress: Any = False) -> Any:
    """KernelSHAP on grid cells (xplique's KernelShap sampling and least
    squares): nb_samples coalitions, absent cells set to `baseline` (None:
    0.5 for 3-channel images, 0 otherwise, as xplique). Returns (n, g, g)
    coefficients."""
    with Call(images, "images") as call:
        opts = fill_options(
            _core.KernelShapOptions(),
            dict(grid_size=grid_size, nb_samples=nb_samples, seed=seed,
                 mask_interpolation=mask_interpolation, batch_size=batch_size), _ENUMS)
        if baseline is not None:
            if isinstance(baseline, bool) or not isinstance(baseline, (int, float)):
                raise ArgumentError(f"baseline must be a float or None, got {baseline!r}")
            opts.baseline = float(baseline)
        exported, layout_enum, shape, ids, k, forward, adapter, bar = _model_call(
            model, images, targets, layout, num_outputs, nb_samples, "kernel_shap", progress,
            call)
        try:
            out = run(_core.kernel_shap, [adapter], call.ctx, forward,
                      call.cuda and not call.fw.stream_ordered, k, exported, layout_enum, ids,
                      opts)
        finally:
            _progress.close(bar)
        return call.result(out)


__all__ = [
    "average_drop_increase_gain",
    "average_stability",
    "causal_step_counts",
    "complexity",
    "deletion",
    "insertion",
    "kernel_shap",
    "mu_fidelity",
    "occlusion",
    "rise",
    "sparseness",
]
