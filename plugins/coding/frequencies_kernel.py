"""Adaptive frequency counts for a range coder: one table of counts per context.

Each table estimates P(symbol | context) as count / total: counts start at 1 and grow by
`increment` when their symbol is coded, the additive (Lidstone) estimate with a = 1 / increment
(a = 1/2 would be the Krichevsky-Trofimov estimator), and they are halved when the total gets
near LIMIT, so that old statistics fade and the total stays within what the range coder takes
(MAX_TOTAL). The counts, their halving and the sharing of tables once `slots` are used up are
specified in spec/codecs/coding.md, section "Frequency models".

The counts of a table live in a Fenwick (binary indexed) tree, so the cumulative count below a
symbol, the update after coding it, and the decoder's search for the symbol holding a target
all take log2(symbols) steps instead of a scan over the alphabet.

encode() and decode() do all of that for one symbol with a RangeEncoder / RangeDecoder.

Tables are created on first use of their context, from a pool of `slots` tables: a block of
n bytes visits at most n + 1 contexts, so an order-2 model of a small block stays small. The pool
is allocated as it fills (doubling, from FIRST_TABLES tables): an order-2 model that may need
65,536 tables of 256 counts (32 MiB) but uses a few thousand costs only those, where zeroing the
whole pool up front took most of the time of coding a 256 KiB block.
"""

import cython

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.rangecoder_kernel import RangeDecoder, RangeEncoder
else:
    from pyarc_plugins.coding.rangecoder_kernel import RangeDecoder, RangeEncoder

#: Totals never exceed this (the range coder takes up to 2**16; a tree node holds 16 bits).
LIMIT = cython.declare(cython.const[cython.uint], 0xFFFF)
#: Tables allocated at first; the pool doubles from there up to `slots`.
FIRST_TABLES = cython.declare(cython.const[cython.Py_ssize_t], 64)


@cython.final
@cython.cclass
class AdaptiveFrequencies:

    def __init__(self, contexts: cython.Py_ssize_t, symbols: cython.uint = 256,
                 increment: cython.uint = 32, slots: cython.Py_ssize_t = -1):
        if symbols < 2 or symbols & (symbols - 1) or symbols > 4096:
            raise ValueError("symbols must be a power of two from 2 to 4096")
        if not 1 <= increment <= 1024:
            raise ValueError("increment must be from 1 to 1024")
        if slots < 0 or slots > contexts:
            slots = contexts
        self.contexts = contexts
        self.slots = slots
        self.symbols = symbols
        self.increment = increment
        self.used = 0
        self.slot_of = memoryview(bytearray(b"\xff") * (4 * contexts)).cast("i")  # all -1
        self.allocated = 0
        self._grow()
        # The tree of a fresh table, every count 1: node i covers lowbit(i) counts.
        self.fresh = memoryview(bytearray(2 * symbols)).cast("H")
        i: cython.uint
        for i in range(1, symbols + 1):
            self.fresh[i - 1] = i & -i

    def _grow(self):
        """Allocate twice the tables (FIRST_TABLES at first), at most `slots`, keeping those in
        use."""
        allocated: cython.Py_ssize_t = min(max(2 * self.allocated, FIRST_TABLES), self.slots)
        tree = memoryview(bytearray(2 * allocated * self.symbols)).cast("H")
        totals = memoryview(bytearray(4 * allocated)).cast("I")
        if self.allocated:
            tree[: self.allocated * self.symbols] = self.tree
            totals[: self.allocated] = self.totals
        self.tree = tree
        self.totals = totals
        self.allocated = allocated

    @cython.boundscheck(False)  # indices derive from a valid table and symbol
    @cython.wraparound(False)
    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def table(self, context: cython.Py_ssize_t) -> cython.Py_ssize_t:
        """The table of `context` (created on first use): pass it to the other methods.

        Once all `slots` tables are in use, further new contexts share table 0: the counts are
        poorer but encoder and decoder stay in step. (Callers that size `slots` to the contexts
        they can visit never get there.)
        """
        slot: cython.Py_ssize_t
        base: cython.Py_ssize_t
        i: cython.Py_ssize_t
        if context < 0 or context >= self.contexts:
            context = 0
        slot = self.slot_of[context]
        if slot < 0:
            if self.used == self.slots:
                return 0
            if self.used == self.allocated:
                with cython.gil:
                    self._grow()
            slot = self.used
            self.used += 1
            self.slot_of[context] = cython.cast(cython.int, slot)
            base = slot * self.symbols
            for i in range(self.symbols):
                self.tree[base + i] = self.fresh[i]
            self.totals[slot] = self.symbols
        return slot

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def encode(self, coder: RangeEncoder, context: cython.Py_ssize_t,
               symbol: cython.uint) -> cython.void:
        """Code `symbol` with the counts of `context`, then count it."""
        table: cython.Py_ssize_t = self.table(context)
        coder.encode(self.cumulative(table, symbol), self.count(table, symbol),
                     self.totals[table])
        self.update(table, symbol)

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def decode(self, coder: RangeDecoder, context: cython.Py_ssize_t) -> cython.uint:
        """Decode a symbol coded by encode() in `context`, then count it."""
        table: cython.Py_ssize_t = self.table(context)
        symbol: cython.uint = self.find(table, coder.decode_target(self.totals[table]))
        coder.decode_consume(self.found_cumulative, self.count(table, symbol))
        self.update(table, symbol)
        return symbol

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def total(self, slot: cython.Py_ssize_t) -> cython.uint:
        return self.totals[slot]

    @cython.boundscheck(False)  # indices derive from a valid table and symbol
    @cython.wraparound(False)
    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def cumulative(self, slot: cython.Py_ssize_t, symbol: cython.uint) -> cython.uint:
        """Sum of the counts of the symbols below `symbol` (symbol <= symbols)."""
        base: cython.Py_ssize_t = slot * self.symbols - 1  # node i (1-based) at tree[base + i]
        node: cython.uint = min(symbol, self.symbols)
        cum: cython.uint = 0
        while node:
            cum += self.tree[base + node]
            node &= node - 1
        return cum

    @cython.boundscheck(False)  # indices derive from a valid table and symbol
    @cython.wraparound(False)
    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def count(self, slot: cython.Py_ssize_t, symbol: cython.uint) -> cython.uint:
        """The count of `symbol`: its node minus the nodes that node also covers."""
        base: cython.Py_ssize_t = slot * self.symbols - 1
        node: cython.uint = (symbol & (self.symbols - 1)) + 1
        value: cython.uint = self.tree[base + node]
        stop: cython.uint = node & (node - 1)  # node minus its lowest bit
        child: cython.uint = node - 1
        while child != stop:
            value -= self.tree[base + child]
            child &= child - 1
        return value

    @cython.boundscheck(False)  # indices derive from a valid table and symbol
    @cython.wraparound(False)
    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def find(self, slot: cython.Py_ssize_t, target: cython.uint) -> cython.uint:
        """The symbol s with cumulative(s) <= target < cumulative(s) + count(s) (target < total).

        Also leaves cumulative(s) in `found_cumulative`.
        """
        base: cython.Py_ssize_t = slot * self.symbols - 1
        node: cython.uint = 0
        step: cython.uint = self.symbols
        cum: cython.uint = 0
        while step:
            if node + step <= self.symbols and cum + self.tree[base + node + step] <= target:
                node += step
                cum += self.tree[base + node]
            step >>= 1
        self.found_cumulative = cum
        return node

    @cython.boundscheck(False)  # indices derive from a valid table and symbol
    @cython.wraparound(False)
    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def update(self, slot: cython.Py_ssize_t, symbol: cython.uint) -> cython.void:
        """Count one more `symbol` in this table, halving the counts when the total gets big."""
        base: cython.Py_ssize_t = slot * self.symbols - 1
        node: cython.uint = (symbol & (self.symbols - 1)) + 1
        while node <= self.symbols:
            self.tree[base + node] += self.increment
            node += node & -node
        self.totals[slot] += self.increment
        if self.totals[slot] > LIMIT - self.increment:
            self._halve(slot)

    @cython.boundscheck(False)  # indices derive from a valid table and symbol
    @cython.wraparound(False)
    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _halve(self, slot: cython.Py_ssize_t) -> cython.void:
        base: cython.Py_ssize_t = slot * self.symbols - 1
        node: cython.uint
        parent: cython.uint
        total: cython.uint = 0
        # Undo the tree (parents minus children, top down) to get plain counts ...
        for node in range(self.symbols, 0, -1):
            parent = node + (node & -node)
            if parent <= self.symbols:
                self.tree[base + parent] -= self.tree[base + node]
        # ... halve them, rounding up so that none becomes 0 ...
        for node in range(1, self.symbols + 1):
            self.tree[base + node] = (self.tree[base + node] + 1) >> 1
            total += self.tree[base + node]
        # ... and build the tree again (children into parents, bottom up).
        for node in range(1, self.symbols + 1):
            parent = node + (node & -node)
            if parent <= self.symbols:
                self.tree[base + parent] += self.tree[base + node]
        self.totals[slot] = total
