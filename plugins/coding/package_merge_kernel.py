"""Optimal length-limited Huffman code lengths, by package-merge (Larmore and Hirschberg, 1990).

Plain Huffman can give a rare symbol a code as long as the alphabet; a decoder indexing a table
by the next `max_length` bits wants a bound. Package-merge finds the code lengths that minimise
sum(count * length) subject to every length <= max_length, exactly, not by a heuristic.

The idea, as coin collecting: each symbol is a coin of face value 2**-l for every l in
1..max_length, weighing its count. Buy coins worth n - 1 in total at the least weight; a
symbol's code length is the number of its coins bought. Working from the smallest denomination
up, the items of one denomination are paired into "packages" worth the next one, merged with the
coins of that denomination, and so on; the 2n - 2 lightest items of the last list are the
purchase.

Which coins a purchase holds is found walking back down: of the items bought at one level, the
coins are the lightest symbols (each gains a bit), and each package stands for two items bought
at the level below. So each level need only remember which of its items are coins.

It runs once per block, so it is a kernel too: as plain Python it costs about a millisecond.
"""

from array import array

import cython


@cython.ccall
def code_lengths(counts, max_length: cython.int) -> list:
    """Code lengths (0 for symbols whose count is 0) of an optimal prefix code no longer than
    `max_length` bits. At least two symbols must occur, and at most 2**max_length."""
    present = [symbol for symbol, count in enumerate(counts) if count > 0]
    n: cython.Py_ssize_t = len(present)
    if n < 2:
        raise ValueError("package-merge needs at least two symbols that occur")
    if not 1 <= max_length <= 30 or n > 1 << max_length:
        raise ValueError(f"{n} symbols do not fit in codes of {max_length} bits")
    order = sorted(present, key=counts.__getitem__)  # lightest first, stable
    coins: cython.ulonglong[:] = array("Q", [counts[symbol] for symbol in order])
    # A level holds at most n coins + n packages. Two weight buffers take turns.
    weights: cython.ulonglong[:] = array("Q", bytes(16 * n))
    merged: cython.ulonglong[:] = array("Q", bytes(16 * n))
    is_coin: cython.uchar[:] = bytearray(max_length * 2 * n)  # per level, smallest first
    items: cython.Py_ssize_t = n
    level: cython.int
    i: cython.Py_ssize_t
    j: cython.Py_ssize_t
    k: cython.Py_ssize_t
    package: cython.ulonglong
    for i in range(n):
        weights[i] = coins[i]
        is_coin[i] = 1
    for level in range(1, max_length):
        # Merge the coins with the packages (pairs of the level below), both sorted; coins
        # go first among equal weights.
        i = j = k = 0
        while i < n or j < items // 2:
            package = weights[2 * j] + weights[2 * j + 1] if j < items // 2 else 0
            if j >= items // 2 or (i < n and coins[i] <= package):
                merged[k] = coins[i]
                is_coin[level * 2 * n + k] = 1
                i += 1
            else:
                merged[k] = package
                j += 1
            k += 1
        weights, merged = merged, weights
        items = k
    lengths = [0] * len(counts)
    bought: cython.Py_ssize_t = 2 * n - 2
    coins_bought: cython.Py_ssize_t
    for level in range(max_length - 1, -1, -1):
        coins_bought = 0
        for k in range(bought):
            coins_bought += is_coin[level * 2 * n + k]
        for k in range(coins_bought):
            lengths[order[k]] += 1
        bought = 2 * (bought - coins_bought)
    return lengths
