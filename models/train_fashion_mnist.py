#!/usr/bin/env python3
"""Trains cuxplain's embedded default model, a small CNN on Fashion-MNIST, and
exports it to ONNX.

    python3 -m pip install torch onnx numpy
    apt-get install dataset-fashion-mnist
    python3 models/train_fashion_mnist.py [--data DIR] [--out-dir models]

Input convention: one 1x28x28 float32 image per item (NCHW), the raw pixel
bytes divided by 255, so every input lies in [0, 1]. There is no mean/std
normalization: the network sees pixels/255 and nothing else.

Network (every op is in cuxplain's ONNX subset):
    Conv 3x3 16 (pad 1) -> BatchNormalization -> Relu -> MaxPool 2
    Conv 3x3 32 (pad 1) -> BatchNormalization -> Relu -> MaxPool 2
    Flatten -> Gemm 64 -> Relu -> Gemm 10 (logits)

The BatchNormalization nodes are exported as separate nodes (the ONNX reader
folds them into an affine map itself). Training runs on the CPU with a fixed
seed and two threads.

Writes, into --out-dir:
    fashion_mnist_cnn.onnx        the exported network (input "input",
                                  shape [N, 1, 28, 28], output "logits" [N, 10])
    fashion_mnist_cnn.json        input convention, class names, accuracy,
                                  op list, opset, versions, training settings
    sample_fashion_mnist.png      one test image, 28x28 8-bit grayscale
"""
import argparse
import gzip
import json
import pathlib
import struct
import time
import zlib

import numpy as np
import onnx
import onnx.reference
import torch
import torch.nn as nn

DEBIAN_DATA = "/usr/share/datasets/fashion-mnist"
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
OPSET = 17
SAMPLE_INDEX = 0  # test image written to sample_fashion_mnist.png


def read_idx(path):
    """Reads an IDX file (optionally gzip-compressed) of unsigned bytes."""
    path = pathlib.Path(path)
    if not path.exists() and path.with_suffix(path.suffix + ".gz").exists():
        path = path.with_suffix(path.suffix + ".gz")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return array.reshape(shape)


def load_split(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(pathlib.Path(data_dir) / f"{prefix}-images-idx3-ubyte")
    labels = read_idx(pathlib.Path(data_dir) / f"{prefix}-labels-idx1-ubyte")
    return images, labels


def to_input(images_u8):
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [0, 1]."""
    return (images_u8.astype(np.float32) / np.float32(255.0))[:, None, :, :]


class FashionCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def evaluate(model, x, batch=1000):
    model.eval()
    outputs = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            outputs.append(model(torch.from_numpy(x[i:i + batch])).numpy())
    return np.concatenate(outputs)


def write_png_gray(path, pixels):
    """Writes an 8-bit grayscale PNG with the standard library only."""
    h, w = pixels.shape
    raw = b"".join(b"\x00" + pixels[r].astype(np.uint8).tobytes() for r in range(h))

    def chunk(kind, payload):
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9))
           + chunk(b"IEND", b""))
    pathlib.Path(path).write_bytes(png)


def export_onnx(model, path):
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    # The TorchScript-based exporter; TrainingMode.PRESERVE keeps each
    # BatchNormalization as its own node (EVAL would fuse it into the Conv).
    # The model is in eval mode, so the nodes use the running statistics.
    torch.onnx.export(
        model, (dummy,), str(path), dynamo=False, export_params=True,
        opset_version=OPSET, do_constant_folding=True,
        training=torch.onnx.TrainingMode.PRESERVE,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    for node in proto.graph.node:
        if node.op_type == "BatchNormalization":
            for attr in node.attribute:
                if attr.name == "training_mode" and attr.i != 0:
                    raise RuntimeError("BatchNormalization exported in training mode")
    return proto


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=DEBIAN_DATA,
                        help="directory with the Fashion-MNIST IDX files (.gz or raw)")
    parser.add_argument("--out-dir", default=str(pathlib.Path(__file__).resolve().parent))
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    train_u8, train_labels = load_split(args.data, "train")
    test_u8, test_labels = load_split(args.data, "test")
    x_train, y_train = to_input(train_u8), torch.from_numpy(train_labels.astype(np.int64))
    x_test = to_input(test_u8)
    x_train_t = torch.from_numpy(x_train)

    model = FashionCnn()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = (len(x_train) + args.batch_size - 1) // args.batch_size
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(args.seed)

    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        total = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train_t[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(idx)
        test_acc = float((evaluate(model, x_test).argmax(1) == test_labels).mean())
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {total / len(x_train):.4f}, "
              f"test accuracy {test_acc:.4f}, {time.time() - start:.0f} s", flush=True)
    train_seconds = time.time() - start

    torch_logits = evaluate(model, x_test)
    torch_pred = torch_logits.argmax(1)
    test_acc = float((torch_pred == test_labels).mean())
    train_acc = float((evaluate(model, x_train).argmax(1) == train_labels).mean())

    out_dir = pathlib.Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "fashion_mnist_cnn.onnx"
    proto = export_onnx(model, onnx_path)
    ops = [node.op_type for node in proto.graph.node]

    # The exported graph run by onnx's reference evaluator, on the whole test set.
    session = onnx.reference.ReferenceEvaluator(proto)
    onnx_logits = np.concatenate([
        session.run(None, {"input": x_test[i:i + 500]})[0] for i in range(0, len(x_test), 500)])
    onnx_pred = onnx_logits.argmax(1)
    onnx_acc = float((onnx_pred == test_labels).mean())
    diff = float(np.abs(onnx_logits - torch_logits).max())
    diff64 = float(np.abs(onnx_logits[:64] - torch_logits[:64]).max())

    sample = test_u8[SAMPLE_INDEX]
    write_png_gray(out_dir / "sample_fashion_mnist.png", sample)
    sample_pred = int(onnx_pred[SAMPLE_INDEX])

    meta = {
        "model": "fashion_mnist_cnn.onnx",
        "description": "Small CNN classifying Fashion-MNIST, cuxplain's embedded default model",
        "input": {
            "name": "input",
            "shape": ["N", 1, 28, 28],
            "layout": "NCHW",
            "dtype": "float32",
            "scaling": "pixel / 255 (uint8 0..255 -> [0, 1]); no mean/std normalization",
            "range": [0.0, 1.0],
        },
        "output": {"name": "logits", "shape": ["N", 10], "meaning": "unnormalized class scores"},
        "class_names": CLASS_NAMES,
        "architecture": [
            "Conv 1->16 3x3 pad 1", "BatchNormalization 16", "Relu", "MaxPool 2x2 stride 2",
            "Conv 16->32 3x3 pad 1", "BatchNormalization 32", "Relu", "MaxPool 2x2 stride 2",
            "Flatten", "Gemm 1568->64", "Relu", "Gemm 64->10",
        ],
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "onnx": {
            "opset": OPSET,
            "ir_version": int(proto.ir_version),
            "ops": ops,
            "op_types": sorted(set(ops)),
            "producer": f"{proto.producer_name} {proto.producer_version}",
            "batch_normalization": "separate nodes, inference mode (running statistics)",
            "bytes": onnx_path.stat().st_size,
        },
        "test_accuracy": test_acc,
        "test_accuracy_onnx_reference": onnx_acc,
        "train_accuracy": train_acc,
        "test_set": "Fashion-MNIST t10k, 10000 images",
        "torch_vs_onnx_reference_max_abs_logit_diff": {
            "test_set": diff, "first_64_test_images": diff64,
            "predictions_differing": int((onnx_pred != torch_pred).sum()),
        },
        "sample_image": {
            "file": "sample_fashion_mnist.png",
            "test_index": SAMPLE_INDEX,
            "label": int(test_labels[SAMPLE_INDEX]),
            "label_name": CLASS_NAMES[int(test_labels[SAMPLE_INDEX])],
            "prediction": sample_pred,
            "prediction_name": CLASS_NAMES[sample_pred],
            "logits": [float(v) for v in onnx_logits[SAMPLE_INDEX]],
        },
        "training": {
            "data": "dataset-fashion-mnist (Debian), 60000 training images; the test set is "
                    "used only for evaluation",
            "optimizer": "AdamW",
            "learning_rate_max": args.lr,
            "schedule": "OneCycleLR (cosine), stepped per batch",
            "weight_decay": args.weight_decay,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "loss": "cross-entropy",
            "augmentation": "none",
            "seed": args.seed,
            "threads": args.threads,
            "device": "cpu",
            "seconds": round(train_seconds, 1),
        },
        "versions": {
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "numpy": np.__version__,
        },
        "command": "python3 models/train_fashion_mnist.py",
    }
    (out_dir / "fashion_mnist_cnn.json").write_text(json.dumps(meta, indent=2) + "\n")

    print(f"test accuracy {test_acc:.4f} (torch), {onnx_acc:.4f} (ONNX reference evaluator)")
    print(f"ONNX opset {OPSET}, {onnx_path.stat().st_size} bytes, nodes: {' '.join(ops)}")
    print(f"torch vs ONNX reference: max abs logit difference {diff:.3g} (test set), "
          f"{diff64:.3g} (first 64)")
    print(f"sample image {SAMPLE_INDEX}: label {CLASS_NAMES[int(test_labels[SAMPLE_INDEX])]}, "
          f"predicted {CLASS_NAMES[sample_pred]}")


if __name__ == "__main__":
    main()
