"""The .io format of the ONNX fixtures in this directory, written in one place
for make_fixtures.py (torch exports) and make_keras_fixture.py (tf2onnx).

<name>.io: little-endian int32 n, int32 input floats per sample, int32 output
floats per sample, then the n inputs and the n onnxruntime outputs (float32,
each sample's values in the order of the model's input and output tensors).
tests/common/onnx_fixtures.hpp reads it.
"""
import struct

import numpy as np


def write_io(path, inputs, outputs):
    """Write n inputs and their n outputs (arrays with n as their first axis)."""
    inputs = np.asarray(inputs, dtype="<f4")
    outputs = np.asarray(outputs, dtype="<f4")
    n = inputs.shape[0]
    assert outputs.shape[0] == n, (inputs.shape, outputs.shape)
    with open(path, "wb") as f:
        f.write(struct.pack("<iii", n, int(inputs[0].size), int(outputs[0].size)))
        f.write(np.ascontiguousarray(inputs).tobytes())
        f.write(np.ascontiguousarray(outputs).tobytes())
