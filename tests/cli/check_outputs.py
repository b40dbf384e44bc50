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

  check_outputs.py check-concepts OUT_DIR --class N --images N --data DIR
                                  [--patch P] [--rank R] [--top T] [--crops K]
                                  [--map-images M] [--subconcepts S]
                                  [--sub-concept ID] [--sub-crops K]
                                  [--sub-layer-shape C,H,W]
      What `cuxplain concepts` wrote. concepts.json must parse, name the
      class, hold N test-set indices of images of the class (read from the
      labels in DIR), R finite importances >= 0, a ranking that sorts them
      (ties by concept id), each concept's rank, and per concept K distinct
      top crops whose image, top and left follow from the crop id and the
      crop grid. concepts.png is decoded in full and each drawn row must hold
      the pixels of those crops cut from the test images, enlarged, between
      gray separators; concept_maps.png must start each row with its image
      enlarged and show the colormap. With --subconcepts S, the
      "subconcepts" object must name the concept split (default: the most
      important), the sub-layer's shape (default 16,14,14), min(K, crops)
      distinct crops of the concept that start with its top crops, S finite
      importances >= 0 sorted by its ranking, and per sub-concept distinct
      top crops among those used; subconcepts.png is checked as concepts.png,
      one row per sub-concept in ranking order. Without, neither exists.

  check_outputs.py make-raw-idx DIR COUNT
      Writes the first COUNT test images and labels of Debian's
      dataset-fashion-mnist uncompressed (t10k-*-ubyte) into DIR.
"""
import argparse
import gzip
import json
import os
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


DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"]


def read_idx(directory, name):
    """Returns (dims, data bytes) of an unsigned-byte IDX file, raw or .gz."""
    path = os.path.join(directory, name)
    if os.path.exists(path):
        with open(path, "rb") as f:
            data = f.read()
    else:
        with gzip.open(path + ".gz", "rb") as f:
            data = f.read()
    expect(data[:3] == b"\0\0\x08", f"{path}: not an unsigned-byte IDX file")
    rank = data[3]
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return dims, data[4 + 4 * rank:]


def check_concepts(args):
    out = args.out_dir
    with open(f"{out}/concepts.json", "rb") as f:
        doc = json.loads(f.read().decode("utf-8"), parse_constant=reject_constant)
    (count,), labels = read_idx(args.data, "t10k-labels-idx1-ubyte")
    (_, rows, cols), pixels = read_idx(args.data, "t10k-images-idx3-ubyte")
    expect((rows, cols) == (28, 28), f"test images are {rows} x {cols}")

    n, r, patch = args.images, args.rank, args.patch
    expect(doc["class"] == args.class_id, f"class {doc['class']}, expected {args.class_id}")
    expect(doc.get("class_name") == FASHION_CLASSES[args.class_id],
           f"class_name {doc.get('class_name')!r}, expected {FASHION_CLASSES[args.class_id]!r}")
    expect(doc["num_images"] == n, f"num_images {doc['num_images']}, expected {n}")
    indices = doc["image_indices"]
    expected_indices = [i for i in range(count) if labels[i] == args.class_id][:n]
    expect(indices == expected_indices,
           "image_indices are not the first test images of the class")
    expect(0 <= doc["predicted_in_class"] <= n, "predicted_in_class out of range")

    stride = int(0.8 * patch)
    per_side = (28 - patch) // stride + 1
    per_image = per_side * per_side
    expect(doc["patch_size"] == patch and doc["stride"] == stride, "patch_size / stride")
    expect(doc["crop_grid"] == [per_side, per_side], f"crop_grid {doc['crop_grid']}")
    expect(doc["num_crops"] == n * per_image,
           f"num_crops {doc['num_crops']}, expected {n * per_image}")
    expect(doc["rank"] == r, f"rank {doc['rank']}, expected {r}")
    expect(doc["layer_shape"] == [32, 7, 7] or args.any_layer, f"layer_shape {doc['layer_shape']}")

    nmf = doc["nmf"]
    expect(1 <= nmf["iterations"] <= doc["options"]["max_iter"], f"nmf iterations {nmf}")
    expect(finite_number(nmf["relative_error"]) and 0 <= nmf["relative_error"] < 1,
           f"nmf relative_error {nmf['relative_error']}")

    importances = doc["importances"]
    expect(len(importances) == r, f"{len(importances)} importances, expected {r}")
    for c, v in enumerate(importances):
        expect(finite_number(v) and v >= 0, f"importance of concept {c} is {v!r}")
    expect(any(v > 0 for v in importances), "every importance is 0")
    ranking = doc["ranking"]
    expect(sorted(ranking) == list(range(r)), f"ranking {ranking} is not a permutation")
    expect(ranking == sorted(range(r), key=lambda c: (-importances[c], c)),
           f"ranking {ranking} does not sort the importances {importances}")
    top = r if args.top == "all" else min(int(args.top), r)
    expect(doc["drawn"] == ranking[:top], f"drawn {doc['drawn']}, expected {ranking[:top]}")

    concepts = doc["concepts"]
    expect([c["concept"] for c in concepts] == list(range(r)), "concepts are not 0..R-1")
    crops_per_concept = min(args.crops, n * per_image)
    for c in concepts:
        cid = c["concept"]
        expect(c["rank"] == ranking.index(cid) + 1, f"concept {cid}: rank {c['rank']}")
        expect(c["importance"] == importances[cid], f"concept {cid}: importance")
        crops = c["top_crops"]
        expect(len(crops) == crops_per_concept,
               f"concept {cid}: {len(crops)} top crops, expected {crops_per_concept}")
        ids = [t["crop"] for t in crops]
        expect(len(set(ids)) == len(ids), f"concept {cid}: repeated crops {ids}")
        for t in crops:
            crop = t["crop"]
            expect(0 <= crop < n * per_image, f"concept {cid}: crop {crop} out of range")
            within = crop % per_image
            expect(t["image"] == indices[crop // per_image]
                   and t["top"] == within // per_side * stride
                   and t["left"] == within % per_side * stride,
                   f"concept {cid}: crop {t} does not follow from its id")
    seconds = doc["seconds"]
    expect(all(finite_number(v) and v >= 0 for v in seconds.values()), f"seconds {seconds}")

    # concepts.png: the crops, enlarged, between 2-pixel gray lines.
    factor = doc["crop_display_factor"]
    expect(factor * patch >= 40 and (factor - 1) * patch < 40, f"crop factor {factor}")
    line = 2
    check_crop_sheet(f"{out}/concepts.png", [concepts[cid]["top_crops"] for cid in doc["drawn"]],
                     pixels, patch, factor, args.crops, doc["concepts_png_label_width"])
    # The concept bank: r rows of the layer's channels, non-negative, each
    # concept a direction (not all zero).
    bank, channels = doc["bank"], doc["layer_shape"][0]
    expect(len(bank) == r and all(len(row) == channels for row in bank),
           f"bank: {len(bank)} rows, {r} x {channels} expected")
    expect(all(finite_number(v) and v >= 0 for row in bank for v in row), "bank: negative or not finite")
    expect(all(any(v > 0 for v in row) for row in bank), "bank: a concept of zeros")

    # concept_maps.png: per map image, the image then the drawn concepts' maps.
    maps = min(args.map_images, n)
    expect(doc["map_images"] == indices[:maps], f"map_images {doc['map_images']}")
    if maps == 0:
        expect(not os.path.exists(f"{out}/concept_maps.png"), "concept_maps.png written for 0 maps")
    else:
        mf = -(-168 // 28)
        mt = 28 * mf
        width, height, channels, png = decode_png(f"{out}/concept_maps.png")
        expect(channels == 3, f"concept_maps.png: {channels} channels, RGB expected")
        expect((width, height) == ((top + 1) * (mt + line) + line, maps * (mt + line) + line),
               f"concept_maps.png: {width} x {height}")
        for i in range(maps):
            base, y0 = indices[i] * 28 * 28, line + i * (mt + line)
            for y in range(0, mt, 3):
                for x in range(0, mt, 3):
                    want = pixels[base + (y // mf) * 28 + x // mf]
                    got = png[y0 + y][(line + x) * 3:(line + x) * 3 + 3]
                    expect(list(got) == [want] * 3,
                           f"concept_maps.png: row {i} image pixel ({x}, {y}) is {list(got)}, "
                           f"the image has {want}")
        reddish = any(row[x] - row[x + 2] > 32 for row in png for x in range(0, len(row), 3))
        bluish = any(row[x + 2] - row[x] > 32 for row in png for x in range(0, len(row), 3))
        expect(reddish and bluish, "concept_maps.png: the colormap's ends are missing")
    print(f"concepts.json ok: class {doc['class']}, {n} images, {doc['num_crops']} crops, "
          f"rank {r}, importances {[round(importances[c], 4) for c in ranking]}; "
          f"concepts.png {top} x {crops_per_concept} crops ok"
          + (f"; concept_maps.png {maps} rows ok" if maps else ""))

    if args.subconcepts == 0:
        expect("subconcepts" not in doc, "a subconcepts object without --subconcepts")
        expect(not os.path.exists(f"{out}/subconcepts.png"), "subconcepts.png without --subconcepts")
        return
    check_subconcepts(args, doc, pixels, n * per_image, per_image, per_side, stride, factor)


def check_crop_sheet(path, rows, pixels, patch, factor, per_row, label_width):
    """A crop sheet (concepts.png, subconcepts.png): one row per list of crops
    in `rows`, a label column label_width pixels wide (white text on the gray
    background in every row), then the crops cut from the 28 x 28 test
    image, enlarged `factor` times, between 2-pixel gray (128) lines, per_row
    crops wide."""
    tile, line = patch * factor, 2
    width, height, channels, png = decode_png(path)
    name = os.path.basename(path)
    expect(channels == 1, f"{name}: {channels} channels, grayscale expected")
    expect(label_width > 0, f"{name}: no label column")
    expect((width, height) == (label_width + per_row * (tile + line) + line,
                               len(rows) * (tile + line) + line),
           f"{name}: {width} x {height}")
    expect(all(v == 128 for v in png[0]) and all(v == 128 for v in png[-1]),
           f"{name}: no separator at the top or bottom")
    for row, crops in enumerate(rows):
        y0 = line + row * (tile + line)
        label = [png[y][x] for y in range(y0, y0 + tile) for x in range(label_width)]
        expect(any(v == 255 for v in label) and all(v in (128, 255) for v in label),
               f"{name}: row {row} has no label, or stray pixels in it")
        for k, t in enumerate(crops):
            x0 = label_width + line + k * (tile + line)
            expect(png[y0 - 1][x0] == 128 and png[y0][x0 - 1] == 128,
                   f"{name}: no separator before row {row} crop {k}")
            base = t["image"] * 28 * 28
            for y in range(tile):
                for x in range(tile):
                    want = pixels[base + (t["top"] + y // factor) * 28 + t["left"] + x // factor]
                    if png[y0 + y][x0 + x] != want:
                        raise CheckError(f"{name}: row {row} crop {k} pixel ({x}, {y}) is "
                                         f"{png[y0 + y][x0 + x]}, the image has {want}")


def check_subconcepts(args, doc, pixels, num_crops, per_image, per_side, stride, factor):
    out, s = args.out_dir, args.subconcepts
    expect("subconcepts" in doc, "no subconcepts object")
    sub = doc["subconcepts"]
    ranking = doc["ranking"]
    parent = ranking[0] if args.sub_concept is None else args.sub_concept
    expect(sub["concept"] == parent, f"subconcepts: concept {sub['concept']}, expected {parent}")
    expect(sub["concept_rank"] == ranking.index(parent) + 1, "subconcepts: concept_rank")
    shape = [int(v) for v in args.sub_layer_shape.split(",")]
    expect(sub["layer_shape"] == shape, f"subconcepts: layer_shape {sub['layer_shape']}, "
           f"expected {shape}")
    expect(s <= shape[0], f"{s} sub-concepts on a {shape[0]}-channel layer")
    expect(sub["rank"] == s, f"subconcepts: rank {sub['rank']}, expected {s}")

    used = min(args.sub_crops, num_crops)
    expect(sub["num_crops"] == used, f"subconcepts: num_crops {sub['num_crops']}, expected {used}")
    ids = sub["crop_ids"]
    expect(len(ids) == used and len(set(ids)) == used, "subconcepts: crop_ids are not distinct")
    expect(all(isinstance(c, int) and 0 <= c < num_crops for c in ids),
           "subconcepts: a crop id is out of range")
    # The concept's most expressive crops, best first: its own top crops
    # (concepts.json, the same order) start the list.
    parent_top = [t["crop"] for t in doc["concepts"][parent]["top_crops"]]
    head = min(len(parent_top), used)
    expect(ids[:head] == parent_top[:head],
           f"subconcepts: crop_ids {ids[:head]} do not start with the concept's top crops "
           f"{parent_top[:head]}")

    nmf = sub["nmf"]
    expect(1 <= nmf["iterations"] <= doc["options"]["max_iter"], f"subconcepts: nmf {nmf}")
    expect(finite_number(nmf["relative_error"]) and 0 <= nmf["relative_error"] < 1,
           f"subconcepts: nmf relative_error {nmf['relative_error']}")
    importances = sub["importances"]
    expect(len(importances) == s, f"subconcepts: {len(importances)} importances, expected {s}")
    for c, v in enumerate(importances):
        expect(finite_number(v) and v >= 0, f"importance of sub-concept {c} is {v!r}")
    expect(any(v > 0 for v in importances), "every sub-concept importance is 0")
    sub_ranking = sub["ranking"]
    expect(sorted(sub_ranking) == list(range(s)), f"subconcepts: ranking {sub_ranking}")
    expect(sub_ranking == sorted(range(s), key=lambda c: (-importances[c], c)),
           f"subconcepts: ranking {sub_ranking} does not sort the importances {importances}")

    entries = sub["subconcepts"]
    expect([e["subconcept"] for e in entries] == list(range(s)), "sub-concepts are not 0..S-1")
    per_row = min(args.crops, used)
    in_parent = set(ids)
    for e in entries:
        c = e["subconcept"]
        expect(e["rank"] == sub_ranking.index(c) + 1, f"sub-concept {c}: rank {e['rank']}")
        expect(e["importance"] == importances[c], f"sub-concept {c}: importance")
        crops = e["top_crops"]
        expect(len(crops) == per_row, f"sub-concept {c}: {len(crops)} top crops, expected {per_row}")
        got = [t["crop"] for t in crops]
        expect(len(set(got)) == len(got), f"sub-concept {c}: repeated crops {got}")
        for t in crops:
            crop = t["crop"]
            expect(crop in in_parent, f"sub-concept {c}: crop {crop} is not one of the concept's")
            within = crop % per_image
            expect(t["image"] == doc["image_indices"][crop // per_image]
                   and t["top"] == within // per_side * stride
                   and t["left"] == within % per_side * stride,
                   f"sub-concept {c}: crop {t} does not follow from its id")
    expect(sub["subconcepts_png"] == "subconcepts.png", "subconcepts_png")
    check_crop_sheet(f"{out}/subconcepts.png", [entries[c]["top_crops"] for c in sub_ranking],
                     pixels, args.patch, factor, args.crops, sub["subconcepts_png_label_width"])
    print(f"subconcepts ok: concept {parent}, {used} crops at {sub['layer']} "
          f"{'x'.join(map(str, shape))}, importances "
          f"{[round(importances[c], 4) for c in sub_ranking]}; subconcepts.png {s} x {per_row} "
          f"crops ok")


def make_raw_idx(args):
    os.makedirs(args.dir, exist_ok=True)
    count = args.count
    for name, rank, size in (("t10k-images-idx3-ubyte", 3, 28 * 28),
                             ("t10k-labels-idx1-ubyte", 1, 1)):
        dims, data = read_idx(DEFAULT_DATA, name)
        expect(dims[0] >= count, f"{name}: only {dims[0]} items")
        header = b"\0\0\x08" + bytes([rank]) + struct.pack(">" + "I" * rank, count, *dims[1:])
        with open(os.path.join(args.dir, name), "wb") as f:
            f.write(header + data[:count * size])


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
    cc = sub.add_parser("check-concepts")
    cc.add_argument("out_dir")
    cc.add_argument("--class", dest="class_id", type=int, required=True)
    cc.add_argument("--images", type=int, required=True)
    cc.add_argument("--data", default=DEFAULT_DATA)
    cc.add_argument("--patch", type=int, default=10)
    cc.add_argument("--rank", type=int, default=10)
    cc.add_argument("--top", default="5")
    cc.add_argument("--crops", type=int, default=10)
    cc.add_argument("--map-images", type=int, default=4)
    cc.add_argument("--any-layer", action="store_true")
    cc.add_argument("--subconcepts", type=int, default=0)
    cc.add_argument("--sub-concept", type=int)
    cc.add_argument("--sub-crops", type=int, default=200)
    cc.add_argument("--sub-layer-shape", default="16,14,14")
    ri = sub.add_parser("make-raw-idx")
    ri.add_argument("dir")
    ri.add_argument("count", type=int)
    args = parser.parse_args()
    commands = {"check": check, "make-png": make_png, "check-concepts": check_concepts,
                "make-raw-idx": make_raw_idx}
    try:
        commands[args.command](args)
    except (CheckError, OSError, ValueError, KeyError, TypeError, IndexError, EOFError,
            zlib.error) as e:
        print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
