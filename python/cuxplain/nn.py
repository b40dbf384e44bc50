"""Networks read from ONNX files (cuxplain::nn): forward passes, interval
bounds, EVA, and the halves of a network cut at a layer for CRAFT.

A Network is also a model: ``net(batch)`` is its forward pass, so it can be
passed to sobol_attribution / hsic_attribution, where it runs without
Python in the loop.
"""

from __future__ import annotations

from typing import Any, List, Tuple

from . import _core
from ._call import Call, targets_list
from ._core import ArgumentError

__all__ = ["Network", "load_onnx", "load_onnx_split", "onnx_tensors", "onnx_available"]


def _context_for(device: str) -> "_core.Context":
    if device == "cpu":
        return _core.Context.host()
    if isinstance(device, str) and (device == "cuda" or device.startswith("cuda:")):
        index = int(device.split(":", 1)[1]) if ":" in device else None
        if not _core.cuda_available():
            raise ArgumentError(
                f"device={device!r} but this cuxplain has no usable CUDA backend (built with "
                f"CUDA: {_core.BUILT_WITH_CUDA})")
        if index is None:
            return _core.Context.cuda(0)
        try:
            import torch

            with torch.cuda.device(index):
                return _core.Context.cuda(0)
        except ImportError:
            if index != 0:
                raise ArgumentError(
                    f"device={device!r}: choosing a CUDA device other than the current one "
                    f"needs torch installed; use 'cuda' for the current device") from None
            return _core.Context.cuda(0)
    raise ArgumentError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")


class Network:
    """A network on one device (cuxplain::nn::Network). Inputs are NCHW
    batches (n, c, h, w) of its input_shape, float32, on its device; outputs
    (n, k) for a flat output, else (n, c, h, w), in the input's framework."""

    def __init__(self, net: "_core.Network"):
        self._net = net

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        """(c, h, w) of one input (a flat vector is (f, 1, 1))."""
        return self._net.input_shape

    @property
    def output_shape(self) -> Tuple[int, int, int]:
        return self._net.output_shape

    @property
    def num_outputs(self) -> int:
        c, h, w = self._net.output_shape
        return c * h * w

    @property
    def device(self) -> str:
        return "cpu" if self._net.backend == "host" else f"cuda:{self._net.device}"

    def summary(self) -> str:
        """One line per op after folding and fusion, with shapes."""
        return self._net.summary()

    def folds_margins(self) -> bool:
        return self._net.folds_margins()

    def forward(self, x: Any) -> Any:
        """The network on a batch x (n, c, h, w)."""
        with Call(x, "input") as call:
            out = self._net.forward(call.ctx, call.array(x, "input"))
            return call.result(out)

    __call__ = forward

    def bounds(self, lower: Any, upper: Any, *, sound: bool = False,
               check_boxes: bool = True) -> Tuple[Any, Any]:
        """Interval bounds (out_lower, out_upper) of the boxes [lower, upper]
        (cuxplain::nn::Network::bounds); sound=True rounds outward."""
        with Call(lower, "lower") as call:
            lo, hi = self._net.bounds(call.ctx, call.array(lower, "lower"),
                                      call.array(upper, "upper"), sound, check_boxes)
            return call.result(lo), call.result(hi)

    def margin_upper_bounds(self, lower: Any, upper: Any, targets: Any, *, sound: bool = False,
                            check_boxes: bool = True) -> Any:
        """(n, k): upper bounds of f_j - f_target over each box."""
        with Call(lower, "lower") as call:
            n = call.fw.shape(lower)[0]
            out = self._net.margin_upper_bounds(call.ctx, call.array(lower, "lower"),
                                                call.array(upper, "upper"),
                                                targets_list(targets, n, self.num_outputs),
                                                sound, check_boxes)
            return call.result(out)

    def __repr__(self) -> str:
        return (f"cuxplain.nn.Network({self.input_shape} -> {self.output_shape}, "
                f"device={self.device!r})")


def load_onnx(path: str, device: str = "cpu", channels_last_as_nchw: bool = False) -> Network:
    """Reads an ONNX classifier and builds it on `device` ("cpu", "cuda",
    "cuda:N"). The supported ops are cuxplain::nn::read_onnx's (Conv, Gemm,
    MatMul, Relu, pools, Flatten, Reshape, BatchNormalization, Add, ...);
    anything else raises cuxplain.Error naming the node.
    channels_last_as_nchw: the model's input is N x H x W x C (a Keras model
    through tf2onnx) and the network takes the same images as N x C x H x W
    (nn::OnnxInput::channels_last_as_nchw), as the explainers hand them to
    a network; with layout="nhwc" images, pass it for such a model."""
    return Network(_core.load_onnx(_context_for(device), str(path), bool(channels_last_as_nchw)))


def load_onnx_split(path: str, tensor: str, device: str = "cpu",
                    channels_last_as_nchw: bool = False) -> Tuple[Network, Network]:
    """(g, h): the network cut at the tensor called `tensor` (see
    onnx_tensors), g computing it from the input and h the output from it,
    as CRAFT needs. channels_last_as_nchw as for load_onnx."""
    g, h = _core.load_onnx_split(_context_for(device), str(path), tensor,
                                 bool(channels_last_as_nchw))
    return Network(g), Network(h)


def onnx_tensors(path: str, channels_last_as_nchw: bool = False
                 ) -> List[Tuple[str, Tuple[int, int, int], bool]]:
    """The tensors an ONNX network computes, in graph order: (name, (c, h,
    w), is_output), the names load_onnx_split takes."""
    return [tuple(t) for t in _core.onnx_tensors(str(path), bool(channels_last_as_nchw))]


def onnx_available() -> bool:
    """True when this cuxplain reads ONNX files (built with libonnx)."""
    return bool(_core.onnx_available())
