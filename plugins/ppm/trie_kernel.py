# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The PPM model's context trie: how it is stored, and how it learns each byte.

The trie lives in one int array, the *heap* (no Python objects), cut into units of two ints
(8 bytes); contexts and states are numbered by the unit where they start:
- state s (`heap[2s:2s+2]`, one unit): `sym | freq << 8`, and `child`: the context one byte
  longer (this context followed by sym) when child > 0; when child < 0, the position -child in
  the data that followed this context and byte the last time (a "lazy" child: a context seen
  once costs nothing until it is seen again, PPMd's trick); at the maximum order, the child is
  the context of the same order that follows (the suffix's child);
- context c (`heap[2c:2c+4]`, two units): its `suffix` (the context one byte shorter; the root,
  order 0, has -1), `count | order << 16 | capclass << 24` (how many states, how many bytes of
  context, the capacity 2**capclass of its block of states), then either, with two states or
  more, `stats` (the first of them) and `summ` (their frequencies' sum), or, with one, that
  state itself: state c + 1, inside the record (PPMd's "OneState"). Most contexts of the higher
  orders have one state, and reading it costs no second cache miss;
- the states of a larger context are one block of 2**capclass units; a block that fills is
  moved to one twice the size, and the old one goes on the free list of its size (linked
  through child). A context is a block of two units.
The inline functions of trie_kernel.pxd read these records (for the coding loop too); this
module writes them.

After each byte `learn` updates the statistics (PPMII's rules: the found state's reward, a bonus
in the shorter context, the byte added with an inherited frequency to every context that
escaped) and returns the context of the next byte (`_successor`, which creates the lazy
contexts it needs). When the memory limit is reached the trie restarts empty, at the same byte
in the encoder and the decoder. Every rule, and the memory accounting that triggers a restart,
is specified in spec/codecs/ppm.md (sections 3.1, 5 and 7). The C types, signatures and compiler
directives are declared in trie_kernel.pxd.
"""
from array import array

import cython

if not cython.compiled:  # compiled, the readers are trie_kernel.pxd's inline functions
    from pyarc_plugins.ppm.trie_inline import child, count, freq, order, stats, suffix, summ, sym

MAX_FREQ = cython.declare(cython.const[cython.int], 124)
MAX_BIN_FREQ = cython.declare(cython.const[cython.int], 128)
CLASSES = cython.declare(cython.const[cython.int], 9)  # blocks of 2**k units, k = 1..8 (0 unused)
ROOT = cython.declare(cython.const[cython.int], 0)
#: Bytes of the heap's unit: a state; a context takes two (for the memory limit).
UNIT_BYTES = cython.declare(cython.const[cython.Py_ssize_t], 8)
MAX_STACK = cython.declare(cython.const[cython.int], 260)  # > maximum order + 2


def _extended(a, length):
    """A copy of the int array `a`, zero-filled to `length` items (no other temporary)."""
    grown = array("i", [0]) * length
    memoryview(grown)[: len(a)] = memoryview(a)
    return grown


def _boost(f: cython.int) -> cython.int:
    return (5 * f + 2) // 4


class Trie:
    """The contexts of `data` (up to `max_order` bytes long) in at most `memory` bytes."""

    def __init__(self, data, max_order: cython.int, memory: cython.Py_ssize_t):
        self.data = data
        self.max_order = max_order
        # Two thirds of the budget: while the heap doubles (its old and new copies side by
        # side, 1.5 times its final size) the total stays within `memory`.
        self.max_units = max(memory * 2 // 3 // UNIT_BYTES, 1024)
        self.free_head = array("i", [-1]) * CLASSES
        self.stack_c = array("i", [0]) * MAX_STACK
        self.stack_s = array("i", [0]) * MAX_STACK
        self.restarts = 0
        # Start small and grow by doubling up to the limit: small blocks stay cheap.
        self.heap_array = array("i", [0]) * (2 * min(self.max_units, 16384))
        self._view_heap()
        self.restart()

    # -----------------------------------------------------------------------------------------
    # Memory: blocks of 2**k units, a free list per class

    def _view_heap(self):
        # The typed view the hot code uses, onto the array that owns the memory.
        self.heap = memoryview(self.heap_array)
        self.unit_capacity = len(self.heap_array) // 2

    def _grow_heap(self) -> bool:
        """Double the heap (within the limit); False when at the limit."""
        new: cython.Py_ssize_t = min(2 * self.unit_capacity, self.max_units)
        if new <= self.unit_capacity:
            return False
        self.heap_array = _extended(self.heap_array, 2 * new)
        self._view_heap()
        return True

    def restart(self) -> cython.int:
        """Empty the trie: only the root, with no symbols (order -1 codes the next bytes).
        Return the root."""
        k: cython.int
        self.nunits = 0
        for k in range(CLASSES):
            self.free_head[k] = -1
        return self._new_context(0, -1)  # ROOT: the heap holds at least 2 units

    def _alloc(self, k: cython.int) -> cython.int:
        """A free block of 2**k units, or -1 when the heap is full."""
        block: cython.int = self.free_head[k]
        grew: cython.bint
        if block >= 0:
            self.free_head[k] = child(self.heap, block)
            return block
        while self.nunits + (1 << k) > self.unit_capacity:
            with cython.gil:
                grew = self._grow_heap()
            if not grew:
                return -1
        block = cython.cast(cython.int, self.nunits)
        self.nunits += 1 << k
        return block

    def _free(self, block: cython.int, k: cython.int) -> cython.void:
        self.heap[2 * block + 1] = self.free_head[k]
        self.free_head[k] = block

    def _new_context(self, length: cython.int, shorter: cython.int) -> cython.int:
        """A context of order `length` and suffix `shorter`, without states (its first goes in
        its record), or -1 when memory is full."""
        c: cython.int = self._alloc(1)
        if c >= 0:
            self.heap[2 * c] = shorter
            self.heap[2 * c + 1] = length << 16
            self.heap[2 * c + 2] = 0
            self.heap[2 * c + 3] = 0
        return c

    def _add_state(self, c: cython.int, symbol: cython.int, f: cython.int,
                   next_context: cython.int) -> cython.int:
        """Add a state to context c (moving its states to a larger block when full); its
        index, or -1 when memory is full."""
        n: cython.int = count(self.heap, c)
        k: cython.int
        old: cython.int
        block: cython.int
        i: cython.int
        f1: cython.int
        s: cython.int
        if n == 0:  # the first state lives in the record
            s = c + 1
        elif n == 1:  # a binary context gets a block of two; its hits count 2 each from now
            block = self._alloc(1)
            if block < 0:
                return -1
            f1 = freq(self.heap, c + 1)
            f1 = 2 * f1 if f1 < MAX_FREQ // 4 - 1 else MAX_FREQ - 4
            self.heap[2 * block] = sym(self.heap, c + 1) | f1 << 8
            self.heap[2 * block + 1] = child(self.heap, c + 1)
            self.heap[2 * c + 2] = block  # stats
            self.heap[2 * c + 3] = f1  # summ
            self._set_capclass(c, 1)
            s = block + 1
        else:
            k = self._capclass(c)
            old = stats(self.heap, c)
            if n >= (1 << k):
                block = self._alloc(k + 1)
                if block < 0:
                    return -1
                for i in range(2 * n):
                    self.heap[2 * block + i] = self.heap[2 * old + i]
                self._free(old, k)
                self.heap[2 * c + 2] = block
                self._set_capclass(c, k + 1)
                old = block
            s = old + n
        self.heap[2 * s] = symbol | f << 8
        self.heap[2 * s + 1] = next_context
        self._set_count(c, n + 1)
        if n > 0:
            self.heap[2 * c + 3] += f  # summ
        return s

    # -----------------------------------------------------------------------------------------
    # Writing records (trie_inline reads them)

    def _set_freq(self, s: cython.int, f: cython.int) -> cython.void:
        self.heap[2 * s] = (self.heap[2 * s] & 0xFF) | (f << 8)

    def _add_freq(self, c: cython.int, s: cython.int, f: cython.int) -> cython.void:
        """State s of context c (with two states or more) counts f more."""
        self.heap[2 * s] += f << 8
        self.heap[2 * c + 3] += f  # summ

    def _set_count(self, c: cython.int, n: cython.int) -> cython.void:
        self.heap[2 * c + 1] = (self.heap[2 * c + 1] & ~0xFFFF) | n

    def _capclass(self, c: cython.int) -> cython.int:
        return (self.heap[2 * c + 1] >> 24) & 0xFF

    def _set_capclass(self, c: cython.int, k: cython.int) -> cython.void:
        self.heap[2 * c + 1] = (self.heap[2 * c + 1] & 0xFFFFFF) | (k << 24)

    def _swap_states(self, a: cython.int, b: cython.int) -> cython.void:
        t0: cython.int = self.heap[2 * a]
        t1: cython.int = self.heap[2 * a + 1]
        self.heap[2 * a] = self.heap[2 * b]
        self.heap[2 * a + 1] = self.heap[2 * b + 1]
        self.heap[2 * b] = t0
        self.heap[2 * b + 1] = t1

    # -----------------------------------------------------------------------------------------
    # Learning a byte

    def learn(self, symbol: cython.int, pos: cython.Py_ssize_t, first_ctx: cython.int,
              fc: cython.int, fs: cython.int) -> cython.int:
        """Learn data[pos] == symbol, coded from first_ctx down to the context fc, as its state
        fs (fc = -1: at order -1). Return the context to code pos + 1 in first."""
        c: cython.int
        f: cython.int
        nxt: cython.int
        suffix_state: cython.int = -1  # the byte's state in the suffix of fc, when known
        if fc >= 0:
            fs = self._reward(fc, fs, fc == first_ctx and order(self.heap, fc) == self.max_order)
            if freq(self.heap, fs) < MAX_FREQ // 4 and suffix(self.heap, fc) >= 0:
                suffix_state = self._suffix_bonus(suffix(self.heap, fc), symbol)
        # The byte is new in every context that escaped: add it, inheriting its frequency.
        c = first_ctx
        while c != fc:
            f = self._inherit(c, fc, fs)
            if self._add_state(c, symbol, f, -cython.cast(cython.int, pos + 1)) < 0:
                self.restarts += 1
                return self.restart()
            c = suffix(self.heap, c)
        if fc < 0:
            return ROOT
        nxt = self._successor(fc, fs, suffix_state, pos)
        if nxt < 0:
            self.restarts += 1
            return self.restart()
        return nxt

    def _reward(self, c: cython.int, s: cython.int, drop: cython.bint) -> cython.int:
        """Count one more occurrence of state s in context c; return where s now is."""
        if count(self.heap, c) == 1:
            if freq(self.heap, s) < MAX_BIN_FREQ:
                self._set_freq(s, freq(self.heap, s) + 1)
            return s
        self._add_freq(c, s, 4)
        # Keep states roughly sorted by frequency: frequent ones are found sooner.
        if s > stats(self.heap, c) and freq(self.heap, s) > freq(self.heap, s - 1):
            self._swap_states(s, s - 1)
            s -= 1
        if freq(self.heap, s) > MAX_FREQ:
            s = self._rescale(c, s, drop)
        return s

    def _suffix_bonus(self, c: cython.int, symbol: cython.int) -> cython.int:
        """A byte found in a young state also gains a little in the shorter context c, and
        moves one place toward the front there (PPMd). Return its state in c, or -1."""
        s: cython.int = self._find(c, symbol)
        if s < 0:
            return -1
        if count(self.heap, c) == 1:
            if freq(self.heap, s) < 32:
                self._set_freq(s, freq(self.heap, s) + 1)
            return s
        if s > stats(self.heap, c) and freq(self.heap, s) >= freq(self.heap, s - 1):
            self._swap_states(s, s - 1)
            s -= 1
        if freq(self.heap, s) < MAX_FREQ - 9:
            self._add_freq(c, s, 2)
        return s

    def _rescale(self, c: cython.int, s: cython.int, drop: cython.bint) -> cython.int:
        """Halve every frequency of context c: old statistics fade and totals stay small. With
        `drop`, states that fall to 0 are removed (rare bytes of a context that predicts well);
        the found state s (frequency > MAX_FREQ) stays. Return where s now is."""
        first: cython.int = stats(self.heap, c)
        keep: cython.int = first
        total: cython.int = 0
        i: cython.int
        f: cython.int
        found: cython.int = s
        for i in range(first, first + count(self.heap, c)):
            f = (freq(self.heap, i) + (not drop)) >> 1
            if f > 0:
                if i == s:
                    found = keep
                self.heap[2 * keep] = sym(self.heap, i) | f << 8
                self.heap[2 * keep + 1] = child(self.heap, i)
                keep += 1
                total += f
        self._set_count(c, keep - first)
        self.heap[2 * c + 3] = total  # summ
        if keep - first == 1:  # now a binary context: its state moves into the record, and
            # its frequency counts hits
            self.heap[2 * c + 2] = sym(self.heap, first) | ((freq(self.heap, first) + 3) >> 2) << 8
            self.heap[2 * c + 3] = child(self.heap, first)
            self._free(first, self._capclass(c))
            self._set_capclass(c, 0)
            found = c + 1
        return found

    def _inherit(self, c: cython.int, fc: cython.int, fs: cython.int) -> cython.int:
        """Initial frequency of a byte new in context c, found in the shorter context fc as fs.

        PPMII's rule: the byte gets about the share it has in fc, scaled to c's total (then
        a quarter more, which measured better with this model's escape estimates)."""
        fsum: cython.int
        cf: cython.int
        sf: cython.int
        csum: cython.int
        if fc < 0:
            return 1
        if count(self.heap, fc) == 1:
            return _boost(1 + (freq(self.heap, fs) > 8) + (freq(self.heap, fs) > 32))
        fsum = summ(self.heap, fc) - freq(self.heap, fs)
        csum = (summ(self.heap, c) if count(self.heap, c) > 1
                else 2 * freq(self.heap, stats(self.heap, c)))
        cf = 2 * freq(self.heap, fs) * (csum + 6)
        sf = fsum + csum
        if cf < 6 * sf:
            return _boost(1 + (cf > sf) + (cf >= 4 * sf))
        return _boost(4 + (cf >= 9 * sf) + (cf >= 12 * sf) + (cf >= 15 * sf))

    def _find(self, c: cython.int, symbol: cython.int) -> cython.int:
        first: cython.int = stats(self.heap, c)
        s: cython.int
        for s in range(first, first + count(self.heap, c)):
            if sym(self.heap, s) == symbol:
                return s
        return -1

    def _successor(self, c: cython.int, s: cython.int, suffix_state: cython.int,
                   pos: cython.Py_ssize_t) -> cython.int:
        """The context that follows context c and its state s (c + sym[s]), creating it and the
        missing shorter ones below it if they were lazy. -1 when memory is full. suffix_state
        is the byte's state in c's suffix when the caller knows it, else -1.

        A lazy child -t says: at position t - 1 this context and byte occurred, and data[t]
        followed. The new contexts (c + sym, suffix(c) + sym, ...) each start with that one
        byte, their own lazy child t + 1, and a frequency inherited from the shorter context.
        """
        symbol: cython.int = sym(self.heap, s)
        n: cython.int = 0
        cc: cython.int = c
        ss: cython.int = s
        base: cython.int
        text: cython.Py_ssize_t = -1
        nxt: cython.int
        up: cython.int
        while True:
            if child(self.heap, ss) > 0:
                base = child(self.heap, ss)
                break
            if text < 0:
                text = -child(self.heap, ss)
            if n >= MAX_STACK:
                return -1
            self.stack_c[n] = cc
            self.stack_s[n] = ss
            n += 1
            if cc == ROOT:
                base = ROOT
                break
            cc = suffix(self.heap, cc)
            ss = suffix_state if n == 1 and suffix_state >= 0 else self._find(cc, symbol)
            if ss < 0:  # the shorter context lost it to a restart or never had it
                ss = self._add_state(cc, symbol, 1, -cython.cast(cython.int, text))
                if ss < 0:
                    return -1
        if n == 0:
            return base
        if text <= 0 or text > pos:  # cannot happen: lazy children point behind pos
            text = pos
        up = self.data[text]
        while n > 0:
            n -= 1
            cc = self.stack_c[n]
            ss = self.stack_s[n]
            if order(self.heap, cc) >= self.max_order:
                self.heap[2 * ss + 1] = base  # at the top order: the suffix's child
                continue
            nxt = self._new_context(order(self.heap, cc) + 1, base)
            if nxt < 0:
                return -1
            # A fresh context: its first state goes in its record, _add_state cannot fail.
            self._add_state(nxt, up, self._first_freq(base, up), -cython.cast(cython.int, text + 1))
            self.heap[2 * ss + 1] = nxt
            base = nxt
        return base

    def _first_freq(self, base: cython.int, up: cython.int) -> cython.int:
        """The frequency of `up` in a new context whose suffix is `base`: from how `up` fares
        in base."""
        nb: cython.int
        f: cython.int
        fsum: cython.int
        if base == ROOT and count(self.heap, base) == 0:
            return 1
        nb = self._find(base, up)
        if nb < 0:
            return 1
        if count(self.heap, base) == 1:
            return freq(self.heap, nb)
        fsum = summ(self.heap, base) - count(self.heap, base) - (freq(self.heap, nb) - 1)
        f = freq(self.heap, nb) - 1
        if fsum < 1:
            fsum = 1
        if 2 * f <= fsum:
            return 1 + (5 * f > fsum)
        return min(1 + (2 * f + 3 * fsum - 1) // (2 * fsum), MAX_BIN_FREQ // 4)
