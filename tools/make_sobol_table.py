#!/usr/bin/env python3
"""Writes the data tables of the quasi-Monte Carlo samplers (kernels/qmc).

kernels/sobol_joe_kuo_table.inc
    Joe and Kuo's new-joe-kuo-6.21201 direction numbers, read from the copy
    scipy ships (scipy/stats/_sobol_direction_numbers.npz), as a comma-separated
    list of uint32 words:

        word 0                    G, the number of degree groups (18)
        words 1 .. 2(G+1)         for s = 1..G+1: (first dimension of degree s,
                                  first word of its records); the pair for
                                  s = G+1 is the end sentinel
        records                   per dimension d >= 1, in order:
                                  s, a, m_1, ..., m_s   (s + 2 words)

    s is the degree of the primitive polynomial x^s + a_1 x^(s-1) + ... +
    a_(s-1) x + 1, a = a_1 ... a_(s-1) read as a binary number (a_1 the most
    significant bit), m_k the initial direction numbers (odd, < 2^k).
    Dimension 0 (the van der Corput sequence, every m_k = 1) has no record.
    Joe and Kuo sort their polynomials by degree, so every record of degree s
    has the same length and a dimension's record is found from the small
    per-degree header without an offset per dimension.

kernels/halton_primes.inc
    The first 21201 primes (Halton bases, as scipy.stats.qmc.Halton uses).

The script checks its own reading of the table: it rebuilds the direction
vectors with the recurrence the kernels use and compares them, and the first
points, with scipy.stats.qmc.Sobol(21201, scramble=False)'s, in every dimension.

Usage: python3 tools/make_sobol_table.py   (from the repository root)
"""
import os
import sys

import numpy as np
import scipy
from scipy.stats import qmc

MAX_DIMENSIONS = 21201
BITS = 32


def load_direction_numbers():
    path = os.path.join(os.path.dirname(scipy.__file__), "stats", "_sobol_direction_numbers.npz")
    data = np.load(path)
    poly = data["poly"].astype(np.int64)
    vinit = data["vinit"].astype(np.int64)
    assert poly.shape == (MAX_DIMENSIONS,), poly.shape
    return poly, vinit


def records(poly, vinit):
    """(s, a, [m_1..m_s]) for dimensions 1 .. MAX_DIMENSIONS-1."""
    out = []
    for d in range(1, MAX_DIMENSIONS):
        p = int(poly[d])
        s = p.bit_length() - 1
        assert s >= 1 and p & 1 and (p >> s) == 1, (d, p)
        a = (p >> 1) & ((1 << (s - 1)) - 1)
        m = [int(v) for v in vinit[d, :s]]
        assert all(v % 2 == 1 and v < (1 << (k + 1)) for k, v in enumerate(m)), (d, m)
        assert not np.any(vinit[d, s:]), d
        out.append((s, a, m))
    return out


def direction_vectors(record):
    """32-bit direction vectors V[b] = m_(b+1) << (31 - b), the kernels' recurrence."""
    if record is None:
        m = [1] * BITS
    else:
        s, a, m0 = record
        m = list(m0)
        for k in range(s, BITS):
            new = m[k - s] ^ (m[k - s] << s)
            for t in range(1, s):
                if (a >> (s - 1 - t)) & 1:
                    new ^= m[k - t] << t
            m.append(new)
    v = [m[b] << (BITS - 1 - b) for b in range(BITS)]
    assert all(x < 2**32 for x in v)
    return v


def encode(recs):
    degrees = [r[0] for r in recs]
    assert degrees == sorted(degrees), "records must be sorted by degree"
    groups = max(degrees)
    header_words = 1 + 2 * (groups + 1)
    header = [groups]
    word = header_words
    dim = 1
    for s in range(1, groups + 2):
        header += [dim, word]
        count = degrees.count(s)
        dim += count
        word += count * (s + 2)
    body = []
    for s, a, m in recs:
        body += [s, a] + m
    assert header_words + len(body) == header[-1]
    return header, body


def check_against_scipy(recs):
    """Direction vectors of every dimension against scipy's own (its 30 bits),
    and the first points bit for bit."""
    vectors = [direction_vectors(None)] + [direction_vectors(r) for r in recs]
    v30 = np.array([[x >> 2 for x in v[:30]] for v in vectors], dtype=np.uint64)  # (dims, 30)
    engine = qmc.Sobol(MAX_DIMENSIONS, scramble=False)
    assert np.array_equal(v30, np.asarray(engine._sv, dtype=np.uint64)), \
        "direction vectors differ from scipy's"
    expected = np.rint(engine.random(16) * 2.0**30).astype(np.uint64)
    got = np.zeros_like(expected)
    for j in range(16):
        g = j ^ (j >> 1)
        for b in range(30):
            if (g >> b) & 1:
                got[j] ^= v30[:, b]
    assert np.array_equal(got, expected), "first points differ from scipy"


def first_primes(count):
    limit = 300000
    sieve = np.ones(limit, dtype=bool)
    sieve[:2] = False
    for p in range(2, int(limit**0.5) + 1):
        if sieve[p]:
            sieve[p * p :: p] = False
    primes = np.nonzero(sieve)[0][:count]
    assert len(primes) == count
    return [int(p) for p in primes]


def write_list(path, comment_lines, values, per_line):
    with open(path, "w") as f:
        for line in comment_lines:
            f.write(f"// {line}\n")
        for i in range(0, len(values), per_line):
            f.write(",".join(str(v) for v in values[i : i + per_line]) + ",\n")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    poly, vinit = load_direction_numbers()
    recs = records(poly, vinit)
    check_against_scipy(recs)
    header, body = encode(recs)

    groups = header[0]
    lines = [
        "Joe-Kuo new-joe-kuo-6.21201 Sobol direction numbers (scipy's copy).",
        "Generated by tools/make_sobol_table.py; do not edit. Layout:",
        f"G = {groups}; (first dimension, first word) for degrees 1..G+1;",
        "then per dimension d >= 1: s, a, m_1..m_s.",
    ]
    table = os.path.join(root, "kernels", "sobol_joe_kuo_table.inc")
    with open(table, "w") as f:
        for line in lines:
            f.write(f"// {line}\n")
        f.write(",".join(str(v) for v in header) + ",\n")
        for s, a, m in recs:
            f.write(",".join(str(v) for v in [s, a] + m) + ",\n")

    primes = first_primes(MAX_DIMENSIONS)
    write_list(os.path.join(root, "kernels", "halton_primes.inc"),
               ["The first 21201 primes: Halton bases (scipy.stats.qmc.Halton's order).",
                "Generated by tools/make_sobol_table.py; do not edit."],
               primes, 16)
    print(f"sobol table: {len(header) + len(body)} words; primes up to {primes[-1]}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
