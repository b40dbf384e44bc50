"""A Keras twin of cuxplain's embedded model (models/fashion_mnist_cnn.onnx),
built from the ONNX file's own weights, so that xplique (TensorFlow) and
cuxplain explain the same network.

The twin is channels-last, as Keras is: input N x 28 x 28 x 1. The ONNX graph
flattens N x 32 x 7 x 7 (channel-major); Keras flattens N x 7 x 7 x 32, so the
first dense layer's rows are permuted to match. `split()` cuts the twin after
its second MaxPool, where cuxplain's `concepts` cuts by default, into
g (images -> 7 x 7 x 32 activations) and h (activations -> logits).
"""
import pathlib

import numpy as np
import onnx
import onnx.numpy_helper
import onnx.reference

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "fashion_mnist_cnn.onnx"


def _weights(path):
    model = onnx.load(str(path))
    return {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}


def build(path=MODEL):
    """(model, g, h): the whole twin and its two halves, sharing their layers."""
    import tensorflow as tf

    w = _weights(path)
    layers = tf.keras.layers

    def conv(name, filters):
        layer = layers.Conv2D(filters, 3, padding="same", name=name)
        layer.build((None, None, None, w[name + ".weight"].shape[1]))
        layer.set_weights([w[name + ".weight"].transpose(2, 3, 1, 0), w[name + ".bias"]])
        return layer

    def batch_norm(name):
        layer = layers.BatchNormalization(epsilon=1e-5, name=name)
        layer.build((None, None, None, w[name + ".weight"].shape[0]))
        layer.set_weights([w[name + ".weight"], w[name + ".bias"], w[name + ".running_mean"],
                           w[name + ".running_var"]])
        return layer

    def dense(name, kernel):
        layer = layers.Dense(kernel.shape[1], name=name)
        layer.build((None, kernel.shape[0]))
        layer.set_weights([kernel, w[name + ".bias"]])
        return layer

    # Keras flattens (h, w, c); ONNX (c, h, w): row (h*7 + w)*32 + c of the
    # Keras kernel is column c*49 + h*7 + w of the ONNX weight.
    w1 = w["classifier.1.weight"]  # [64, 1568]
    out_features = w1.shape[0]
    kernel1 = w1.reshape(out_features, 32, 7, 7).transpose(2, 3, 1, 0).reshape(7 * 7 * 32, out_features)

    features = [conv("features.0", 16), batch_norm("features.1"), layers.ReLU(), layers.MaxPool2D(2),
                conv("features.4", 32), batch_norm("features.5"), layers.ReLU(), layers.MaxPool2D(2)]
    head = [layers.Flatten(), dense("classifier.1", kernel1), layers.ReLU(),
            dense("classifier.3", w["classifier.3.weight"].T)]

    image = tf.keras.Input((28, 28, 1))
    x = image
    for layer in features:
        x = layer(x)
    g = tf.keras.Model(image, x, name="g")
    latent = tf.keras.Input((7, 7, 32))
    y = latent
    for layer in head:
        y = layer(y)
    h = tf.keras.Model(latent, y, name="h")
    model = tf.keras.Model(image, h(g(image)), name="fashion_mnist_cnn")
    return model, g, h


def check(model, images_nhwc, path=MODEL):
    """Largest |twin - ONNX| over the images' logits (ONNX's reference runtime)."""
    reference = onnx.reference.ReferenceEvaluator(str(path))
    nchw = np.ascontiguousarray(images_nhwc.transpose(0, 3, 1, 2))
    (expected,) = reference.run(None, {"input": nchw})
    return float(np.max(np.abs(model.predict(images_nhwc, verbose=0) - expected)))
