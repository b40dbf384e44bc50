#!/usr/bin/env python3
"""The test of tools/ptxas_gate.py: it passes a kernel without local memory
and fails, naming it, a kernel with a run-time-indexed local array.

    check_gate.py NVCC SOURCE_DIR WORK_DIR
"""
import json
import pathlib
import subprocess
import sys


def run_gate(nvcc, source, work, define):
    work.mkdir(parents=True, exist_ok=True)
    command = f"{nvcc} -O3 -std=c++17 {define} -c {source / 'tests/ptxas/kernels.cu'} -o kernels.o"
    (work / "compile_commands.json").write_text(json.dumps(
        [{"directory": str(work), "command": command, "file": str(source / "tests/ptxas/kernels.cu")}]))
    return subprocess.run([sys.executable, str(source / "tools/ptxas_gate.py"), str(work)],
                          capture_output=True, text=True)


def main():
    nvcc, source, work = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    clean = run_gate(nvcc, source, work / "clean", "")
    assert clean.returncode == 0, f"the gate failed a clean kernel:\n{clean.stdout}{clean.stderr}"
    assert "1 functions" in clean.stdout and "0 with spills" in clean.stdout, clean.stdout
    local = run_gate(nvcc, source, work / "local", "-DCUXPLAIN_PTXAS_GATE_LOCAL_ARRAY")
    assert local.returncode == 1, f"the gate passed a local array:\n{local.stdout}{local.stderr}"
    assert "FAIL" in local.stderr and "local_array_kernel" in local.stderr, local.stderr
    assert "clean_kernel" not in local.stderr, local.stderr
    print("ptxas gate: passes the clean kernel, fails local_array_kernel")


if __name__ == "__main__":
    main()
