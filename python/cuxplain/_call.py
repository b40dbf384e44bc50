"""One library call from Python: the context the images' device picks,
arguments converted and checked, callables adapted, results returned in the
caller's framework, and a callable's own exception re-raised."""

from __future__ import annotations

import enum
import warnings
from typing import Any, Dict, Optional, Sequence, Tuple

from . import _core
from ._core import ArgumentError
from ._frameworks import (
    DL_CUDA_HOST,
    Framework,
    describe_device,
    dlpack_stream,
    framework_of,
    is_cuda,
)


class ConversionWarning(UserWarning):
    """An argument was converted (copied once) to float32 C-contiguous."""


_LAYOUTS = {"nchw": _core.Layout.nchw, "nhwc": _core.Layout.nhwc}


def layout_of(layout: str) -> "_core.Layout":
    try:
        return _LAYOUTS[layout]
    except (KeyError, TypeError):
        raise ArgumentError(f"layout must be 'nchw' or 'nhwc', got {layout!r}") from None


def enum_value(enum_type: Any, value: Any, name: str) -> Any:
    """An option enum from its name ("sobol" -> Sampler.sobol)."""
    if isinstance(value, enum_type):
        return value
    members = enum_type.__members__
    if isinstance(value, str) and value in members:
        return members[value]
    choices = ", ".join(repr(m) for m in members)
    raise ArgumentError(f"{name} must be one of {choices}, got {value!r}")


def fill_options(options: Any, values: Dict[str, Any], enums: Dict[str, Any]) -> Any:
    """Sets each option on a C++ options struct; a value of the wrong type
    is an ArgumentError naming the keyword."""
    for key, value in values.items():
        current = getattr(options, key)
        if key in enums:
            value = enum_value(enums[key], value, key)
        elif isinstance(value, (str, enum.Enum)) or (
                isinstance(value, bool) != isinstance(current, bool)):
            # nanobind would take "8" for no int, but True for 1: refuse both.
            raise ArgumentError(f"{key} must be {type(current).__name__}, got {value!r}")
        try:
            setattr(options, key, value)
        except TypeError:
            raise ArgumentError(
                f"{key} must be {type(current).__name__}"
                f"{' >= 0' if key == 'seed' else ''}, got {value!r}"
            ) from None
    return options


class Call:
    """The arguments of one call: the framework and device of `images` (or
    `like`), the Context, and the conversions done."""

    def __init__(self, array: Any, name: str, *, fw: Optional[Framework] = None,
                 device: Optional[Tuple[int, int]] = None):
        # Either an array, whose framework and device pick the backend, or
        # (fw, device) remembered from an earlier call (CRAFT's concepts).
        self.fw: Framework = fw if fw is not None else framework_of(array, name)
        self.device = device if device is not None else self.fw.device(array)
        self.cuda = is_cuda(self.device)
        if self.cuda:
            if not _core.cuda_available():
                raise ArgumentError(
                    f"{name} is on {describe_device(self.device)} but this cuxplain has no "
                    f"usable CUDA backend (built with CUDA: {_core.BUILT_WITH_CUDA}); pass "
                    f"host arrays or rebuild with nvcc present"
                )
            self.guard = self.fw.device_guard(self.device[1])
            self.guard.__enter__()
            self.stream = self.fw.current_stream(array, self.device[1])
            self.ctx = _core.Context.cuda(self.stream)
        else:
            self.guard = None
            self.stream = None
            self.ctx = _core.Context.host()

    def __enter__(self) -> "Call":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.guard is not None:
            self.guard.__exit__(*exc)

    # -- arguments --

    def array(self, x: Any, name: str, convert: bool = True) -> Any:
        """x as the C++ layer imports it: float32 and C-contiguous on this
        call's device. A float array of another dtype or layout is converted
        once with a ConversionWarning (never per batch); anything else is an
        ArgumentError naming `name`."""
        return self.export(self.converted(x, name, convert), name)

    def converted(self, x: Any, name: str, convert: bool = True) -> Any:
        """x itself, or its float32 C-contiguous copy (with the warning)."""
        fw = framework_of(x, name)
        device = fw.device(x)
        same = (is_cuda(device) == self.cuda) and (not self.cuda or device[1] == self.device[1])
        if not same and not (not self.cuda and device[0] == DL_CUDA_HOST):
            raise ArgumentError(
                f"{name} is on {describe_device(device)} but the computation runs on "
                f"{describe_device(self.device)} (where the images are)"
            )
        if not (fw.is_float32(x) and fw.is_contiguous(x)):
            converted = fw.to_float32_contiguous(x) if convert else None
            what = (
                f"{fw.dtype_name(x)}" if not fw.is_float32(x) else "non-contiguous float32"
            )
            if converted is None:
                raise ArgumentError(
                    f"{name} must be float32 and C-contiguous, got {what} {fw.name} array of "
                    f"shape {fw.shape(x)}"
                )
            warnings.warn(
                f"cuxplain: {name} converted once from {what} to float32 C-contiguous "
                f"({fw.name}, shape {fw.shape(x)}); pass float32 contiguous arrays to avoid "
                f"the copy",
                ConversionWarning,
                stacklevel=4,
            )
            x = converted
        return x

    def export(self, x: Any, name: str) -> Any:
        return framework_of(x, name).export(x, dlpack_stream(self.stream) if self.cuda else None)

    def images(self, images: Any, layout: str
               ) -> Tuple[Any, "_core.Layout", Tuple[int, ...], Any]:
        """(exported images, layout enum, shape, the images as float32
        C-contiguous: converted once when they were not)."""
        layout_enum = layout_of(layout)
        shape = self.fw.shape(images)
        if len(shape) != 4:
            raise ArgumentError(
                f"images must be a 4-D batch ({'n, c, h, w' if layout == 'nchw' else 'n, h, w, c'}"
                f" for layout={layout!r}), got shape {shape}; add the batch axis with "
                f"images[None] for one image"
            )
        images = self.converted(images, "images")
        return self.export(images, "images"), layout_enum, shape, images

    # -- results --

    def result(self, array: Any) -> Any:
        """A C++ result as the caller's framework array on its device."""
        if self.cuda and not self.fw.stream_ordered:
            # The framework reads it on a stream of its own: let the work
            # that wrote it finish first.
            self.ctx.synchronize()
        return self.fw.from_dlpack(array, self.cuda)

    # -- callables --

    def adapter(self, model: Any, name: str = "model", progress: Any = None) -> "Adapter":
        return Adapter(model, self, name, progress)


class Adapter:
    """Wraps a user callable for the C++ callbacks: the batch (a view of
    cuxplain's buffer) goes in as the caller's framework array, the result
    goes out as the C++ layer imports it. Keeps the callable's exception so
    that the caller sees it, not only cuxplain's report of it."""

    __slots__ = ("model", "fw", "cuda", "stream", "error", "progress", "name")

    def __init__(self, model: Any, call: Call, name: str, progress: Any):
        if not callable(model):
            raise ArgumentError(f"{name} must be callable, got {type(model).__qualname__}")
        self.model = model
        self.fw = call.fw
        self.cuda = call.cuda
        self.stream = dlpack_stream(call.stream) if call.cuda else None
        self.error: Optional[BaseException] = None
        self.progress = progress
        self.name = name

    def __call__(self, batch: Any) -> Any:
        try:
            x = self.fw.from_dlpack(batch, self.cuda)
            out = self.fw.model_result(self.model(x))
            if self.cuda and hasattr(out, "__dlpack__"):
                out = out.__dlpack__(stream=self.stream)
            if self.progress is not None:
                self.progress.update(int(x.shape[0]))
            return out
        except BaseException as e:  # KeyboardInterrupt too: the caller gets it back
            self.error = e
            raise

    def reraise(self, err: BaseException) -> None:
        """Raises the callable's own exception, chained to cuxplain's
        report `err`, when the library failed because of it."""
        if self.error is not None:
            original, self.error = self.error, None
            raise original from err


def run(call_cpp: Any, adapters: Sequence[Optional[Adapter]], *args: Any) -> Any:
    """Runs a C++ entry; a callable's exception comes back as itself."""
    try:
        return call_cpp(*args)
    except _core.Error as err:
        for adapter in adapters:
            if adapter is not None:
                adapter.reraise(err)
        raise


def targets_list(targets: Any, n: int, num_outputs: Optional[int] = None) -> list:
    """Class ids from ints, a sequence or array of ints, or one-hot rows
    (as xplique takes them). An int alone applies to every image."""
    if isinstance(targets, bool):
        raise ArgumentError(f"targets must be class ids or one-hot rows, got {targets!r}")
    if isinstance(targets, int):
        return [targets] * n
    if hasattr(targets, "__dlpack__") or type(targets).__module__.split(".")[0] in (
        "numpy",
        "torch",
        "jax",
        "jaxlib",
        "cupy",
        "tensorflow",
    ):
        fw = framework_of(targets, "targets")
        values = fw.to_list(targets)
    elif isinstance(targets, (list, tuple)):
        values = list(targets)
    else:
        raise ArgumentError(
            f"targets must be an int, a sequence of ints or an array (class ids or one-hot "
            f"rows), got {type(targets).__qualname__}"
        )
    if values and isinstance(values[0], (list, tuple)):
        ids = []
        for i, row in enumerate(values):
            hot = [j for j, v in enumerate(row) if v != 0]
            if len(hot) != 1 or row[hot[0]] != 1:
                raise ArgumentError(
                    f"targets row {i} is not one-hot (exactly one 1, zeros elsewhere): {row}; "
                    f"cuxplain explains one class per image"
                )
            if num_outputs is not None and len(row) != num_outputs:
                raise ArgumentError(
                    f"targets rows have {len(row)} entries but the model has {num_outputs} "
                    f"outputs"
                )
            ids.append(hot[0])
        values = ids
    if len(values) != n:
        raise ArgumentError(f"targets has {len(values)} entries for {n} images")
    out = []
    for i, v in enumerate(values):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if not isinstance(v, int) or isinstance(v, bool):
            raise ArgumentError(f"targets[{i}] must be an integer class id, got {v!r}")
        out.append(v)
    return out


def one_hot_width(targets: Any) -> Optional[int]:
    """K of one-hot targets (n, K); None for class ids."""
    shape = getattr(targets, "shape", None)
    if shape is not None and len(shape) == 2:
        return int(shape[1])
    if isinstance(targets, (list, tuple)) and targets and isinstance(targets[0], (list, tuple)):
        return len(targets[0])
    return None


def probe_outputs(model: Any, images: Any, fw: Framework) -> int:
    """K from one call of the model on the first image (its own view, no
    copy): the model must return (1, K)."""
    if fw.name == "dlpack":
        raise ArgumentError("num_outputs is needed with images of a framework cuxplain does not "
                            "know (it learns it from one model call on images[0:1])")
    out = model(images[0:1])
    shape = getattr(out, "shape", None)
    if shape is None or len(shape) != 2 or int(shape[0]) != 1:
        raise ArgumentError(
            f"model must return (n, num_outputs) scores; on a batch of 1 image it returned "
            f"{type(out).__qualname__} of shape {None if shape is None else tuple(shape)}"
        )
    return int(shape[1])

