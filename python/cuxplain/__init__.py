"""cuxplain: black-box explainability of vision models (Sobol, HSIC, EVA,
CRAFT) on the CPU or a CUDA GPU, from NumPy, PyTorch, JAX, CuPy or
TensorFlow arrays through DLPack, without copying them.

    import cuxplain
    scores = cuxplain.sobol_attribution(model, images, targets, grid_size=7)

The device of the images picks the backend: host arrays run on the CPU
backend, CUDA arrays on the CUDA backend, on the framework's current
stream. Results come back in the images' framework on their device. See
cuxplain.xplique for a drop-in layer over xplique's Sobol and HSIC classes.
"""

from . import _core  # noqa: F401  (cuxplain._core: the extension)
from ._api import (
    backends,
    cuda_available,
    eva_attribution,
    generate_samples,
    hsic_attribution,
    hsic_design,
    sobol_attribution,
    sobol_design_masks,
    sobol_first_order,
    sobol_total_order,
    upsample,
)
from .metrics import (
    average_drop_increase_gain,
    average_stability,
    causal_step_counts,
    complexity,
    deletion,
    insertion,
    kernel_shap,
    mu_fidelity,
    occlusion,
    rise,
    sparseness,
)
from ._call import ConversionWarning
from ._core import ArgumentError, Error
from . import craft, metrics, nmf, nn  # noqa: E402  (they import the names above)

__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "ConversionWarning",
    "Error",
    "average_drop_increase_gain",
    "average_stability",
    "backends",
    "causal_step_counts",
    "complexity",
    "craft",
    "cuda_available",
    "deletion",
    "eva_attribution",
    "generate_samples",
    "hsic_attribution",
    "hsic_design",
    "insertion",
    "kernel_shap",
    "metrics",
    "mu_fidelity",
    "nmf",
    "nn",
    "occlusion",
    "rise",
    "sobol_attribution",
    "sobol_design_masks",
    "sobol_first_order",
    "sobol_total_order",
    "sparseness",
    "upsample",
]
