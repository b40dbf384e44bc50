#!/usr/bin/env python3
"""Checks what `cuxplain explain` wrote, with Python's standard library only.

  check_outputs.py check OUT_DIR [--methods sobol,hsic,eva] [--grid G]
                                 [--classes K] [--target N]
      Every <method>.png is decoded in full (signature, chunk CRCs, IHDR,
      inflated IDAT, one filter byte per scanline, every filter undone) and
      must be the image enlarged as cuxplain enlarges it, with the heatmap's
      two ends (blue and red) present when the scores are not constant.
      scores.json must parse (no NaN/Infinity), hold exactly the methods
      asked, each with G x G finite scores, EVA's >= -1e-4, forwards that
      match the method's design, and a predicted class and target in [0, K).

  check_outputs.py make-png FILE WIDTH HEIGHT
      Writes an 8-bit RGB test image (a bright shape on a gradient).
"""
import argparse
import json
import math
import struct
import sys
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # colour type -> samples per pixel (8-bit, no palette)


class CheckError(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckError(message)


def decode_png(path):
    """Returns (width, height, channels, rows) with rows a list of bytearrays."""
    with open(path, "rb") as f:
        data = f.read()
    expect(data[:8] == PNG_SIGNATURE, f"{path}: not a PNG signature")
    pos, chunks = 8, []
    while pos < len(data):
        expect(pos + 12 <= len(data), f"{path}: truncated chunk at byte {pos}")
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        expect(len(body) == length, f"{path}: truncated {kind!r} chunk")
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        expect(zlib.crc32(kind + body) & 0xFFFFFFFF == crc, f"{path}: bad CRC in {kind!r}")
        chunks.append((kind, body))
        pos += 12 + length
        if kind == b"IEND":
            break
    expect(pos == len(data), f"{path}: {len(data) - pos} bytes after IEND")
    expect(chunks and chunks[0][0] == b"IHDR", f"{path}: IHDR is not the first chunk")
    expect(chunks[-1][0] == b"IEND", f"{path}: no IEND chunk")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1])
    expect(width > 0 and height > 0, f"{path}: empty image {width} x {height}")
    expect(depth == 8 and colour in CHANNELS, f"{path}: depth {depth}, colour type {colour}")
    expect(compression == 0 and filtering == 0 and interlace == 0,
           f"{path}: compression {compression}, filter {filtering}, interlace {interlace}")
    channels = CHANNELS[colour]

    idat = b"".join(body for kind, body in chunks if kind == b"IDAT")
    expect(idat, f"{path}: no IDAT chunk")
    raw = zlib.decompress(idat)
    stride = width * channels
    expect(len(raw) == height * (stride + 1),
           f"{path}: {len(raw)} inflated bytes, {height} scanlines of {stride + 1} expected")

    rows, previous = [], bytearray(stride)
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        kind, row = line[0], bytearray(line[1:])
        expect(kind <= 4, f"{path}: scanline {y} has filter type {kind}")
        bpp = channels
        for i in range(stride):
            a = row[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                row[i] = (row[i] + a) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + b) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (row[i] + predictor) & 0xFF
        rows.append(row)
        previous = row
    return width, height, channels, rows


def reject_constant(name):
    raise CheckError(f"scores.json: non-finite number {name}")


def finite_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_grid(method, key, grid, g):
    expect(isinstance(grid, list) and len(grid) == g, f"{method}: {key} has not {g} rows")
    for r, row in enumerate(grid):
        expect(isinstance(row, list) and len(row) == g, f"{method}: {key} row {r} has not {g} cells")
        for c, v in enumerate(row):
            expect(finite_number(v), f"{method}: {key}[{r}][{c}] = {v!r} is not a finite number")


def check(args):
    out = args.out_dir
    methods = args.methods.split(",")
    with open(f"{out}/scores.json", "rb") as f:
        doc = json.loads(f.read().decode("utf-8"), parse_constant=reject_constant)

    for key in ("model", "image", "device", "image_size", "input_shape", "logits",
                "predicted_class", "target", "methods"):
        expect(key in doc, f"scores.json: no {key!r}")
    k = doc["num_classes"]
    expect(k == args.classes, f"scores.json: num_classes {k}, expected {args.classes}")
    expect(len(doc["logits"]) == k and all(finite_number(v) for v in doc["logits"]),
           "scores.json: logits are not K finite numbers")
    predicted = doc["predicted_class"]
    expect(isinstance(predicted, int) and 0 <= predicted < k,
           f"scores.json: predicted_class {predicted!r} not in [0, {k})")
    expect(doc["logits"][predicted] == max(doc["logits"]),
           "scores.json: predicted_class is not the largest logit")
    target = predicted if args.target is None else args.target
    expect(doc["target"] == target, f"scores.json: target {doc['target']}, expected {target}")
    if "class_names" in doc:
        expect(len(doc["class_names"]) == k, "scores.json: class_names has not K names")

    found = [m.get("method") for m in doc["methods"]]
    expect(found == methods, f"scores.json: methods {found}, expected {methods}")

    image_h, image_w = doc["image_size"]
    longer = max(image_h, image_w)
    factor = 1 if longer >= 280 else -(-280 // longer)

    for entry in doc["methods"]:
        method = entry["method"]
        g = entry["grid_size"]
        expect(isinstance(g, int) and g >= 1, f"{method}: grid_size {g!r}")
        if args.grid is not None:
            expect(g == args.grid, f"{method}: grid_size {g}, expected {args.grid}")
        check_grid(method, "scores", entry["scores"], g)
        scores = [v for row in entry["scores"] for v in row]
        if "first_order" in entry:
            check_grid(method, "first_order", entry["first_order"], g)
        expect(entry["target"] == target and entry["predicted_class"] == predicted,
               f"{method}: target / predicted_class differ from the document's")
        if "target_name" in entry:
            expect(entry["target_name"] == doc["class_names"][target], f"{method}: target_name")
        expect(finite_number(entry["seconds"]) and entry["seconds"] >= 0, f"{method}: seconds")
        options = entry["options"]
        d = g * g
        expected_forwards = {
            "sobol": lambda: options["nb_design"] * (d + 1 + (1 if options["first_order"] else 0)),
            "hsic": lambda: options["nb_design"],
            "eva": lambda: d + 1,
        }[method]()
        expect(entry["forwards"] == expected_forwards,
               f"{method}: forwards {entry['forwards']}, expected {expected_forwards}")
        if method == "eva":
            low = min(scores)
            expect(low >= -1e-4, f"eva: a score is {low} < -1e-4")
        expect(any(v != 0 for v in scores), f"{method}: every score is 0")

        width, height, channels, rows = decode_png(f"{out}/{entry['overlay']}")
        expect(entry["overlay"] == f"{method}.png", f"{method}: overlay {entry['overlay']!r}")
        expect((width, height) == (image_w * factor, image_h * factor),
               f"{method}.png: {width} x {height}, expected "
               f"{image_w * factor} x {image_h * factor}")
        expect(channels == 3, f"{method}.png: {channels} channels, RGB expected")
        if max(scores) > min(scores):
            # The normalized map reaches 0 (blue) and 1 (red) somewhere.
            reddish = bluish = False
            for row in rows:
                for x in range(0, len(row), 3):
                    r, b = row[x], row[x + 2]
                    reddish = reddish or r - b > 32
                    bluish = bluish or b - r > 32
            expect(reddish and bluish, f"{method}.png: the heatmap's colours are missing")
        print(f"{method}: {g} x {g} scores in [{min(scores):.4g}, {max(scores):.4g}], "
              f"{entry['forwards']} {entry['forwards_unit']}, {method}.png {width} x {height} ok")
    print(f"scores.json ok: predicted class {predicted}, target {target}")


def make_png(args):
    w, h = args.width, args.height
    raw = bytearray()
    for y in range(h):
        raw.append(0)
        for x in range(w):
            inside = (x - w / 2) ** 2 / (w / 4) ** 2 + (y - h / 2) ** 2 / (h / 4) ** 2 < 1
            raw += bytes((230, 200, 40) if inside else (20 + 100 * y // h, 30, 60 + 80 * x // w))

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    with open(args.file, "wb") as f:
        f.write(PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check")
    c.add_argument("out_dir")
    c.add_argument("--methods", default="sobol,hsic,eva")
    c.add_argument("--grid", type=int)
    c.add_argument("--classes", type=int, default=10)
    c.add_argument("--target", type=int)
    m = sub.add_parser("make-png")
    m.add_argument("file")
    m.add_argument("width", type=int)
    m.add_argument("height", type=int)
    args = parser.parse_args()
    try:
        check(args) if args.command == "check" else make_png(args)
    except (CheckError, OSError, ValueError, KeyError, TypeError, zlib.error) as e:
        print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
