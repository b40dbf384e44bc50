#!/usr/bin/env python3
"""Runs the cuxplain program once under conditions a plain run cannot set up,
and checks how it ended (Python's standard library only).

  check_run.py [--exit N] [--stderr TEXT]... [--fsize BYTES]
               [--stdout-file FILE] -- PROGRAM ARGS...

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
"""
import argparse
import resource
import signal
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exit", type=int, default=0)
    parser.add_argument("--stderr", action="append", default=[])
    parser.add_argument("--fsize", type=int)
    parser.add_argument("--stdout-file")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no program to run")

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
    out = run.stdout.decode("utf-8", "replace") if run.stdout is not None else ""
    err = run.stderr.decode("utf-8", "replace")
    print(f"$ {' '.join(command)}" + (f" (files up to {args.fsize} bytes)" if args.fsize else "")
          + (f" > {args.stdout_file}" if args.stdout_file else ""))
    print(f"--- stdout\n{out}--- stderr\n{err}--- exit {run.returncode}")

    failures = []
    if run.returncode < 0:
        failures.append(f"killed by signal {-run.returncode} "
                        f"({signal.Signals(-run.returncode).name}), expected exit {args.exit}")
    elif run.returncode != args.exit:
        failures.append(f"exit status {run.returncode}, expected {args.exit}")
    for text in args.stderr:
        if text not in err:
            failures.append(f"stderr does not contain {text!r}")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
