#!/usr/bin/env python3
"""Writes the ImageNet-style fixtures of the cuxplain program's tests.

  make_rgb224_fixture.py OUT_DIR

  rgb224_cnn.onnx   a small classifier of 3 x 224 x 224 RGB images, as an
                    ImageNet model exported from PyTorch takes them, built from
                    ops cuxplain's ONNX reader runs: Conv (7 x 7, stride 4) ->
                    BatchNormalization -> Relu -> MaxPool (2 x 2) -> Conv
                    (3 x 3, stride 2) -> Relu -> GlobalAveragePool -> Flatten ->
                    Gemm: 1000 logits. Seeded random weights (no training: the
                    tests check the program, not the model's accuracy).
  rgb224_cnn.json   its sidecar: "class_names", 1000 names as ImageNet's
                    label set has.
  photo_320x240.jpg a 320 x 240 JPEG scene (sky, sun, hills, a house) drawn
                    here, so free of any licence; 4:3 like most photos, so that
                    --resize 256 --center-crop 224 both act.

The outputs are committed (tests/cli/data); this script is how they were made:
  python3 -m venv /tmp/venv && /tmp/venv/bin/pip install onnx numpy pillow
  /tmp/venv/bin/python tests/cli/make_rgb224_fixture.py tests/cli/data
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image, ImageDraw

CLASSES = 1000


def initializer(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def make_model(rng):
    def he(shape):
        fan_in = int(np.prod(shape[1:]))
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)

    inits = [
        initializer("conv1.weight", he((8, 3, 7, 7))),
        initializer("conv1.bias", rng.standard_normal(8) * 0.1),
        initializer("bn1.scale", 1.0 + 0.1 * rng.standard_normal(8)),
        initializer("bn1.bias", 0.1 * rng.standard_normal(8)),
        initializer("bn1.mean", 0.1 * rng.standard_normal(8)),
        initializer("bn1.var", 1.0 + 0.2 * rng.random(8)),
        initializer("conv2.weight", he((16, 8, 3, 3))),
        initializer("conv2.bias", rng.standard_normal(16) * 0.1),
        initializer("fc.weight", rng.standard_normal((CLASSES, 16)) * 0.5),
        initializer("fc.bias", rng.standard_normal(CLASSES) * 0.05),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "conv1.weight", "conv1.bias"], ["conv1"],
                         name="conv1", kernel_shape=[7, 7], strides=[4, 4], pads=[3, 3, 3, 3]),
        helper.make_node("BatchNormalization",
                         ["conv1", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var"], ["bn1"],
                         name="bn1", epsilon=1e-5),
        helper.make_node("Relu", ["bn1"], ["relu1"], name="relu1"),
        helper.make_node("MaxPool", ["relu1"], ["pool1"], name="pool1", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Conv", ["pool1", "conv2.weight", "conv2.bias"], ["conv2"],
                         name="conv2", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv2"], ["relu2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["relu2"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc",
                         transB=1),
    ]
    graph = helper.make_graph(
        nodes, "rgb224_cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", CLASSES])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="cuxplain tests/cli/make_rgb224_fixture.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def make_photo():
    width, height = 320, 240
    y = np.linspace(0.0, 1.0, height)[:, None, None]
    sky = (1 - y) * np.array([70, 130, 220]) + y * np.array([190, 215, 240])
    image = Image.fromarray(np.broadcast_to(sky, (height, width, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.ellipse([230, 25, 280, 75], fill=(255, 220, 60))
    draw.polygon([(0, 170), (90, 120), (200, 165), (320, 130), (320, 240), (0, 240)],
                 fill=(60, 140, 60))
    draw.rectangle([110, 140, 190, 210], fill=(200, 70, 50))
    draw.polygon([(100, 140), (150, 100), (200, 140)], fill=(110, 50, 40))
    draw.rectangle([140, 175, 160, 210], fill=(80, 50, 30))
    draw.rectangle([120, 150, 135, 165], fill=(240, 240, 200))
    return image


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20240224)
    onnx.save(make_model(rng), os.path.join(out, "rgb224_cnn.onnx"))
    names = ["class_%03d" % k for k in range(CLASSES)]
    with open(os.path.join(out, "rgb224_cnn.json"), "w") as f:
        json.dump({"class_names": names}, f, indent=0)
        f.write("\n")
    make_photo().save(os.path.join(out, "photo_320x240.jpg"), quality=85)
    for name in ("rgb224_cnn.onnx", "rgb224_cnn.json", "photo_320x240.jpg"):
        print("wrote %s (%d bytes)" % (name, os.path.getsize(os.path.join(out, name))))


if __name__ == "__main__":
    main()
