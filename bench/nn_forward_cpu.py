"""Times one CPU forward framework on ONNX models, for bench/nn_forward_cpu.sh.

    python nn_forward_cpu.py ort   --threads T --out F.json model.onnx ...
    python nn_forward_cpu.py keras --threads T --out F.json   (the embedded model's twin)
    python nn_forward_cpu.py export-resnet18 --out resnet18.onnx
    python nn_forward_cpu.py report --threads T cuxplain.json ort.json keras.json

Each case times whole batches of 1, 64 and 256 random images in [0, 1]: one
warm-up call, then calls until 1 s has passed (at least 3), the median call
kept. Results: a list of {framework, model, batch, seconds}.
"""
import argparse
import json
import pathlib
import statistics
import sys
import time

BATCHES = (1, 64, 256)
ROOT = pathlib.Path(__file__).resolve().parents[1]


def time_calls(call):
    """(wall, cpu) seconds of the median call; cpu: the process's CPU time
    (all its threads), which other load on the machine does not inflate."""
    call()
    times = []
    start = time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < 1.0:
        t0, c0 = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    return (statistics.median(t for t, _ in times), statistics.median(c for _, c in times))


def run_ort(args):
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    results = []
    for path in args.models:
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        inp = session.get_inputs()[0]
        shape = [d if isinstance(d, int) else 1 for d in inp.shape[1:]]
        for n in BATCHES:
            x = np.random.default_rng(0).random((n, *shape), dtype=np.float32)
            seconds, cpu = time_calls(lambda: session.run(None, {inp.name: x}))
            results.append({"framework": f"onnxruntime {ort.__version__}",
                            "model": pathlib.Path(path).name, "batch": n, "seconds": seconds,
                            "cpu_seconds": cpu})
    return results


def run_keras(args):
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    sys.path.insert(0, str(ROOT / "bench" / "xplique"))
    import keras_twin

    model, _, _ = keras_twin.build()
    forward = tf.function(lambda x: model(x, training=False))
    results = []
    for n in BATCHES:
        x = tf.constant(np.random.default_rng(0).random((n, 28, 28, 1), dtype=np.float32))
        seconds, cpu = time_calls(lambda: forward(x).numpy())
        results.append({"framework": f"Keras (TensorFlow {tf.__version__})",
                        "model": "fashion_mnist_cnn.onnx", "batch": n, "seconds": seconds,
                        "cpu_seconds": cpu})
    return results


def export_resnet18(args):
    """torchvision's resnet18 (random weights) through torch.onnx when torch
    imports, else the same graph written node by node with onnx.helper."""
    try:
        import torch
        import torchvision
    except ImportError:
        write_resnet18(args.out)
        return
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()  # random weights
    x = torch.rand(1, 3, 224, 224)
    torch.onnx.export(model, x, args.out, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "n"}, "logits": {0: "n"}}, opset_version=17)


def write_resnet18(path):
    """ResNet-18 as torchvision defines it (7x7/2 stem, 3x3/2 max pool, four
    stages of two basic blocks, 64-128-256-512 channels, 1x1/2 projections,
    global average pool, 1000-way Gemm), batch norms as separate nodes, He
    random weights, in the node order torch.onnx writes."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper, TensorProto

    rng = np.random.default_rng(0)
    nodes, inits = [], []
    count = [0]

    def name(prefix):
        count[0] += 1
        return f"{prefix}_{count[0]}"

    def tensor(prefix, value):
        n = name(prefix)
        inits.append(numpy_helper.from_array(value.astype(np.float32), n))
        return n

    def conv(x, cin, cout, k, stride, pad):
        w = rng.normal(0, np.sqrt(2.0 / (cin * k * k)), (cout, cin, k, k))
        y = name("conv")
        nodes.append(helper.make_node("Conv", [x, tensor("w", w)], [y], kernel_shape=[k, k],
                                      strides=[stride, stride], pads=[pad] * 4))
        return y

    def bn(x, c):
        y = name("bn")
        nodes.append(helper.make_node(
            "BatchNormalization",
            [x, tensor("gamma", rng.uniform(0.5, 1.5, c)), tensor("beta", rng.normal(0, 0.1, c)),
             tensor("mean", rng.normal(0, 0.1, c)), tensor("var", rng.uniform(0.5, 1.5, c))],
            [y], epsilon=1e-5))
        return y

    def op(kind, inputs, **attrs):
        y = name(kind.lower())
        nodes.append(helper.make_node(kind, inputs, [y], **attrs))
        return y

    x = op("Relu", [bn(conv("input", 3, 64, 7, 2, 3), 64)])
    x = op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for block in range(2):
            s = stride if block == 0 else 1
            y = op("Relu", [bn(conv(x, cin, cout, 3, s, 1), cout)])
            y = bn(conv(y, cout, cout, 3, 1, 1), cout)
            shortcut = x if s == 1 and cin == cout else bn(conv(x, cin, cout, 1, s, 0), cout)
            x = op("Relu", [op("Add", [y, shortcut])])
            cin = cout
    x = op("Flatten", [op("GlobalAveragePool", [x])], axis=1)
    w = rng.uniform(-1, 1, (1000, 512)) / np.sqrt(512)
    nodes.append(helper.make_node("Gemm", [x, tensor("fc_w", w), tensor("fc_b", np.zeros(1000))],
                                  ["logits"], transB=1))
    graph = helper.make_graph(
        nodes, "resnet18", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", 1000])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def report(args):
    rows = []
    for path in args.results:
        data = json.loads(pathlib.Path(path).read_text())
        if isinstance(data, dict):  # bench_nn's Google Benchmark JSON
            for b in data["benchmarks"]:
                parts = b["name"].split("/")  # nn/onnx/<model>/forward/<host>/<n>/...
                if b.get("run_type") != "iteration" or parts[1] != "onnx":
                    continue
                kind = "cuxplain (oneDNN)" if parts[4] == "host" else "cuxplain (hand-written)"
                # cpu_time: the main thread's, which runs every op with
                # 1 thread (with more it leaves out the OpenMP workers').
                rows.append({"framework": kind, "model": parts[2], "batch": int(parts[5]),
                             "seconds": b["real_time"] * 1e-6,
                             "cpu_seconds": b["cpu_time"] * 1e-6 if args.threads == 1 else None})
        else:
            rows += data
    frameworks = list(dict.fromkeys(r["framework"] for r in rows))
    models = list(dict.fromkeys(r["model"] for r in rows))
    base = next(f for f in frameworks if f.startswith("cuxplain") and "hand" not in f)
    for key, what in (("seconds", "wall-clock"), ("cpu_seconds", "CPU time")):
        seconds = {(r["framework"], r["model"], r["batch"]): r.get(key) for r in rows}
        if not any(seconds.values()):
            continue
        print(f"Images per second ({what}), {args.threads} thread(s); ratio = other's time / "
              "cuxplain (oneDNN)'s (> 1: cuxplain faster).\n")
        others = [f for f in frameworks if f != base]
        print("| model | batch | " + " | ".join(frameworks) + " | " +
              " | ".join(f"ratio vs {f}" for f in others) + " |")
        print("|" + " --- |" * (2 + len(frameworks) + len(others)))
        for model in models:
            for n in BATCHES:
                cells = []
                for f in frameworks:
                    s = seconds.get((f, model, n))
                    cells.append(f"{n / s:,.1f}" if s else "n/a")
                b = seconds.get((base, model, n))
                ratios = []
                for f in others:
                    s = seconds.get((f, model, n))
                    ratios.append(f"{s / b:.2f}" if s and b else "n/a")
                print(f"| {model} | {n} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
        print()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["ort", "keras", "export-resnet18", "report"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out")
    parser.add_argument("models", nargs="*")
    args = parser.parse_intermixed_args()
    args.results = args.models
    if args.what == "export-resnet18":
        export_resnet18(args)
        return
    if args.what == "report":
        report(args)
        return
    results = run_ort(args) if args.what == "ort" else run_keras(args)
    pathlib.Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
