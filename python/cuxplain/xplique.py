"""xplique 2.0.2's Sobol and HSIC explainers on cuxplain.

    from cuxplain.xplique import SobolAttributionMethod   # was: from xplique.attributions import ...
    explainer = SobolAttributionMethod(model, grid_size=8, nb_design=32)
    explanations = explainer.explain(images, one_hot_targets)   # (N, H, W, 1)

The constructors take xplique's arguments with xplique's defaults, and
explain(inputs, targets) returns what xplique returns: for each image the
grid of scores (grid_size, grid_size, nb_channels) resized to the input
with tf.image.resize(method="bicubic"), reproduced bit for bit by
cuxplain.upsample(method="bicubic_tensorflow"), stacked to (N, H, W,
nb_channels) float32.

Accepted: inputs (N, H, W, C) channels-last, as xplique takes them, as any
array cuxplain reads (NumPy, TensorFlow, JAX, PyTorch, CuPy, DLPack), on
the CPU or a CUDA device; targets one-hot (N, K) or class ids (N,); a
model that is any callable returning (n, K) float32 scores in a DLPack
framework (a Keras model on NumPy or TensorFlow inputs, a torch module on
torch tensors, ...). Samplers, estimators and perturbations by xplique's
names: the objects themselves (xplique need not be installed: they are
matched by class name), or strings. The output is the inputs' framework,
not always a tf.Tensor.

Not accepted (an ArgumentError says so): targets that are not one-hot
(xplique's predictions operator sums model(x) * targets, so soft or
regression targets weight the outputs; cuxplain explains one class), an
`operator` other than None or "classification", custom perturbation or
sampler callables, tf.data.Dataset inputs, (N, H, W) inputs without a
channel axis, and HSIC with nb_channels > 1. estimator_batch_size is
accepted and ignored: cuxplain's HSIC never forms the (d, N, N) tensor it
bounds. LatinHypercube(RS) are seeded Latin hypercubes, not scipy's stream,
so their designs (and scores) differ from xplique's run to run anyway.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from . import _api
from ._core import ArgumentError

__all__ = ["SobolAttributionMethod", "HsicAttributionMethod"]

# xplique's samplers: (cuxplain sampler, skip). tf.math.sobol_sample starts
# at the sequence's second point; scipy's Sobol and Halton at the first.
_SOBOL_SAMPLERS: Dict[str, Tuple[str, int]] = {
    "TFSobolSequenceRS": ("sobol", 1),
    "ScipySobolSequenceRS": ("sobol", 0),
    "HaltonSequenceRS": ("halton", 0),
    "LatinHypercubeRS": ("lhs", 0),
}
_HSIC_SAMPLERS: Dict[str, Tuple[str, int]] = {
    "TFSobolSequence": ("sobol", 1),
    "ScipySobolSequence": ("sobol", 0),
    "HaltonSequence": ("halton", 0),
    "LatinHypercube": ("lhs", 0),
}
_SOBOL_ESTIMATORS = {
    "JansenEstimator": "jansen",
    "HommaEstimator": "homma",
    "JanonEstimator": "janon",
    "GlenEstimator": "glen",
    "SaltelliEstimator": "saltelli",
}
_HSIC_ESTIMATORS = {
    "BinaryEstimator": "binary",
    "RbfEstimator": "rbf",
    "SobolevEstimator": "sobolev",
}
_PERTURBATIONS = ("inpainting", "blurring", "amplitude")


def _name_of(value: Any, table: Dict[str, Any], what: str) -> Any:
    """An xplique object (by class name) or a string (a class name or the
    cuxplain value) mapped through `table`."""
    if isinstance(value, str):
        if value in table:
            return table[value]
        for key, mapped in table.items():
            if mapped == value or (isinstance(mapped, tuple) and mapped[0] == value):
                return mapped
    else:
        name = type(value).__name__
        if name in table:
            return table[name]
    raise ArgumentError(
        f"{what} must be one of xplique's {', '.join(table)} (an instance or its name), got "
        f"{value!r}")


def _perturbation(value: Any) -> str:
    # A string, xplique's PerturbationFunction member or its function
    # (inpainting, blurring, amplitude): matched by name.
    name = value if isinstance(value, str) else getattr(value, "__name__", None) or getattr(
        value, "name", "")
    name = name.lower()
    if name in _PERTURBATIONS:
        return name
    raise ArgumentError(
        f"perturbation_function must be 'inpainting', 'blurring' or 'amplitude' (or xplique's "
        f"function of that name), got {value!r}; custom perturbation functions are not supported")


def _operator(operator: Any) -> None:
    if operator is None:
        return
    name = operator if isinstance(operator, str) else getattr(operator, "name", repr(operator))
    if str(name).lower() != "classification":
        raise ArgumentError(
            f"operator must be None or 'classification' (xplique's predictions operator, "
            f"model(x)[target]), got {operator!r}")


class _GsaMethod:
    """What the two explainers share: explain() and the resize."""

    _method = ""

    def __init__(self, model: Any, grid_size: int, nb_design: int, batch_size: Optional[int],
                 perturbation_function: Any, operator: Any, nb_channels: int):
        if not callable(model):
            raise ArgumentError(f"model must be callable, got {type(model).__qualname__}")
        _operator(operator)
        if isinstance(nb_channels, bool) or not isinstance(nb_channels, int) or nb_channels < 1:
            raise ArgumentError(f"nb_channels must be an int >= 1, got {nb_channels!r}")
        self.model = model
        self.grid_size = grid_size
        self.nb_design = nb_design
        # xplique's batch_size None runs every perturbation at once.
        self.batch_size = batch_size
        self.perturbation_function = _perturbation(perturbation_function)
        self.nb_channels = nb_channels
        self.operator = operator

    def _perturbation_options(self) -> Dict[str, Any]:
        # xplique's blurring is cv2.blur with a 10 x 10 box, amplitude
        # sigma 1, inpainting towards 0: cuxplain's defaults.
        return dict(perturbation=self.perturbation_function, mask_interpolation="nearest_exact")

    def _scores(self, inputs: Any, targets: Any, batch_size: int, verbose: bool) -> Any:
        raise NotImplementedError

    def explain(self, inputs: Any, targets: Any = None, verbose: bool = False) -> Any:
        """Attribution maps (N, H, W, nb_channels) float32 for inputs (N, H,
        W, C): the grid of scores of each image resized to H x W as
        tf.image.resize(method="bicubic") resizes it."""
        if targets is None:
            raise ArgumentError("targets are needed (one-hot rows or class ids): tf.data.Dataset "
                                "inputs are not supported")
        shape = tuple(int(s) for s in getattr(inputs, "shape", ()))
        if len(shape) != 4:
            raise ArgumentError(f"inputs must be (N, H, W, C) channels-last, got shape {shape}")
        batch_size = self.batch_size
        if batch_size is None:
            batch_size = 1 << 62  # all at once (cuxplain still bounds it by the images' designs)
        scores = self._scores(inputs, targets, batch_size, verbose)
        return _api.upsample(scores, (shape[1], shape[2]), method="bicubic_tensorflow")

    __call__ = explain


class SobolAttributionMethod(_GsaMethod):
    """xplique 2.0.2's SobolAttributionMethod on cuxplain: total-order
    Sobol indices on a grid_size x grid_size grid (Fel et al., NeurIPS
    2021). The same arguments and defaults; see the module's notes."""

    def __init__(self, model: Any, grid_size: int = 8, nb_design: int = 32,
                 sampler: Any = None, estimator: Any = None,
                 perturbation_function: Any = "inpainting", batch_size: Optional[int] = 256,
                 operator: Any = None, *, nb_channels: int = 1):
        super().__init__(model, grid_size, nb_design, batch_size, perturbation_function,
                         operator, nb_channels)
        self.sampler, self.skip = _name_of(
            "TFSobolSequenceRS" if sampler is None else sampler, _SOBOL_SAMPLERS, "sampler")
        self.estimator = _name_of("JansenEstimator" if estimator is None else estimator,
                                  _SOBOL_ESTIMATORS, "estimator")

    def _scores(self, inputs, targets, batch_size, verbose):
        channels = int(inputs.shape[3])
        if self.nb_channels not in (1, channels):
            raise ArgumentError(
                f"nb_channels must be 1 or the inputs' {channels} channels, got "
                f"{self.nb_channels}")
        scores = _api.sobol_attribution(
            self.model, inputs, targets, layout="nhwc", grid_size=self.grid_size,
            nb_design=self.nb_design, sampler=self.sampler, skip=self.skip,
            estimator=self.estimator, per_channel=self.nb_channels > 1, batch_size=batch_size,
            progress=verbose, **self._perturbation_options())
        if self.nb_channels == 1:
            scores = scores[..., None]  # (N, g, g, 1), as xplique's (g, g, 1) heatmaps
        return scores


class HsicAttributionMethod(_GsaMethod):
    """xplique 2.0.2's HsicAttributionMethod on cuxplain: HSIC between each
    grid cell's mask and the output (Novello et al., NeurIPS 2022). The same
    arguments and defaults; see the module's notes."""

    def __init__(self, model: Any, grid_size: int = 8, nb_design: int = 500,
                 sampler: Any = None, estimator: Any = None,
                 perturbation_function: Any = "inpainting", batch_size: Optional[int] = 256,
                 estimator_batch_size: Optional[int] = None, operator: Any = None, *,
                 nb_channels: int = 1):
        super().__init__(model, grid_size, nb_design, batch_size, perturbation_function,
                         operator, nb_channels)
        if nb_channels != 1:
            raise ArgumentError(f"nb_channels must be 1 for HSIC in cuxplain, got {nb_channels}")
        self.estimator = _name_of("BinaryEstimator" if estimator is None else estimator,
                                  _HSIC_ESTIMATORS, "estimator")
        if sampler is None:
            self.sampler, self.skip, self.binary = "sobol", 1, True  # TFSobolSequence(binary=True)
        else:
            self.sampler, self.skip = _name_of(sampler, _HSIC_SAMPLERS, "sampler")
            # xplique's samplers carry `binary`; a name alone takes the
            # estimator's (binary masks for BinaryEstimator).
            self.binary = bool(getattr(sampler, "binary", self.estimator == "binary"))
        output_kernel = getattr(estimator, "output_kernel", "rbf")
        if output_kernel != "rbf":
            raise ArgumentError(f"the estimator's output_kernel must be 'rbf', got "
                                f"{output_kernel!r}")
        if self.estimator == "binary" and not self.binary:
            raise ArgumentError("The sampler must be binary for BinaryEstimator.")
        self.estimator_batch_size = estimator_batch_size

    def _scores(self, inputs, targets, batch_size, verbose):
        scores = _api.hsic_attribution(
            self.model, inputs, targets, layout="nhwc", grid_size=self.grid_size,
            nb_design=self.nb_design, sampler=self.sampler, skip=self.skip, binary=self.binary,
            input_kernel=self.estimator, batch_size=batch_size, progress=verbose,
            **self._perturbation_options())
        return scores[..., None]
