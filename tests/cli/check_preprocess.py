#!/usr/bin/env python3
"""Checks the cuxplain program's ImageNet-style preprocessing and runs, with
Python's standard library only.

  check_preprocess.py make-image FILE
      Writes a 7 x 5 RGB PNG whose pixels follow pixel_value().

  check_preprocess.py check-input OUT_DIR [--scale S] [--resize N]
                      [--center-crop H,W] [--mean M,..] [--std S,..]
                      [--channel-order rgb|bgr]
      OUT_DIR is an explain run of make-image's picture through
      input_probe_3x3x4.onnx (a Flatten: its logits are the model input). The
      36 logits must equal, to float rounding, what torchvision computes:
      ToTensor-like scaling (pixel / S), Resize(N) (bilinear, antialias=True,
      as torch's interpolate on a float tensor), CenterCrop(H, W) (zero
      padding, then Python's round for the corner), the channels reversed for
      bgr, Normalize(mean, std). The reference below is written from
      torchvision's and PIL's definitions, independently of the program.

  check_preprocess.py make-labels DIR CLASSES
      Writes DIR/imagenet_class_index.json (Keras's form: {"0": ["n00000000",
      "name 0"], ...}) and DIR/labels.txt (one name a line) of CLASSES names.

  check_preprocess.py make-folder DIR
      Writes the images of a class for concepts --image-dir: three PNGs of
      other sizes than 224 x 224, a hidden file and a notes.txt (both skipped).

  check_preprocess.py check-rgb224 OUT_DIR --methods M,.. [--labels-name NAME]
      An explain run of a 3 x 224 x 224 model with 1000 classes on the
      320 x 240 photo with --resize 256 --center-crop 224: scores.json holds
      the methods asked, each map of its documented shape (G x G cells, or
      224 x 224 pixels for occlusion and rise) and finite, the preprocessing,
      the class names (named NAME for the target when given), the five top
      classes sorted; every overlay is a 448 x 448 RGB PNG (the 224 x 224
      crop enlarged twice).

  check_preprocess.py check-folder-concepts OUT_DIR --files A,B,.. --rank R
      A concepts --image-dir run: concepts.json names the folder's image
      files in name order, the 3 x 224 x 224 input, R finite importances;
      concepts.png is an RGB sheet.
"""
import argparse
import json
import math
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_outputs import PNG_SIGNATURE, CheckError, decode_png, expect  # noqa: E402

WIDTH, HEIGHT = 7, 5


def pixel_value(x, y, k):
    return (x * 53 + y * 97 + k * 31 + x * y * 7) % 256


def write_png(path, width, height, value):
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            raw += bytes(value(x, y, k) for k in range(3))

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    with open(path, "wb") as f:
        header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        f.write(PNG_SIGNATURE + chunk(b"IHDR", header) +
                chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))


def make_image(args):
    write_png(args.file, WIDTH, HEIGHT, pixel_value)


# torchvision's Resize on a tensor: torch.nn.functional.interpolate(mode=
# "bilinear", antialias=True), PIL's resampling ported to ATen. Per output
# sample i: center = (i + 0.5) * scale, scale = in / out; the triangle filter
# is stretched by max(scale, 1) (support = that stretch); the taps are the
# input samples from int(center - support + 0.5) (at least 0) to
# int(center + support + 0.5) (at most in), weighted triangle((j - center +
# 0.5) / stretch) and normalized to sum 1.
def resample_weights(in_size, out_size):
    scale = in_size / out_size
    stretch = max(scale, 1.0)
    support = stretch
    taps = []
    for i in range(out_size):
        center = (i + 0.5) * scale
        first = max(int(center - support + 0.5), 0)
        last = min(int(center + support + 0.5), in_size)
        weights = [max(0.0, 1.0 - abs((j - center + 0.5) / stretch)) for j in range(first, last)]
        total = sum(weights)
        taps.append((first, [w / total for w in weights] if total else weights))
    return taps


def resize(image, height, width, out_h, out_w):
    """image[y][x][k] -> out_h x out_w, the width first as ATen."""
    if out_w != width:
        taps = resample_weights(width, out_w)
        image = [[[sum(w * row[first + j][k] for j, w in enumerate(ws)) for k in range(3)]
                  for first, ws in taps] for row in image]
    if out_h != height:
        taps = resample_weights(height, out_h)
        image = [[[sum(w * image[first + j][x][k] for j, w in enumerate(ws)) for k in range(3)]
                  for x in range(out_w)] for first, ws in taps]
    return image


def resized_size(height, width, size):
    # torchvision.transforms.functional._compute_resized_output_size
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size, int(size * long / short)
    return (new_long, new_short) if width <= height else (new_short, new_long)


def center_crop(image, height, width, crop_h, crop_w):
    # torchvision.transforms.functional.center_crop: pad, then crop.
    if crop_w > width or crop_h > height:
        left = (crop_w - width) // 2 if crop_w > width else 0
        top = (crop_h - height) // 2 if crop_h > height else 0
        right = (crop_w - width + 1) // 2 if crop_w > width else 0
        bottom = (crop_h - height + 1) // 2 if crop_h > height else 0
        zero = [0.0, 0.0, 0.0]
        image = ([[zero] * (left + width + right) for _ in range(top)] +
                 [[zero] * left + row + [zero] * right for row in image] +
                 [[zero] * (left + width + right) for _ in range(bottom)])
        height, width = height + top + bottom, width + left + right
        if crop_w == width and crop_h == height:
            return image
    crop_top = int(round((height - crop_h) / 2.0))
    crop_left = int(round((width - crop_w) / 2.0))
    return [row[crop_left:crop_left + crop_w] for row in image[crop_top:crop_top + crop_h]]


def floats(text):
    return [float(v) for v in text.split(",")] if text else []


def check_input(args):
    with open(os.path.join(args.out_dir, "scores.json"), "rb") as f:
        doc = json.loads(f.read().decode("utf-8"))
    image = [[[pixel_value(x, y, k) / args.scale for k in range(3)] for x in range(WIDTH)]
             for y in range(HEIGHT)]
    height, width = HEIGHT, WIDTH
    if args.resize:
        out_h, out_w = resized_size(height, width, args.resize)
        image = resize(image, height, width, out_h, out_w)
        height, width = out_h, out_w
    if args.center_crop:
        sides = [int(v) for v in args.center_crop.split(",")]
        crop_h, crop_w = sides[0], sides[-1]
        image = center_crop(image, height, width, crop_h, crop_w)
        height, width = crop_h, crop_w
    expect((height, width) == (3, 4), f"the reference is {height} x {width}, the probe takes 3 x 4")
    order = [2, 1, 0] if args.channel_order == "bgr" else [0, 1, 2]
    mean, std = floats(args.mean), floats(args.std)
    expected = []
    for c, k in enumerate(order):
        m = (mean[c] if len(mean) > 1 else mean[0]) if mean else 0.0
        s = (std[c] if len(std) > 1 else std[0]) if std else 1.0
        expected += [(image[y][x][k] - m) / s for y in range(3) for x in range(4)]
    got = doc["logits"]
    expect(len(got) == 36, f"scores.json: {len(got)} logits, 36 expected")
    expect(doc["input_shape"] == [3, 3, 4], f"input_shape {doc['input_shape']}")
    worst = max(abs(g - e) / (1.0 + abs(e)) for g, e in zip(got, expected))
    for i, (g, e) in enumerate(zip(got, expected)):
        expect(abs(g - e) <= 1e-5 * (1.0 + abs(e)),
               f"model input {i} (channel {i // 12}, y {i % 12 // 4}, x {i % 4}) is {g}, "
               f"torchvision gives {e}")
    if args.resize or args.center_crop:
        expect("preprocess" in doc, "scores.json: no 'preprocess'")
    print(f"36 model inputs equal torchvision's (worst relative difference {worst:.2e})")


def make_labels(args):
    os.makedirs(args.dir, exist_ok=True)
    index = {str(k): ["n%08d" % k, "name %d" % k] for k in range(args.classes)}
    with open(os.path.join(args.dir, "imagenet_class_index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(args.dir, "labels.txt"), "w") as f:
        f.write("".join("line %d\n" % k for k in range(args.classes)))


def make_folder(args):
    os.makedirs(args.dir, exist_ok=True)
    shapes = [("b_stripes.png", 260, 230, lambda x, y, k: (x * 3 + k * 60) % 256 if y % 40 < 20
               else (y * 2 + k * 90) % 256),
              ("a_disc.png", 300, 240, lambda x, y, k: 230 - 150 * k // 2
               if (x - 150) ** 2 + (y - 120) ** 2 < 80 ** 2 else 30 + 40 * k),
              ("c_checks.png", 240, 300, lambda x, y, k: 200 if (x // 30 + y // 30) % 2 == k % 2
               else 50)]
    for name, w, h, value in shapes:
        write_png(os.path.join(args.dir, name), w, h, value)
    with open(os.path.join(args.dir, "notes.txt"), "w") as f:
        f.write("not an image: skipped\n")
    with open(os.path.join(args.dir, ".hidden.png"), "w") as f:
        f.write("hidden: skipped\n")


def finite(v):
    return isinstance(v, (int, float)) and math.isfinite(v)


def check_rgb224(args):
    out = args.out_dir
    with open(os.path.join(out, "scores.json"), "rb") as f:
        doc = json.loads(f.read().decode("utf-8"))
    expect(doc["input_shape"] == [3, 224, 224], f"input_shape {doc['input_shape']}")
    expect(doc["image_size"] == [240, 320], f"image_size {doc['image_size']}")
    expect(doc["num_classes"] == 1000, f"num_classes {doc['num_classes']}")
    p = doc.get("preprocess", {})
    expect(p.get("resize") == 256 and p.get("center_crop") == [224, 224],
           f"preprocess {p}")
    names = doc.get("class_names")
    expect(names is not None and len(names) == 1000, "scores.json: no 1000 class_names")
    logits = doc["logits"]
    expect(len(logits) == 1000 and all(finite(v) for v in logits), "logits")
    top = doc["top_classes"]
    order = sorted(range(1000), key=lambda k: (-logits[k], k))[:5]
    expect([t["class"] for t in top] == order, f"top_classes {top}, expected classes {order}")
    expect(all(t["name"] == names[t["class"]] for t in top), "top_classes names")
    target = doc["target"]
    expect(target == order[0], f"target {target}, the top class is {order[0]}")
    methods = args.methods.split(",")
    found = [m["method"] for m in doc["methods"]]
    expect(found == methods, f"methods {found}, expected {methods}")
    for entry in doc["methods"]:
        method = entry["method"]
        if method in ("occlusion", "rise"):
            expect(entry["map_size"] == [224, 224], f"{method}: map_size {entry.get('map_size')}")
            rows, cols = 224, 224
        else:
            g = entry["grid_size"]
            expect(g == 8, f"{method}: grid_size {g}, the default 8 expected")
            rows = cols = g
        scores = entry["scores"]
        expect(len(scores) == rows and all(len(r) == cols for r in scores),
               f"{method}: scores are not {rows} x {cols}")
        values = [v for r in scores for v in r]
        expect(all(finite(v) for v in values), f"{method}: a score is not finite")
        expect(max(values) > min(values), f"{method}: the map is constant")
        expect(entry["target_name"] == names[target], f"{method}: target_name")
        if args.labels_name:
            expect(entry["target_name"] == args.labels_name % target,
                   f"{method}: target_name {entry['target_name']!r}")
        width, height, channels, _ = decode_png(os.path.join(out, entry["overlay"]))
        expect((width, height, channels) == (448, 448, 3),
               f"{entry['overlay']}: {width} x {height} x {channels}, 448 x 448 x 3 expected")
        print(f"{method}: {rows} x {cols} map in [{min(values):.4g}, {max(values):.4g}], "
              f"{entry['overlay']} ok")
    print(f"scores.json ok: top class {target} ({names[target]})")


def check_folder_concepts(args):
    out = args.out_dir
    with open(os.path.join(out, "concepts.json"), "rb") as f:
        doc = json.loads(f.read().decode("utf-8"))
    files = args.files.split(",")
    expect(doc["image_files"] == files, f"image_files {doc['image_files']}, expected {files}")
    expect(doc["num_images"] == len(files), f"num_images {doc['num_images']}")
    expect(doc["input_shape"] == [3, 224, 224], f"input_shape {doc['input_shape']}")
    expect(doc["rank"] == args.rank and len(doc["importances"]) == args.rank, "rank")
    expect(all(finite(v) and v >= -1e-6 for v in doc["importances"]), "importances")
    expect(sorted(doc["ranking"]) == list(range(args.rank)), "ranking")
    for concept in doc["concepts"]:
        for crop in concept["top_crops"]:
            expect(0 <= crop["image"] < len(files), f"crop image {crop['image']}")
            expect(0 <= crop["top"] <= 224 - doc["patch_size"] and
                   0 <= crop["left"] <= 224 - doc["patch_size"], f"crop {crop}")
    width, height, channels, _ = decode_png(os.path.join(out, "concepts.png"))
    expect(channels == 3, f"concepts.png has {channels} channels, RGB expected")
    print(f"concepts.json ok: {len(files)} images, {args.rank} concepts; concepts.png "
          f"{width} x {height} RGB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make-image")
    m.add_argument("file")
    c = sub.add_parser("check-input")
    c.add_argument("out_dir")
    c.add_argument("--scale", type=float, default=255.0)
    c.add_argument("--resize", type=int)
    c.add_argument("--center-crop")
    c.add_argument("--mean", default="")
    c.add_argument("--std", default="")
    c.add_argument("--channel-order", default="rgb")
    lab = sub.add_parser("make-labels")
    lab.add_argument("dir")
    lab.add_argument("classes", type=int)
    fo = sub.add_parser("make-folder")
    fo.add_argument("dir")
    r = sub.add_parser("check-rgb224")
    r.add_argument("out_dir")
    r.add_argument("--methods", required=True)
    r.add_argument("--labels-name")
    fc = sub.add_parser("check-folder-concepts")
    fc.add_argument("out_dir")
    fc.add_argument("--files", required=True)
    fc.add_argument("--rank", type=int, required=True)
    args = parser.parse_args()
    commands = {"make-image": make_image, "check-input": check_input, "make-labels": make_labels,
                "make-folder": make_folder, "check-rgb224": check_rgb224,
                "check-folder-concepts": check_folder_concepts}
    try:
        commands[args.command](args)
    except (CheckError, OSError, ValueError, KeyError, TypeError, IndexError) as e:
        print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
