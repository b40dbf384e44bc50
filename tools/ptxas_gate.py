#!/usr/bin/env python3
"""Fails when a CUDA kernel spills registers or uses local memory.

Compiles the device code of every .cu file of a CMake build (its
compile_commands.json) to a cubin for one architecture with
`-Xptxas=-v`, reads ptxas's report of each function (stack frame, spill
stores and loads, registers) and fails, listing the kernel, when one spills
or has a stack frame, unless tools/ptxas_allow.txt allows it. No GPU is
needed: this is what CI can check of the kernels' code generation.

    tools/ptxas_gate.py BUILD_DIR [--arch sm_90] [--allow tools/ptxas_allow.txt]

Allow-list lines: `<substring of the demangled name without spaces> <largest stack frame
in bytes> <largest spill stores or loads in bytes> <why>`; a kernel of the
project's own is fixed rather than listed, a library's (CUB's tuned
policies) is listed with its reason.
"""
import argparse
import json
import pathlib
import re
import shlex
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

PROPERTIES = re.compile(r"Function properties for (\S+)")
FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
REGISTERS = re.compile(r"Used (\d+) registers")


def device_command(command, arch, out):
    """The compile command of one .cu file, changed to build its cubin only."""
    args = shlex.split(command)
    result, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == "-o":
            skip = True
            continue
        if arg.startswith("--generate-code") or arg.startswith("-gencode") or arg.startswith("-arch"):
            continue
        result.append("-cubin" if arg == "-c" else arg)
    return result + [f"-arch={arch}", "-Xptxas=-v", "-o", out]


def report(entry, arch):
    """[(mangled name, stack, spill stores, spill loads, registers)] of one file."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = device_command(entry["command"], arch, str(pathlib.Path(tmp) / "out.cubin"))
        run = subprocess.run(cmd, cwd=entry["directory"], capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{entry['file']}: nvcc failed:\n{run.stderr}")
    functions, name = [], None
    for line in run.stderr.splitlines():
        if m := PROPERTIES.search(line):
            name = m.group(1)
        elif (m := FRAME.search(line)) and name is not None:
            functions.append([name, int(m.group(1)), int(m.group(2)), int(m.group(3)), None])
        elif (m := REGISTERS.search(line)) and functions and functions[-1][4] is None:
            functions[-1][4] = int(m.group(1))
    return functions


def demangle(names):
    run = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True)
    out = run.stdout.splitlines() if run.returncode == 0 else []
    return out if len(out) == len(names) else list(names)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build_dir")
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("--allow", default=str(pathlib.Path(__file__).with_name("ptxas_allow.txt")))
    args = parser.parse_args()

    commands = json.loads((pathlib.Path(args.build_dir) / "compile_commands.json").read_text())
    entries = [e for e in commands if e["file"].endswith(".cu")]
    if not entries:
        sys.exit(f"ptxas_gate: no .cu file in {args.build_dir}/compile_commands.json "
                 "(configure with CUXPLAIN_WITH_CUDA=ON and CMAKE_EXPORT_COMPILE_COMMANDS=ON)")
    allow = []
    for line in pathlib.Path(args.allow).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            pattern, frame, spill, why = line.split(maxsplit=3)
            allow.append((pattern, int(frame), int(spill), why))

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(lambda e: (e["file"], report(e, args.arch)), entries))
    rows = [(file, *f) for file, functions in reports for f in functions]
    names = demangle([row[1] for row in rows])
    kernels = failures = allowed = 0
    for (file, _, frame, stores, loads, registers), name in zip(rows, names):
        kernels += 1
        if frame == 0 and stores == 0 and loads == 0:
            continue
        rule = next((a for a in allow if a[0] in name.replace(" ", "")), None)
        where = f"{pathlib.Path(file).name}: {name}: {frame} bytes stack frame, {stores} bytes " \
                f"spill stores, {loads} bytes spill loads, {registers} registers"
        if rule is not None and frame <= rule[1] and max(stores, loads) <= rule[2]:
            allowed += 1
            print(f"ptxas_gate: allowed: {where} ({rule[3]})")
        else:
            failures += 1
            print(f"ptxas_gate: FAIL: {where}", file=sys.stderr)
    print(f"ptxas_gate: {kernels} functions in {len(entries)} files for {args.arch}: "
          f"{failures} with spills or an unallowed stack frame, {allowed} allowed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
