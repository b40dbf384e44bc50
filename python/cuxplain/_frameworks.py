"""How each array framework is read and written through DLPack.

An array's framework is told from its type's module (numpy, torch, jax,
cupy, tensorflow); anything else with ``__dlpack__`` is read as a plain
DLPack producer, and results for it come back as NumPy arrays (host) or as
DLPack objects (CUDA). Frameworks are imported only when an array of theirs
is seen, so none of them is a dependency of the package.
"""

from __future__ import annotations

import contextlib
from typing import Any, Optional, Tuple

# DLPack device types (dlpack.h, DLDeviceType).
DL_CPU = 1
DL_CUDA = 2
DL_CUDA_HOST = 3
DL_CUDA_MANAGED = 13


class Framework:
    """The generic DLPack producer: what every framework shares."""

    name = "dlpack"
    # Results and batches may stay on the framework's current CUDA stream
    # without a synchronization: the framework orders its own work on it.
    stream_ordered = False

    def device(self, x: Any) -> Tuple[int, int]:
        """(DLPack device type, device id)."""
        return tuple(x.__dlpack_device__())

    def dtype_name(self, x: Any) -> str:
        return str(getattr(x, "dtype", "unknown"))

    def is_float32(self, x: Any) -> bool:
        return self.dtype_name(x) == "float32"

    def is_contiguous(self, x: Any) -> bool:
        return True

    def to_float32_contiguous(self, x: Any) -> Any:
        return None  # cannot convert an unknown producer

    def shape(self, x: Any) -> Tuple[int, ...]:
        return tuple(int(s) for s in x.shape)

    def from_dlpack(self, array: Any, cuda: bool) -> Any:
        """A framework array over a DLPack object (no copy)."""
        if cuda:
            return array
        import numpy

        return numpy.from_dlpack(array)

    def export(self, x: Any, stream: Optional[int]) -> Any:
        """What the C++ layer imports: the array itself on the host, a
        capsule made on the consumer's stream for CUDA."""
        if stream is None:
            return x
        return x.__dlpack__(stream=stream)

    def current_stream(self, x: Any, device: int) -> int:
        """The cudaStream_t the caller's work on `device` is ordered on."""
        return 0

    def device_guard(self, device: int):
        return contextlib.nullcontext()

    def to_list(self, x: Any) -> list:
        return x.tolist()

    def model_result(self, out: Any) -> Any:
        """A model's result made exportable (PyTorch: detached from autograd)."""
        return out


class NumPy(Framework):
    name = "numpy"

    def is_contiguous(self, x):
        return bool(x.flags.c_contiguous)

    def to_float32_contiguous(self, x):
        import numpy

        return numpy.ascontiguousarray(x, dtype=numpy.float32)


class Torch(Framework):
    name = "torch"
    stream_ordered = True

    def dtype_name(self, x):
        return str(x.dtype).replace("torch.", "")

    def is_contiguous(self, x):
        return bool(x.is_contiguous())

    def to_float32_contiguous(self, x):
        import torch

        return x.to(torch.float32).contiguous()

    def from_dlpack(self, array, cuda):
        import torch

        return torch.from_dlpack(array)

    def current_stream(self, x, device):
        import torch

        return int(torch.cuda.current_stream(device).cuda_stream)

    def device_guard(self, device):
        import torch

        return torch.cuda.device(device)

    def to_list(self, x):
        return x.detach().cpu().tolist()

    def model_result(self, out):
        # A module called without torch.no_grad() returns tensors that
        # require grad, which DLPack refuses to export; detaching is free.
        if getattr(out, "requires_grad", False):
            return out.detach()
        return out


class Jax(Framework):
    name = "jax"

    def to_float32_contiguous(self, x):
        import jax.numpy as jnp

        return x.astype(jnp.float32)

    def from_dlpack(self, array, cuda):
        import jax.numpy as jnp

        return jnp.from_dlpack(array)

    def to_list(self, x):
        import numpy

        return numpy.asarray(x).tolist()


class CuPy(Framework):
    name = "cupy"
    stream_ordered = True

    def is_contiguous(self, x):
        return bool(x.flags.c_contiguous)

    def to_float32_contiguous(self, x):
        import cupy

        return cupy.ascontiguousarray(x, dtype=cupy.float32)

    def from_dlpack(self, array, cuda):
        import cupy

        return cupy.from_dlpack(array)

    def current_stream(self, x, device):
        import cupy

        with cupy.cuda.Device(device):
            return int(cupy.cuda.get_current_stream().ptr)

    def device_guard(self, device):
        import cupy

        return cupy.cuda.Device(device)


class TensorFlow(Framework):
    name = "tensorflow"

    def device(self, x):
        # EagerTensor has no __dlpack_device__: read its device string
        # ("/job:localhost/replica:0/task:0/device:GPU:0").
        spec = x.device.upper()
        if ":GPU:" in spec:
            return (DL_CUDA, int(spec.rsplit(":", 1)[1]))
        return (DL_CPU, 0)

    def dtype_name(self, x):
        return x.dtype.name

    def to_float32_contiguous(self, x):
        import tensorflow as tf

        return tf.cast(x, tf.float32)

    def from_dlpack(self, array, cuda):
        import tensorflow as tf

        return tf.experimental.dlpack.from_dlpack(array.__dlpack__())

    def export(self, x, stream):
        if stream is None:
            return x
        import tensorflow as tf

        return tf.experimental.dlpack.to_dlpack(x)

    def to_list(self, x):
        return x.numpy().tolist()


_BY_MODULE = {
    "numpy": NumPy(),
    "torch": Torch(),
    "jax": Jax(),
    "jaxlib": Jax(),
    "cupy": CuPy(),
    "tensorflow": TensorFlow(),
}
_GENERIC = Framework()


def framework_of(x: Any, name: str) -> Framework:
    """The framework of array `x`; ArgumentError naming `name` when `x` is
    not an array at all."""
    module = type(x).__module__.split(".", 1)[0]
    fw = _BY_MODULE.get(module)
    if fw is not None:
        return fw
    if hasattr(x, "__dlpack__") and hasattr(x, "__dlpack_device__"):
        return _GENERIC
    from ._core import ArgumentError

    raise ArgumentError(
        f"{name} must be an array (NumPy, PyTorch, JAX, CuPy, TensorFlow or any object "
        f"with __dlpack__), got {type(x).__module__}.{type(x).__qualname__}"
    )


def is_cuda(device: Tuple[int, int]) -> bool:
    return device[0] in (DL_CUDA, DL_CUDA_MANAGED)


def dlpack_stream(stream: int) -> int:
    """The DLPack `stream=` value for a cudaStream_t: 0 (the legacy default
    stream) is spelled 1 in DLPack, where 0 is not allowed."""
    return stream if stream != 0 else 1


def describe_device(device: Tuple[int, int]) -> str:
    if device[0] in (DL_CPU, DL_CUDA_HOST):
        return "cpu"
    return f"cuda:{device[1]}"

