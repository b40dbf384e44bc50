"""A Keras classifier exported by tf2onnx, as fixtures for cuxplain's ONNX
reader: keras_cnn.onnx and keras_cnn_autopad.onnx, each with its .io (n
random inputs and onnxruntime's outputs on them, the format fixture_io.py
writes). keras_cnn is exported with its 24 x 24 input size; keras_cnn_autopad
is the same model exported with dynamic H and W (tf2onnx then writes "same"
padding as auto_pad = SAME_UPPER), the sizes then fixed in its graph input.

The model is a small channels-last Keras functional classifier, input
24 x 24 x 3 (NHWC, as Keras has it), with seeded random weights and random
batch-norm statistics: Normalization (ImageNet mean and variance), Conv2D
with padding "same" and strides 2, BatchNormalization, ReLU6, a residual
block (DepthwiseConv2D "same", BatchNormalization, ReLU, 1 x 1 Conv2D
"valid", Add), MaxPooling2D "same", Conv2D "valid" with activation="relu",
AveragePooling2D, GlobalAveragePooling2D, Dense with relu, Dropout, and a
Dense with softmax. tf2onnx (opset 17) converts it with the NHWC input kept:
the normalization stays channels-last (Sub and Mul of [1, 1, 1, 3]
constants), then a Transpose to NCHW; batch norms are folded into the
convolutions, Dropout is dropped, "same" padding becomes explicit (also
asymmetric) pads, GlobalAveragePooling2D a GlobalAveragePool and Squeeze,
Dense a MatMul and Add, ReLU6 a Clip. onnxruntime's outputs on both files
are checked against Keras's own (within 1e-4 relative) before they are
written.

The files were made with tensorflow-cpu 2.15.1 (Keras 2.15), tf2onnx 1.16.1,
onnx 1.16.2, onnxruntime 1.18.1, numpy 1.26.4, protobuf 3.20.3 on Python 3.11.
Regenerate in a throwaway venv:
    python -m venv /tmp/venv-tf2onnx
    /tmp/venv-tf2onnx/bin/pip install tensorflow-cpu==2.15.1 tf2onnx==1.16.1 \\
        onnx==1.16.2 onnxruntime==1.18.1 "numpy<2" "protobuf>=3.20,<4"
    /tmp/venv-tf2onnx/bin/python tests/data/onnx/make_keras_fixture.py tests/data/onnx
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402
from tensorflow import keras  # noqa: E402
from tensorflow.keras import layers  # noqa: E402

from fixture_io import write_io  # noqa: E402

NAME = "keras_cnn"
SHAPE = (24, 24, 3)
CLASSES = 10
SAMPLES = 2
SEED = 2024


def build_model():
    inputs = keras.Input(SHAPE, name="input")
    x = layers.Normalization(mean=[0.485, 0.456, 0.406],
                             variance=[0.229 ** 2, 0.224 ** 2, 0.225 ** 2])(inputs)
    x = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU(max_value=6.0)(x)
    shortcut = x
    y = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(8, 1, padding="valid")(y)
    x = layers.Add()([shortcut, y])
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    x = layers.Conv2D(16, 3, padding="valid", activation="relu")(x)
    x = layers.AveragePooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(CLASSES, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name=NAME)


def randomize(model, rng):
    """Random weights and biases and random batch-norm statistics, so that no
    folded batch norm is an identity. The weights' standard deviation,
    0.55 / sqrt(fan-in), keeps the network's interval bounds at the tests'
    eps = 0.01 informative (He scaling, sqrt(2 / fan-in), widens them to
    softmax's whole [0, 1])."""
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, c), rng.uniform(-0.2, 0.2, c),
                               rng.uniform(-0.2, 0.2, c), rng.uniform(0.5, 1.5, c)])
        elif isinstance(layer, (layers.Conv2D, layers.DepthwiseConv2D, layers.Dense)):
            weights = []
            for w in layer.get_weights():
                if w.ndim == 1:
                    weights.append(rng.uniform(-0.1, 0.1, w.shape))
                else:
                    fan = np.prod(w.shape[:-1]) if not isinstance(layer, layers.DepthwiseConv2D) \
                        else np.prod(w.shape[:2])
                    weights.append(rng.normal(0.0, 0.55 / np.sqrt(fan), w.shape))
            layer.set_weights([w.astype(np.float32) for w in weights])


def export(model, fixed_hw):
    """tf2onnx's conversion at opset 17, the NHWC input kept. With fixed_hw
    the input is N x 24 x 24 x 3 and "same" padding becomes explicit pads;
    without, H and W are exported dynamic, which makes tf2onnx write
    auto_pad = SAME_UPPER instead, and are then fixed to 24 x 24 in the
    graph input (what onnxruntime's make_dynamic_shape_fixed does)."""
    hw = SHAPE[:2] if fixed_hw else (None, None)
    spec = (tf.TensorSpec((None,) + hw + SHAPE[2:], tf.float32, name="input"),)
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=17)
    if not fixed_hw:
        dims = proto.graph.input[0].type.tensor_type.shape.dim
        for axis in (1, 2):
            dims[axis].Clear()
            dims[axis].dim_value = SHAPE[axis - 1]
    onnx.checker.check_model(proto)
    return proto


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    tf.random.set_seed(SEED)
    rng = np.random.default_rng(SEED)
    model = build_model()
    randomize(model, rng)
    x = rng.uniform(0.0, 1.0, (SAMPLES,) + SHAPE).astype(np.float32)
    reference = model(x, training=False).numpy()
    for name, fixed_hw in ((NAME, True), (NAME + "_autopad", False)):
        path = os.path.join(out_dir, name + ".onnx")
        onnx.save(export(model, fixed_hw), path)
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        y = session.run(None, {session.get_inputs()[0].name: x})[0]
        assert np.allclose(y, reference, rtol=1e-4, atol=1e-6), (name, np.abs(y - reference).max())
        io_path = os.path.join(out_dir, name + ".io")
        write_io(io_path, x, y)
        graph = onnx.load(path).graph
        ops = sorted({node.op_type for node in graph.node})
        pads = sorted({a.s.decode() for node in graph.node for a in node.attribute if a.name == "auto_pad"})
        size = os.path.getsize(path) + os.path.getsize(io_path)
        print(f"{name}: {size / 1024:.1f} KiB, {len(graph.node)} nodes, ops {' '.join(ops)}"
              f"{', auto_pad ' + ' '.join(pads) if pads else ''}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
