"""cuRAND's Philox4_32_10 stream as include/cuxplain/detail/philox.hpp reads
it, in NumPy: element i of seed s is word i % 4 of Philox4x32-10 at counter
(i // 4) // 65536, subsequence (i // 4) % 65536, under key s. The comparison
scripts use it to hand xplique the masks cuxplain draws, so that the two
implementations are compared on the same random numbers."""
import numpy as np

_MASK = np.uint64(0xFFFFFFFF)
_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)

REGION_MASKS = 0
REGION_SHIFTS = 1 << 56
REGION_SUBSET_SIZES = 2 << 56
REGION_NOISE = 3 << 56


def _philox(c0, c1, c2, c3, key):
    k0 = np.full_like(c0, np.uint64(key & 0xFFFFFFFF))
    k1 = np.full_like(c0, np.uint64((key >> 32) & 0xFFFFFFFF))
    for r in range(10):
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ k0, p1 & _MASK,
                          (p0 >> np.uint64(32)) ^ c3 ^ k1, p0 & _MASK)
        if r < 9:
            k0 = (k0 + _W0) & _MASK
            k1 = (k1 + _W1) & _MASK
    return c0, c1, c2, c3


def bits(seed, positions):
    """uint32 outputs at `positions` (an integer array) of seed's stream."""
    index = np.asarray(positions, dtype=np.uint64)
    block = index >> np.uint64(2)
    counter = block // np.uint64(65536)
    sub = block % np.uint64(65536)
    words = _philox(counter & _MASK, counter >> np.uint64(32), sub, np.zeros_like(sub), seed)
    word = (index & np.uint64(3)).astype(np.int64)
    out = np.choose(word, words)
    return out.astype(np.uint32)


def uniform(seed, positions):
    """cuRAND's uniform float32 in (0, 1]: bits * 2^-32 + 2^-33."""
    b = bits(seed, positions).astype(np.float32)
    scale = np.float32(2.0 ** -32)
    return b * scale + scale / np.float32(2.0)


def uniform_below(seed, positions, n):
    return (bits(seed, positions).astype(np.uint64) * np.uint64(n)) >> np.uint64(32)


if __name__ == "__main__":
    # Random123's known answers (counter 0, key 0) through the stream layout.
    got = bits(0, np.arange(4))
    assert [hex(int(v)) for v in got] == ["0x6627e8d5", "0xe169c58d", "0xbc57ac4c",
                                          "0x9b00dbd8"], got
    print("philox.py: Random123's known answer reproduced")
