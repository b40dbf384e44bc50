"""CRAFT concepts (Fel et al., CVPR 2023; cuxplain::craft): an NMF of a
layer's activations on image crops, the concepts' Sobol importance for a
class, per-image concept maps, and the recursion into sub-concepts.

The model is cut at a layer: g maps images to that layer's non-negative
activations (n, C, H, W), h maps activations to the outputs (n, K)::

    g, h = cuxplain.nn.load_onnx_split("model.onnx", "/features/features.7/MaxPool_output_0")
    model = cuxplain.craft.SplitModel(g, h)
    concepts = cuxplain.craft.fit(model, images, patch_size=10, rank=10)
    importances = cuxplain.craft.concept_importance(model, concepts, images, targets)
    maps = cuxplain.craft.concept_maps(model, concepts, images)

g and h may also be Python callables (batches in the images' framework, as
for sobol_attribution), given the activation shape and h's output count.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from . import _core
from ._call import Adapter, Call, enum_value, fill_options, run, targets_list
from ._core import ArgumentError
from .nn import Network

__all__ = [
    "SplitModel",
    "Concepts",
    "SubConcepts",
    "fit",
    "concept_coefficients",
    "concept_importance",
    "concept_maps",
    "top_crops",
    "fit_subconcepts",
    "crop_grid",
    "extract_crops",
]


class SplitModel:
    """g (images -> activations) and h (activations -> outputs).

    g, h: cuxplain.nn.Network halves (load_onnx_split), or callables: g takes
    an image batch and returns (n, C, H, W) float32 activations >= 0; h takes
    (n, C, H, W) activations and returns (n, K) float32 outputs. h is needed
    by concept_importance only. With callables, give activation_shape (C, H,
    W) and num_outputs (K)."""

    def __init__(self, g: Any, h: Any = None, *,
                 activation_shape: Optional[Tuple[int, int, int]] = None,
                 num_outputs: Optional[int] = None):
        if isinstance(g, Network):
            activation_shape = activation_shape or g.output_shape
        if isinstance(h, Network):
            num_outputs = num_outputs if num_outputs is not None else h.num_outputs
        if activation_shape is None:
            raise ArgumentError("activation_shape (C, H, W) is needed when g is a callable")
        try:
            c, hh, w = (int(s) for s in activation_shape)
        except (TypeError, ValueError):
            raise ArgumentError(
                f"activation_shape must be (C, H, W), got {activation_shape!r}") from None
        if not (isinstance(g, Network) or callable(g)):
            raise ArgumentError(f"g must be a cuxplain.nn.Network or callable, got "
                                f"{type(g).__qualname__}")
        if h is not None and not (isinstance(h, Network) or callable(h)):
            raise ArgumentError(f"h must be a cuxplain.nn.Network, callable or None, got "
                                f"{type(h).__qualname__}")
        self.g, self.h = g, h
        self.activation_shape = (c, hh, w)
        self.num_outputs = int(num_outputs) if num_outputs is not None else 0

    def _source(self, call: Call) -> Tuple["_core.SplitSource", List[Optional[Adapter]]]:
        adapters: List[Optional[Adapter]] = []

        def side(part: Any, name: str) -> Any:
            if part is None:
                return None
            if isinstance(part, Network):
                return part._net
            adapter = call.adapter(part, name)
            adapters.append(adapter)
            return adapter

        c, h, w = self.activation_shape
        source = _core.SplitSource(side(self.g, "g"), side(self.h, "h"),
                                   call.cuda and not call.fw.stream_ordered, c, h, w,
                                   self.num_outputs)
        return source, adapters


class Concepts:
    """What fit learns: the concept bank W (rank, features), each crop's
    coefficients U (crops, rank), the crop grid and the NMF's report. W and U
    are views of cuxplain's memory in the images' framework."""

    def __init__(self, concepts: "_core.Concepts", call: Call):
        self._c = concepts
        self._fw = call.fw
        self._device = call.device
        self._cuda = call.cuda

    rank = property(lambda self: self._c.rank)
    features = property(lambda self: self._c.features)
    crops = property(lambda self: self._c.crops)
    grid = property(lambda self: self._c.grid)
    nmf = property(lambda self: self._c.nmf)

    @property
    def W(self) -> Any:
        return self._fw.from_dlpack(self._c.W, self._cuda)

    @property
    def U(self) -> Any:
        return self._fw.from_dlpack(self._c.U, self._cuda)

    def _call(self) -> Call:
        return Call(None, "concepts", fw=self._fw, device=self._device)

    def __repr__(self) -> str:
        return (f"cuxplain.craft.Concepts(rank={self.rank}, features={self.features}, "
                f"crops={self.crops}, {self.grid!r}, {self.nmf!r})")


class SubConcepts:
    """fit_subconcepts' result: the sub-concepts and the parent's crop ids
    they were fitted on (U's rows follow crop_ids)."""

    def __init__(self, concepts: Concepts, crop_ids: List[int]):
        self.concepts = concepts
        self.crop_ids = crop_ids

    def __repr__(self) -> str:
        return f"cuxplain.craft.SubConcepts({self.concepts!r}, crop_ids={self.crop_ids})"


def _options(patch_size: int = 64, crop_resize: str = "tensorflow_bicubic",
             rank: Optional[int] = None, nmf: Optional[Dict[str, Any]] = None,
             alpha_w: float = 1e-2, nb_design: int = 32, sampler: str = "halton",
             skip: int = 0, seed: int = 0, estimator: str = "jansen",
             map_interpolation: str = "bicubic", batch_size: int = 64
             ) -> "_core.CraftOptions":
    options = fill_options(_core.CraftOptions(), dict(
        patch_size=patch_size, crop_resize=crop_resize, alpha_w=alpha_w, nb_design=nb_design,
        sampler=sampler, skip=skip, seed=seed, estimator=estimator,
        map_interpolation=map_interpolation, batch_size=batch_size),
        dict(crop_resize=_core.CropResize, sampler=_core.Sampler, estimator=_core.Estimator,
             map_interpolation=_core.Interpolation))
    nmf_options = options.nmf
    if nmf:
        if not isinstance(nmf, dict):
            raise ArgumentError(f"nmf must be a dict of cuxplain.nmf.options keywords, got "
                                f"{type(nmf).__qualname__}")
        fill_options(nmf_options, dict(nmf), dict(init=_core.NmfInit))
    if rank is not None:
        fill_options(nmf_options, dict(rank=rank), {})
    options.nmf = nmf_options
    return options


_OPTIONS_DOC = """
    Options (cuxplain::craft::CraftOptions, xplique's defaults): patch_size
    64, crop_resize "tensorflow_bicubic" | "opencv_bicubic", rank 20 (the
    number of concepts), nmf (a dict of cuxplain.nmf.options keywords:
    init, max_iter, tol, seed, ...), alpha_w 0.01, nb_design 32, sampler
    "halton", skip 0, seed 0, estimator "jansen", map_interpolation
    "bicubic" | "nearest", batch_size 64."""


def _bank(concepts: Any, call: Call) -> Any:
    if isinstance(concepts, Concepts):
        return concepts._c.W
    return call.array(concepts, "concepts")


def _check_model(model: Any) -> SplitModel:
    if not isinstance(model, SplitModel):
        raise ArgumentError(f"model must be a cuxplain.craft.SplitModel, got "
                            f"{type(model).__qualname__}")
    return model


def fit(model: SplitModel, images: Any, *, layout: str = "nchw", **options: Any) -> Concepts:
    """CRAFT's concept extraction: every crop of every image, resized back to
    the image size, through g; the activations averaged over space give A
    (crops, C), factorized as A ~ U W."""
    model = _check_model(model)
    opts = _options(**options)
    with Call(images, "images") as call:
        exported, layout_enum, _, images = call.images(images, layout)
        source, adapters = model._source(call)
        concepts = run(_core.craft_fit, adapters, call.ctx, source, exported, layout_enum, opts)
        return Concepts(concepts, call)


def concept_coefficients(model: SplitModel, concepts: Any, images: Any, *,
                         layout: str = "nchw", **options: Any) -> Any:
    """Each image's coefficient map (n, rank, H, W) over the activation
    grid: nmf.transform of its activations at every location with W fixed."""
    model = _check_model(model)
    opts = _options(**options)
    with Call(images, "images") as call:
        exported, layout_enum, _, images = call.images(images, layout)
        source, adapters = model._source(call)
        c, h, w = model.activation_shape
        out = run(_core.craft_concept_coefficients, adapters, call.ctx, source,
                  _bank(concepts, call), c, exported, layout_enum, opts, h, w)
        return call.result(out)


def concept_importance(model: SplitModel, concepts: Any, images: Any, targets: Any, *,
                       layout: str = "nchw", per_image: bool = False, **options: Any) -> Any:
    """Sobol total indices of the concepts for each image's target, averaged
    over the images: (rank,), or (mean, per_image (n, rank)) with
    per_image=True. concepts: a Concepts or a W array (rank, C)."""
    model = _check_model(model)
    if model.h is None:
        raise ArgumentError("concept_importance needs h: build the SplitModel with h")
    opts = _options(**options)
    with Call(images, "images") as call:
        exported, layout_enum, shape, images = call.images(images, layout)
        source, adapters = model._source(call)
        ids = targets_list(targets, shape[0], model.num_outputs)
        mean, each = run(_core.craft_concept_importance, adapters, call.ctx, source,
                         _bank(concepts, call), model.activation_shape[0], exported,
                         layout_enum, ids, opts)
        return (call.result(mean), call.result(each)) if per_image else call.result(mean)


def concept_maps(model: SplitModel, concepts: Any, images: Any, *, layout: str = "nchw",
                 **options: Any) -> Any:
    """Concept attribution maps (n, rank, h, w): the coefficient maps resized
    to the images with map_interpolation."""
    model = _check_model(model)
    opts = _options(**options)
    with Call(images, "images") as call:
        exported, layout_enum, _, images = call.images(images, layout)
        source, adapters = model._source(call)
        out = run(_core.craft_concept_maps, adapters, call.ctx, source, _bank(concepts, call),
                  model.activation_shape[0], exported, layout_enum, opts)
        return call.result(out)


def top_crops(concepts: Concepts, concept: int, count: int) -> List[int]:
    """The `count` crops expressing concept `concept` most, as crop ids of
    concepts.U, best first (ties to the lower id)."""
    if not isinstance(concepts, Concepts):
        raise ArgumentError(f"concepts must be a cuxplain.craft.Concepts, got "
                            f"{type(concepts).__qualname__}")
    with concepts._call() as call:
        return list(_core.craft_top_crops(call.ctx, concepts._c, concept, count))


def fit_subconcepts(earlier: SplitModel, images: Any, concepts: Concepts, concept: int,
                    count: int, *, layout: str = "nchw", **options: Any) -> SubConcepts:
    """The CRAFT paper's recursion: the `count` crops expressing `concept`
    most, cut again from `images` (those fit ran on), through `earlier`'s g
    (a split at an earlier layer) and factorized there with `rank`
    sub-concepts."""
    earlier = _check_model(earlier)
    if not isinstance(concepts, Concepts):
        raise ArgumentError(f"concepts must be a cuxplain.craft.Concepts, got "
                            f"{type(concepts).__qualname__}")
    opts = _options(**options)
    with Call(images, "images") as call:
        exported, layout_enum, _, images = call.images(images, layout)
        source, adapters = earlier._source(call)
        sub, ids = run(_core.craft_fit_subconcepts, adapters, call.ctx, source, exported,
                       layout_enum, concepts._c, concept, count, opts)
        return SubConcepts(Concepts(sub, call), list(ids))


def crop_grid(height: int, width: int, patch_size: int) -> "_core.CropGrid":
    """The crop grid of height x width images: crops of patch_size pixels
    every int(0.8 * patch_size)."""
    return _core.craft_crop_grid(height, width, patch_size)


def extract_crops(images: Any, patch_size: int, first: int = 0, count: Optional[int] = None, *,
                  layout: str = "nchw", resize: str = "tensorflow_bicubic") -> Any:
    """Crops [first, first + count) of the images (all by default), each
    resized back to the images' size, in the images' layout."""
    with Call(images, "images") as call:
        exported, layout_enum, shape, images = call.images(images, layout)
        if count is None:
            h, w = (shape[2], shape[3]) if layout == "nchw" else (shape[1], shape[2])
            count = shape[0] * crop_grid(h, w, patch_size).per_image() - first
        out = _core.craft_extract_crops(call.ctx, exported, layout_enum, patch_size, first, count,
                                        enum_value(_core.CropResize, resize, "resize"))
        return call.result(out)


for _f in (fit, concept_coefficients, concept_importance, concept_maps, fit_subconcepts):
    _f.__doc__ = (_f.__doc__ or "") + "\n" + _OPTIONS_DOC
del _f
