#!/usr/bin/env python3
"""Runs the cuxplain program once under conditions a plain run cannot set up,
and checks how it ended and what it left in its output directory (Python's
standard library only).

  check_run.py [--exit N] [--stderr TEXT]... [--fsize BYTES]
               [--stdout-file FILE] [--out DIR [--clean PATH]
               [--previous NAME]... [--out-is-file] [--written NAME]...]
               -- PROGRAM ARGS...

  --exit N          the exit status expected (default 0); death by a signal
                    (a crash, or SIGXFSZ) never matches
  --stderr TEXT     a substring stderr must contain (exact case; repeatable)
  --fsize BYTES     the largest file the program may write (RLIMIT_FSIZE,
                    what `ulimit -f` sets). SIGXFSZ is reset to its default
                    action (terminate) in the program, whatever the test
                    runner does with it, so that a program which does not
                    ignore it dies here instead of failing the write cleanly
  --stdout-file F   the program's standard output goes to F (/dev/full: every
                    write to it fails with ENOSPC)
  --out DIR         passed to the program as `--out DIR`. Before the run DIR
                    (or --clean PATH, a parent of it) is removed; with
                    --previous NAME it is made again holding a file NAME per
                    option, as a previous run would have left them (distinct
                    bytes each). After the run, whatever the exit status,
                    neither DIR nor its parent may hold a staging directory.
                    After a failing run DIR must be exactly as it was: the same
                    entries and the same bytes, or missing as before (and the
                    missing parents too). After a successful one DIR holds
                    exactly the previous files and the --written ones, the
                    previous files not written unchanged, the written ones
                    with new contents.
  --out-is-file     DIR is made as a regular file (the run must refuse it and
                    leave it unchanged)
"""
import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys


def snapshot(path):
    """{relative path: bytes, or None for a directory} of everything under
    path, hidden entries included; None when path does not exist."""
    if not os.path.lexists(path):
        return None
    if not os.path.isdir(path):
        with open(path, "rb") as f:
            return {".": f.read()}
    found = {}
    for root, dirs, files in os.walk(path):
        for d in dirs:
            found[os.path.relpath(os.path.join(root, d), path)] = None
        for name in files:
            full = os.path.join(root, name)
            with open(full, "rb") as f:
                found[os.path.relpath(full, path)] = f.read()
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exit", type=int, default=0)
    parser.add_argument("--stderr", action="append", default=[])
    parser.add_argument("--fsize", type=int)
    parser.add_argument("--stdout-file")
    parser.add_argument("--out")
    parser.add_argument("--clean")
    parser.add_argument("--previous", action="append", default=[])
    parser.add_argument("--out-is-file", action="store_true")
    parser.add_argument("--written", action="append", default=[])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no program to run")

    out = os.path.normpath(args.out) if args.out else None
    before = None
    missing_top = None
    if out:
        command += ["--out", out]
        clean = args.clean or out
        if os.path.isdir(clean) and not os.path.islink(clean):
            shutil.rmtree(clean)
        elif os.path.lexists(clean):
            os.remove(clean)
        if args.out_is_file:
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out, "wb") as f:
                f.write(b"a file where the output directory should be\n")
        elif args.previous:
            os.makedirs(out)
            for k, name in enumerate(args.previous):
                with open(os.path.join(out, name), "wb") as f:
                    f.write(f"previous run's {name}\n".encode() + os.urandom(64) + bytes([k]))
        before = snapshot(out)
        # The topmost path of DIR that does not exist: a failing run must not
        # create it (nor anything under it).
        path = out
        while not os.path.lexists(path) and os.path.dirname(path) != path:
            missing_top, path = path, os.path.dirname(path)

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        if args.fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (args.fsize, args.fsize))

    stdout = open(args.stdout_file, "wb") if args.stdout_file else subprocess.PIPE
    try:
        run = subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE, preexec_fn=limit)
    finally:
        if args.stdout_file:
            stdout.close()
    text = run.stdout.decode("utf-8", "replace") if run.stdout is not None else ""
    err = run.stderr.decode("utf-8", "replace")
    print(f"$ {' '.join(command)}" + (f" (files up to {args.fsize} bytes)" if args.fsize else "")
          + (f" > {args.stdout_file}" if args.stdout_file else ""))
    print(f"--- stdout\n{text}--- stderr\n{err}--- exit {run.returncode}")

    failures = []
    if run.returncode < 0:
        failures.append(f"killed by signal {-run.returncode} "
                        f"({signal.Signals(-run.returncode).name}), expected exit {args.exit}")
    elif run.returncode != args.exit:
        failures.append(f"exit status {run.returncode}, expected {args.exit}")
    for wanted in args.stderr:
        if wanted not in err:
            failures.append(f"stderr does not contain {wanted!r}")

    if out:
        failures += check_out_dir(args, out, before, missing_top, run.returncode == 0)
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


def check_out_dir(args, out, before, missing_top, succeeded):
    failures = []
    parent, base = os.path.split(out)
    staged = []
    if os.path.isdir(parent or "."):
        staged += [e for e in os.listdir(parent or ".") if e.startswith(base + ".tmp-")]
    if os.path.isdir(out):
        staged += [os.path.join(base, e) for e in os.listdir(out) if e.startswith(".cuxplain-tmp-")]
    if staged:
        failures.append(f"staging directories left behind: {staged}")
    after = snapshot(out)

    if not succeeded:
        if before is None:
            if missing_top and os.path.lexists(missing_top):
                failures.append(f"the failing run created {missing_top}")
        elif after != before:
            if after is None:
                failures.append(f"{out} was removed")
            else:
                changed = sorted(k for k in set(before) | set(after)
                                 if (k in before) != (k in after) or before[k] != after[k])
                failures.append(f"the failing run changed {out}: {changed}")
        else:
            print(f"{out}: as it was ({len(before)} entries)")
        return failures

    if after is None or "." in after:
        return failures + [f"{out} is not a directory after the run"]
    previous = before or {}
    expected = set(previous) | set(args.written)
    if set(after) != expected:
        failures.append(f"{out} holds {sorted(after)}, expected {sorted(expected)}")
    for name in args.written:
        if name in after and name in previous and after[name] == previous[name]:
            failures.append(f"{name} was not replaced")
    for name in set(previous) - set(args.written):
        if after.get(name) != previous[name]:
            failures.append(f"{name}, which the run does not write, changed")
    if not failures:
        print(f"{out}: {sorted(args.written)} written, {sorted(set(previous) - set(args.written))} "
              f"kept")
    return failures


if __name__ == "__main__":
    sys.exit(main())
