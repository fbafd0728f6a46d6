"""The LZ77 parse: cutting a block into sequences (literals, then a match) with hash chains,
greedily or lazily (parse) or at the least price (optimal_parse).

A sequence is (literal_length, match_length, offset_value): copy literal_length bytes from the
literal stream, then match_length bytes from `offset` bytes back in the output (overlapping
copies repeat a pattern). offset_value 0, 1, 2 means "the most recent offset", "the one before",
"the one before that" (repeat offsets, as in LZMA and zstd: data with structure, such as tables
and object code, reuses its offsets); offset_value = distance + 2 otherwise. The bytes after the
last match are literals that no sequence claims. (How the payload codes them is specified in
spec/codecs/lz77.md; the parse itself is not part of it.)

Match finding: a hash of the next `hash_bytes` bytes (4 or 5) indexes `head`, the most recent
position with that hash, and `prev` chains each position to the previous one with the same
hash, within the window. Up to `max_chain` candidates are compared, nearest first. Hashing 5
bytes keeps most 4-byte matches out of the chains: on text they are so many that a chain of 64
would not reach past them, and they are rarely worth coding anyway (see FAR_4).

Lazy matching (zlib's): before taking a match, look one byte ahead; if a longer match starts
there, emit a literal instead. When the match in hand is already `good` bytes long, the look
ahead searches only a quarter of the chain.
"""

from array import array

import cython

if cython.compiled:
    from cython.cimports.pyarc_plugins.lz77.sequences_kernel import (
        bucket,
        extra_bits,
        update_repeats,
    )
else:
    from pyarc_plugins.lz77.sequences_kernel import bucket, extra_bits, update_repeats

from pyarc_plugins.lz77.sequences_kernel import initial_repeats

MIN_MATCH = cython.declare(cython.const[cython.int], 4)
#: The hash table has about one slot per byte of the block, at most 2**MAX_HASH_LOG.
MAX_HASH_LOG = cython.declare(cython.const[cython.int], 17)
#: Short matches from far back cost more bits than their literals: a match of 4 bytes must
#: come from within FAR_4 bytes, one of 5 from within FAR_5.
FAR_4 = cython.declare(cython.const[cython.Py_ssize_t], 1 << 12)
FAR_5 = cython.declare(cython.const[cython.Py_ssize_t], 1 << 16)
REPEATS = cython.declare(cython.const[cython.int], 3)
# 2**64 / golden ratio
HASH_PRIME = cython.declare(cython.const[cython.ulonglong], 0x9E3779B97F4A7C15)
# (the wrap C does anyway)
MASK64 = cython.declare(cython.const[cython.ulonglong], 0xFFFFFFFFFFFFFFFF)
LOW32 = cython.declare(cython.const[cython.longlong], 0xFFFFFFFF)


@cython.boundscheck(False)  # pos + hash_bytes <= size: callers hash only where that many remain
@cython.wraparound(False)
@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _hash(data: cython.const[cython.uchar][:], pos: cython.Py_ssize_t, hash_bytes: cython.int,
          hash_log: cython.int) -> cython.uint:
    """A multiplicative hash of the hash_bytes (4 or 5) bytes at pos: their little-endian word,
    shifted to the top of 64 bits, times a large odd constant; the top hash_log bits."""
    word: cython.ulonglong = (data[pos] | (cython.cast(cython.ulonglong, data[pos + 1]) << 8)
                              | (cython.cast(cython.ulonglong, data[pos + 2]) << 16)
                              | (cython.cast(cython.ulonglong, data[pos + 3]) << 24))
    if hash_bytes == 5:
        word |= cython.cast(cython.ulonglong, data[pos + 4]) << 32
    word <<= 64 - 8 * hash_bytes
    return cython.cast(cython.uint, ((word * HASH_PRIME) & MASK64) >> (64 - hash_log))


@cython.boundscheck(False)  # b + limit <= size and a < b
@cython.wraparound(False)
@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _match_length(data: cython.const[cython.uchar][:], a: cython.Py_ssize_t,
                  b: cython.Py_ssize_t, limit: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """How many bytes from a equal those from b (a < b), at most limit."""
    length: cython.Py_ssize_t = 0
    while length < limit and data[a + length] == data[b + length]:
        length += 1
    return length


@cython.final
@cython.cclass
class Parser:
    """Hash chains over one block, and the sequences found so far."""

    data: cython.const[cython.uchar][:]
    size: cython.Py_ssize_t
    window: cython.Py_ssize_t
    mask: cython.Py_ssize_t
    hash_bytes: cython.int  # positions are chained by a hash of this many bytes
    hash_log: cython.int
    head: cython.int[:]
    prev: cython.int[:]
    inserted: cython.Py_ssize_t
    nice: cython.Py_ssize_t
    reps: cython.int[:]  # the three repeat offsets in force

    def __init__(self, data, window_log: cython.int, nice: cython.Py_ssize_t,
                 hash_bytes: cython.int):
        self.data = data
        self.hash_bytes = hash_bytes
        self.size = len(data)
        self.window = cython.cast(cython.Py_ssize_t, 1) << window_log
        self.hash_log = 10
        while self.hash_log < MAX_HASH_LOG and (1 << self.hash_log) < self.size:
            self.hash_log += 1
        self.head = array("i", [-1]) * (1 << self.hash_log)
        # prev has a slot per position of the window, or of the block if that is smaller.
        slots: cython.Py_ssize_t = 1
        while slots < min(self.window, self.size):
            slots <<= 1
        self.mask = slots - 1
        self.prev = array("i", [-1]) * slots
        self.inserted = 0
        self.nice = nice
        self.reps = initial_repeats()

    @cython.boundscheck(False)  # positions below size; slots masked to the chain table
    @cython.wraparound(False)
    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def insert_up_to(self, end: cython.Py_ssize_t) -> cython.void:
        """Enter every position before `end` into the hash chains."""
        h: cython.uint
        while self.inserted < end and self.inserted + self.hash_bytes <= self.size:
            h = _hash(self.data, self.inserted, self.hash_bytes, self.hash_log)
            self.prev[self.inserted & self.mask] = self.head[h]
            self.head[h] = cython.cast(cython.int, self.inserted)
            self.inserted += 1

    @cython.boundscheck(False)  # candidates lie before pos; lengths stay within limit
    @cython.wraparound(False)
    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def best_match(self, pos: cython.Py_ssize_t, max_chain: cython.int) -> cython.longlong:
        """The best match at pos among up to max_chain chain candidates, as
        length << 32 | offset_value (length 0: none)."""
        limit: cython.Py_ssize_t = self.size - pos
        best_length: cython.Py_ssize_t = 0
        best_value: cython.Py_ssize_t = 0
        length: cython.Py_ssize_t
        distance: cython.Py_ssize_t
        candidate: cython.Py_ssize_t
        steps: cython.int = 0
        r: cython.int
        if limit < MIN_MATCH:
            return 0
        for r in range(REPEATS):  # repeat offsets first: they are the cheapest to code
            distance = self.reps[r]
            if (distance <= pos and best_length < limit  # (a cheap test first)
                    and self.data[pos - distance + best_length] == self.data[pos + best_length]):
                length = _match_length(self.data, pos - distance, pos, limit)
                if length > best_length:
                    best_length = length
                    best_value = r
        if best_length >= self.nice or (limit < self.hash_bytes and best_length >= MIN_MATCH):
            return (cython.cast(cython.longlong, best_length) << 32) | best_value
        if limit < self.hash_bytes:
            return 0
        self.insert_up_to(pos)
        candidate = self.head[_hash(self.data, pos, self.hash_bytes, self.hash_log)]
        # A new offset must beat a repeat by more than a byte to pay for coding its distance.
        rep_length: cython.Py_ssize_t = best_length + 1 if best_length >= MIN_MATCH else 0
        new_length: cython.Py_ssize_t = max(rep_length, MIN_MATCH - 1)
        new_value: cython.Py_ssize_t = 0
        while candidate >= 0 and steps < max_chain:
            distance = pos - candidate
            if distance >= self.window:  # (older positions' slots may have been reused)
                break
            steps += 1
            if (new_length < limit
                    and self.data[candidate + new_length] == self.data[pos + new_length]):
                length = _match_length(self.data, candidate, pos, limit)
                if length > new_length and (length > 5 or distance <= (FAR_4 if length == 4
                                                                       else FAR_5)):
                    new_length = length
                    new_value = distance + 2
                    if length >= self.nice:
                        break
            candidate = self.prev[candidate & self.mask]
        if new_value and new_length > rep_length:
            return (cython.cast(cython.longlong, new_length) << 32) | new_value
        if best_length >= MIN_MATCH:
            return (cython.cast(cython.longlong, best_length) << 32) | best_value
        return 0


@cython.boundscheck(False)  # at most one sequence per MIN_MATCH bytes, literals within size
@cython.wraparound(False)
@cython.ccall
def parse(data: cython.const[cython.uchar][:], window_log: cython.int, max_chain: cython.int,
          nice: cython.Py_ssize_t, hash_bytes: cython.int, lazy: cython.bint,
          good: cython.Py_ssize_t) -> tuple:
    """Cut `data` into sequences: (literal_lengths, match_lengths, offset_values, literals),
    three arrays with one entry per sequence, and the literal bytes (the trailing ones too)."""
    size: cython.Py_ssize_t = len(data)
    parser: Parser = Parser(data, window_log, nice, hash_bytes)
    most: cython.Py_ssize_t = size // MIN_MATCH + 1
    literal_lengths = array("I", bytes(4 * most))
    match_lengths = array("I", bytes(4 * most))
    offset_values = array("I", bytes(4 * most))
    literals = bytearray(size)
    ll: cython.uint[:] = literal_lengths
    ml: cython.uint[:] = match_lengths
    ov: cython.uint[:] = offset_values
    lit: cython.uchar[:] = literals
    sequences: cython.Py_ssize_t = 0
    literal_count: cython.Py_ssize_t = 0
    pos: cython.Py_ssize_t = 0
    anchor: cython.Py_ssize_t = 0  # the first byte not yet in a sequence
    found: cython.longlong
    ahead: cython.longlong
    length: cython.Py_ssize_t
    with cython.nogil:
        while pos + MIN_MATCH <= size:
            found = parser.best_match(pos, max_chain)
            if found == 0:
                pos += 1
                continue
            while lazy and (found >> 32) < nice and pos + 1 + MIN_MATCH <= size:
                ahead = parser.best_match(pos + 1, max_chain >> 2 if (found >> 32) >= good
                                         else max_chain)
                if (ahead >> 32) <= (found >> 32):
                    break
                pos += 1  # the byte at pos becomes a literal
                found = ahead
            ll[sequences] = cython.cast(cython.uint, pos - anchor)
            while anchor < pos:
                lit[literal_count] = data[anchor]
                literal_count += 1
                anchor += 1
            length = cython.cast(cython.Py_ssize_t, found >> 32)
            ml[sequences] = cython.cast(cython.uint, length)
            ov[sequences] = cython.cast(cython.uint, found & LOW32)
            update_repeats(parser.reps, 0, 0, cython.cast(cython.Py_ssize_t, found & LOW32))
            sequences += 1
            pos += length
            anchor = pos
        while anchor < size:
            lit[literal_count] = data[anchor]
            literal_count += 1
            anchor += 1
    return (literal_lengths[:sequences], match_lengths[:sequences], offset_values[:sequences],
            bytes(literals[:literal_count]))


# ---------------------------------------------------------------------------------------------
# The optimal parse: instead of deciding greedily, find the cheapest way to write the whole
# block, given a price in bits for every literal and every bucket code (from a first parse).


INFINITE = cython.declare(cython.const[cython.longlong], 1 << 62)
#: Matches recorded per position, each longer than the one before.
CANDIDATES = cython.declare(cython.const[cython.int], 48)
PRICE_ONE = cython.declare(cython.const[cython.longlong], 16)  # prices are in 1/16 bits
PRICED_LENGTHS = cython.declare(cython.const[cython.Py_ssize_t], 4096)


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _bucket_price(value: cython.Py_ssize_t, prices: cython.int[:]) -> cython.longlong:
    """The price of a value: its bucket code's, plus its extra bits."""
    code: cython.uint = bucket(cython.cast(cython.uint, value))
    return prices[code] + extra_bits(code) * PRICE_ONE


@cython.boundscheck(False)  # candidates lie before pos and lengths within the block
@cython.wraparound(False)
@cython.cfunc
@cython.nogil
@cython.exceptval(check=False)
def _collect(parser: Parser, pos: cython.Py_ssize_t, max_chain: cython.int,
             reps: cython.int[:], first_rep: cython.Py_ssize_t, lengths: cython.longlong[:],
             values: cython.longlong[:]) -> cython.int:
    """Record at pos the repeat-offset and chain matches, each longer than the last; return
    how many. reps[first_rep:first_rep + 3] are the repeat offsets in force at pos."""
    data: cython.const[cython.uchar][:] = parser.data
    limit: cython.Py_ssize_t = parser.size - pos
    longest: cython.Py_ssize_t = MIN_MATCH - 1
    count: cython.int = 0
    r: cython.int
    distance: cython.Py_ssize_t
    length: cython.Py_ssize_t
    candidate: cython.Py_ssize_t
    steps: cython.int = 0
    if limit < MIN_MATCH:
        return 0
    for r in range(REPEATS):
        distance = reps[first_rep + r]
        if (distance <= pos and longest < limit
                and data[pos - distance + longest] == data[pos + longest]):
            length = _match_length(data, pos - distance, pos, limit)
            if length > longest:
                longest = length
                lengths[count] = length
                values[count] = r
                count += 1
    if limit < parser.hash_bytes:
        return count
    parser.insert_up_to(pos)
    candidate = parser.head[_hash(data, pos, parser.hash_bytes, parser.hash_log)]
    while candidate >= 0 and steps < max_chain and longest < limit and count < CANDIDATES:
        distance = pos - candidate
        if distance >= parser.window:
            break
        steps += 1
        if data[candidate + longest] == data[pos + longest]:
            length = _match_length(data, candidate, pos, limit)
            if length > longest and (length > 5 or distance <= (FAR_4 if length == 4
                                                                else FAR_5)):
                longest = length
                lengths[count] = length
                values[count] = distance + 2
                count += 1
                if length >= parser.nice:
                    break
        candidate = parser.prev[candidate & parser.mask]
    return count


@cython.boundscheck(False)  # positions stay within the block (i + length <= size)
@cython.wraparound(False)
@cython.ccall
def optimal_parse(source, window_log: cython.int, max_chain: cython.int,
                  nice: cython.Py_ssize_t, hash_bytes: cython.int, literal_prices: cython.int[:],
                  ll_prices: cython.int[:], ml_prices: cython.int[:],
                  of_prices: cython.int[:]) -> tuple:
    """Like parse, but the cheapest parse under these prices (1/16 bits; literal_prices per
    byte, the others per bucket code), found by dynamic programming over positions.

    cost[i] is the cheapest way found to write the first i bytes. From each position in turn
    it relaxes i + 1 (a literal) and i + L for every match length L available at i; a match
    also pays the literal-length code of the literals before it. Each position remembers the
    repeat offsets of its best path, so repeat matches are priced as what they will be.
    A match of `nice` bytes or more is taken at once (the positions it covers are skipped).
    """
    data: cython.const[cython.uchar][:] = source
    size: cython.Py_ssize_t = len(source)
    parser: Parser = Parser(source, window_log, nice, hash_bytes)
    cost_buffer = array("q", [INFINITE]) * (size + 1)
    cost: cython.longlong[:] = cost_buffer
    run: cython.int[:] = array("i", bytes(4 * (size + 1)))  # literals since the last match
    length_in: cython.int[:] = array("i", bytes(4 * (size + 1)))  # 0: reached by a literal
    value_in: cython.int[:] = array("i", bytes(4 * (size + 1)))
    reps: cython.int[:] = initial_repeats(size + 1)  # 3 per position
    lengths: cython.longlong[:] = array("q", bytes(8 * CANDIDATES))
    values: cython.longlong[:] = array("q", bytes(8 * CANDIDATES))
    i: cython.Py_ssize_t = 0
    j: cython.int
    count: cython.int
    length: cython.Py_ssize_t
    shortest: cython.Py_ssize_t
    value: cython.longlong
    base: cython.longlong
    price: cython.longlong
    offset_price: cython.longlong
    target: cython.Py_ssize_t
    # The price of each match length, looked up instead of recomputed in the inner loop.
    length_prices: cython.longlong[:] = array("q", bytes(8 * PRICED_LENGTHS))
    for length in range(PRICED_LENGTHS):
        length_prices[length] = _bucket_price(length, ml_prices)
    cost[0] = 0
    with cython.nogil:
        while i < size:
            price = cost[i] + literal_prices[data[i]]
            if price < cost[i + 1]:
                cost[i + 1] = price
                length_in[i + 1] = 0
                run[i + 1] = run[i] + 1
                reps[3 * i + 3] = reps[3 * i]
                reps[3 * i + 4] = reps[3 * i + 1]
                reps[3 * i + 5] = reps[3 * i + 2]
            count = _collect(parser, i, max_chain, reps, 3 * i, lengths, values)
            base = cost[i] + _bucket_price(run[i], ll_prices)
            shortest = MIN_MATCH
            for j in range(count):
                value = values[j]
                offset_price = base + _bucket_price(value, of_prices)
                for length in range(shortest, lengths[j] + 1):
                    if length - MIN_MATCH < PRICED_LENGTHS:
                        price = offset_price + length_prices[length - MIN_MATCH]
                    else:
                        price = offset_price + _bucket_price(length - MIN_MATCH, ml_prices)
                    target = i + length
                    if price < cost[target]:
                        cost[target] = price
                        length_in[target] = cython.cast(cython.int, length)
                        value_in[target] = cython.cast(cython.int, value)
                        run[target] = 0
                        update_repeats(reps, 3 * i, 3 * target, value)
                shortest = lengths[j] + 1
            if count and lengths[count - 1] >= nice:
                i += lengths[count - 1]  # take it: positions inside a long match wait
            else:
                i += 1
    return _backtrack(source, length_in, value_in, size)


@cython.ccall
def _backtrack(data, length_in: cython.int[:], value_in: cython.int[:],
               size: cython.Py_ssize_t) -> tuple:
    """The sequences of the cheapest path, read backwards from the end of the block."""
    matches = []
    pos: cython.Py_ssize_t = size
    while pos > 0:
        if length_in[pos]:
            matches.append((pos - length_in[pos], length_in[pos], value_in[pos]))
            pos -= length_in[pos]
        else:
            pos -= 1
    matches.reverse()
    literal_lengths = array("I")
    match_lengths = array("I")
    offset_values = array("I")
    literals = bytearray()
    anchor: cython.Py_ssize_t = 0
    for start, length, value in matches:
        literal_lengths.append(start - anchor)
        literals += data[anchor:start]
        match_lengths.append(length)
        offset_values.append(value)
        anchor = start + length
    literals += data[anchor:size]
    return literal_lengths, match_lengths, offset_values, bytes(literals)
