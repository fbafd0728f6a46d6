"""Bit histories (spec/codecs/coding.md, section "Bit histories"): a byte that sums up the bits a
context has seen, for models that keep one per context and per node of a byte (cm's hash
tables) and learn what each history predicts in a table of counters indexed by it (an
*indirect* model, as in paq8, lpaq1 and zpaq's ICM).

A history is a pair of counts (n0, n1) of the zeros and ones seen, both bounded so that the
pairs fit in a byte: the smaller count b may be at most 5 and the larger at most LIMITS[b]. A
bit adds one to its own count; a count of the other bit above 2 is then discounted (the old
evidence is partly forgotten: a context whose statistics change follows them), and a pair that
falls outside the bounds is brought back by lowering the other count first, then its own.

States are numbered by the pairs' total n0 + n1, then by n1, so that state 0 is the empty
history (0, 0) and a larger number means, roughly, a context seen more often (cm replaces the
hash slot whose first history has the smallest number). The tables are built once, in plain
Python, by history_tables(); compiled kernels cimport the inline history_next from
bithistory_inline.pxd, and kernels running as plain Python use the function below.
"""

from array import array

#: For a smaller count b = 0 .. 5, the largest count the larger may have.
LIMITS = (48, 40, 12, 7, 5, 5)


def _allowed(n0: int, n1: int) -> bool:
    low, high = min(n0, n1), max(n0, n1)
    return low < len(LIMITS) and high <= LIMITS[low]


def _discounted(n: int) -> int:
    """The count of the other bit after a bit: counts above 2 shrink (0..4 stay, 5 and 6 give
    5, 7 gives 6, 8 or more give 7)."""
    return sum(n >= k for k in (1, 2, 3, 4, 5, 7, 8))


def history_pairs() -> list[tuple[int, int]]:
    """Every state's (n0, n1), by state number."""
    pairs = [(n0, n1) for n0 in range(LIMITS[0] + 1) for n1 in range(LIMITS[0] + 1)
             if _allowed(n0, n1)]
    return sorted(pairs, key=lambda pair: (pair[0] + pair[1], pair[1]))


def _next_pair(n0: int, n1: int, bit: int) -> tuple[int, int]:
    own, other = (n1, n0) if bit else (n0, n1)
    own, other = own + 1, _discounted(other)
    while not (_allowed(other, own) if bit else _allowed(own, other)):
        if other > 0:
            other -= 1
        else:
            own -= 1
    return (other, own) if bit else (own, other)


def history_tables() -> tuple[array, array]:
    """(next, p0): next[2 * state + bit] is the state after `bit`; p0[state] the probability of
    a 0 that the counts suggest, (2 n0 + 1) / (2 (n0 + n1) + 2), in units of 2**-22 (where a
    model's counters for the states start)."""
    pairs = history_pairs()
    number = {pair: state for state, pair in enumerate(pairs)}
    nxt = array("B", bytes(2 * len(pairs)))
    p0 = array("I", [0]) * len(pairs)
    for state, (n0, n1) in enumerate(pairs):
        for bit in (0, 1):
            nxt[2 * state + bit] = number[_next_pair(n0, n1, bit)]
        p0[state] = ((2 * n0 + 1) << 22) // (2 * (n0 + n1) + 2)
    return nxt, p0


STATES = len(history_pairs())


def history_next(table, state, bit):
    return table[2 * state + bit]
