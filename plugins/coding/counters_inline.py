"""Counters (spec/codecs/coding.md, section "Counters"): a binary model whose learning rate
starts fast and settles, kept in a cell `p << 8 | n` that the caller owns.

`p` is the probability of a 0 in units of 2**-bits (16 or 22 bits), `n` the number of bits the
counter has counted, up to a `limit` (at most 255) that the model fixes. A coded bit moves p
rates[n] / 2**16 of the way towards it, with rates[n] = 2**16 / (n + start / 2), so the first
bits of a fresh context count almost as a frequency count would (start 3: close to the
Krichevsky-Trofimov estimate) and from n = limit on it forgets at a fixed rate, following
statistics that drift. p stays within [1, 2**bits - 1]: each step moves a fraction < 1 of the
way and rounds towards where it was.

Compiled kernels cimport the inline C versions of counter_p and counter_learn from
counters_inline.pxd; these are the same arithmetic for kernels running as plain Python.
"""

from array import array

MAX_LIMIT = 255


def counter_rates(start: int, limit: int) -> array:
    """rates[n] = 2**17 div (2n + start) for n = 0 .. limit: the steps of counters whose n stops
    at `limit` (start 3: 1/(n + 1.5); start 16: 1/(n + 8))."""
    if not 0 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit {limit} is outside 0..{MAX_LIMIT}")
    return array("I", [(1 << 17) // (2 * n + start) for n in range(limit + 1)])


def counter_cell(p: int) -> int:
    """A counter at probability p that has counted nothing."""
    return p << 8


def counter_table(count: int, bits: int) -> array:
    """`count` counters at probability 1/2 (2**(bits - 1)) that have counted nothing: the cells
    of a model's own array."""
    return array("I", [counter_cell(1 << (bits - 1))]) * count


def counter_p(cell):
    return cell >> 8


def counter_learn(cell, bit, rates, limit, bits):
    n = cell & 0xFF
    p = cell >> 8
    rate = rates[n]
    if bit:
        p -= (p * rate) >> 16
    else:
        p += (((1 << bits) - p) * rate) >> 16
    return (p << 8) | (n + (n < limit))
