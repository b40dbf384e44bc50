"""Fixture models for cuxplain's ONNX reader: torchvision architectures as
torch.onnx exports them (opset 17), at small widths so that the files stay
small, with random weights, and their onnxruntime outputs on random inputs.

Each <name>.onnx comes with <name>.io, n random inputs and onnxruntime's
outputs on them in the format fixture_io.py writes (described there).
tests/host/test_onnx_models.cpp reads both.

Regenerate (torch, torchvision, onnx, onnxruntime from PyPI in a throwaway
venv; the files were made with torch 2.5.1, torchvision 0.20.1,
onnxruntime 1.23.2):
    python tests/data/onnx/make_fixtures.py tests/data/onnx
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import densenet, efficientnet, mobilenetv2, mobilenetv3, resnet, squeezenet, vgg
from torchvision.ops import misc

from fixture_io import write_io

CLASSES = 10


def small_resnet(block, layers, divisor):
    """torchvision's ResNet with every width divided by `divisor`."""

    class SmallResNet(resnet.ResNet):
        def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
            if planes == 64:
                self.inplanes = 64 // divisor
            return super()._make_layer(block, planes // divisor, blocks, stride, dilate)

    model = SmallResNet(block, layers, num_classes=CLASSES)
    width = 64 // divisor
    model.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
    model.bn1 = nn.BatchNorm2d(width)
    model.fc = nn.Linear(512 // divisor * block.expansion, CLASSES)
    return model


def small_mobilenet_v2():
    model = mobilenetv2.MobileNetV2(num_classes=CLASSES, width_mult=0.1)
    last_in = model.features[-1][0].in_channels
    model.features[-1] = misc.Conv2dNormActivation(last_in, 32, kernel_size=1,
                                                   activation_layer=nn.ReLU6)
    model.classifier[-1] = nn.Linear(32, CLASSES)
    return model


def small_mobilenet_v3(arch):
    # dilated: the last stage's depthwise convolutions have dilation 2.
    setting, _ = mobilenetv3._mobilenet_v3_conf(arch, width_mult=0.1, dilated=True)
    return mobilenetv3.MobileNetV3(setting, last_channel=32, num_classes=CLASSES)


def small_efficientnet_b0():
    setting, _ = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.1, depth_mult=0.34)
    return efficientnet.EfficientNet(setting, dropout=0.2, num_classes=CLASSES, last_channel=32)


def small_squeezenet():
    """SqueezeNet 1.0's layout (ceil-mode max pools, Fire modules concatenating
    their 1x1 and 3x3 expansions) at 1/8 width."""
    model = squeezenet.SqueezeNet("1_0", num_classes=CLASSES)
    Fire = squeezenet.Fire
    model.features = nn.Sequential(
        nn.Conv2d(3, 12, kernel_size=7, stride=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(12, 2, 8, 8), Fire(16, 2, 8, 8), Fire(16, 4, 16, 16),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(32, 4, 16, 16), Fire(32, 6, 24, 24), Fire(48, 6, 24, 24), Fire(48, 8, 32, 32),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(64, 8, 32, 32))
    final_conv = nn.Conv2d(64, CLASSES, kernel_size=1)
    model.classifier = nn.Sequential(nn.Dropout(p=0.5), final_conv, nn.ReLU(inplace=True),
                                     nn.AdaptiveAvgPool2d((1, 1)))
    return model


def small_densenet121():
    return densenet.DenseNet(growth_rate=2, block_config=(6, 12, 24, 16), num_init_features=4,
                             bn_size=2, num_classes=CLASSES)


class SmallVgg16(vgg.VGG):
    """VGG-16's configuration D at 1/32 width; flattened with
    x.view(x.size(0), -1), which exports as Shape, Gather, Unsqueeze, Concat
    and Reshape."""

    def __init__(self):
        cfg = [c if c == "M" else c // 32 for c in vgg.cfgs["D"]]
        super().__init__(vgg.make_layers(cfg), num_classes=CLASSES)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(nn.Linear(16, 32), nn.ReLU(True), nn.Dropout(),
                                        nn.Linear(32, 32), nn.ReLU(True), nn.Dropout(),
                                        nn.Linear(32, CLASSES))

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(x.view(x.size(0), -1))


class ChannelsLastMix(nn.Module):
    """The ops Keras-style exports add: a channels-last input transposed to
    NCHW, input normalization by constants, LeakyReLU, Tanh, reflect and
    constant padding, a ReduceMean, Squeeze, and Softmax at the output."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, dilation=2)
        self.conv3 = nn.Conv2d(8, 16, 3, groups=2, padding=1)
        self.fc = nn.Linear(16, CLASSES)

    def forward(self, x):
        x = x.permute(0, 3, 1, 2)
        x = (x - self.mean) / self.std
        x = F.leaky_relu(self.conv1(x), 0.1)
        x = F.pad(x, (2, 2, 2, 2), mode="reflect")
        x = torch.tanh(self.conv2(x))
        x = F.pad(x, (1, 0, 0, 1), value=0.5)
        x = F.sigmoid(self.conv3(x)) * 2.0 - 1.0
        x = x.mean(dim=(2, 3), keepdim=True).squeeze(3).squeeze(2)
        return torch.softmax(self.fc(x), dim=1)


# name, constructor, input shape (without the batch)
MODELS = [
    ("resnet18", lambda: small_resnet(resnet.BasicBlock, [2, 2, 2, 2], 32), (3, 24, 24)),
    ("mobilenet_v2", small_mobilenet_v2, (3, 24, 24)),
    ("efficientnet_b0", small_efficientnet_b0, (3, 24, 24)),
    ("mobilenet_v3_small", lambda: small_mobilenet_v3("mobilenet_v3_small"), (3, 24, 24)),
    ("squeezenet", small_squeezenet, (3, 46, 46)),
    ("densenet121", small_densenet121, (3, 32, 32)),
    ("vgg16", SmallVgg16, (3, 32, 32)),
    ("resnet50", lambda: small_resnet(resnet.Bottleneck, [3, 4, 6, 3], 32), (3, 24, 24)),
    ("channels_last_mix", ChannelsLastMix, (20, 20, 3)),
]

SAMPLES = 2


def randomize_batch_norms(model, generator):
    """Random running statistics, so that folded batch norms are not identities."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.uniform_(-0.2, 0.2, generator=generator)
                m.running_var.uniform_(0.5, 1.5, generator=generator)
                m.weight.uniform_(0.5, 1.5, generator=generator)
                m.bias.uniform_(-0.2, 0.2, generator=generator)


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    total = 0
    for index, (name, make, shape) in enumerate(MODELS):
        generator = torch.Generator().manual_seed(1000 + index)
        torch.manual_seed(1000 + index)
        model = make().eval()
        randomize_batch_norms(model, generator)
        x = torch.rand((SAMPLES,) + shape, generator=generator)
        path = os.path.join(out_dir, name + ".onnx")
        torch.onnx.export(model, x, path, opset_version=17, input_names=["input"],
                          output_names=["output"], do_constant_folding=True, dynamo=False,
                          dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
        onnx.checker.check_model(onnx.load(path))
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        y = session.run(None, {"input": x.numpy()})[0]
        with torch.no_grad():
            reference = model(x).numpy()
        assert np.allclose(y, reference, rtol=1e-4, atol=1e-5), name
        io_path = os.path.join(out_dir, name + ".io")
        write_io(io_path, x.numpy(), y)
        ops = sorted({node.op_type for node in onnx.load(path).graph.node})
        size = os.path.getsize(path) + os.path.getsize(io_path)
        total += size
        print(f"{name}: {size / 1024:.0f} KiB, ops {' '.join(ops)}")
    print(f"total {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
