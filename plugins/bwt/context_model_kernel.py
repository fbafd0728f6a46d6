"""The second stage: the BWT output coded byte by byte under a small context-mixing model.

Each byte is coded as 8 binary decisions, high bit first, each predicted by an order-0 model
with a very short memory (the BWT output is locally skewed), an order-1 model under the previous
byte and the same table read under the byte before it, averaged and refined by an APM. The
payload is specified in spec/codecs/bwt.md (section "Stage cm").

The models are counters (coding/counters_inline) and an APM (coding/apm_inline) in this module's
own arrays: their inline steps and the range coder's (through stage_inline's code_decision)
compile into the coding loop. That loop is written once for both directions (`code`, over a
rangecoder_inline.Coder: compiled once for the encoder and once for the decoder): the model starts
the same in both and sees the same bytes, so the decoder makes the encoder's predictions. This
design follows Ilya Muravyov's BCM; the limits and weights were chosen on the Calgary corpus
(docs/bwt.md).
"""

import cython

from pyarc_plugins.coding.apm_inline import apm_table
from pyarc_plugins.coding.counters_inline import counter_rates, counter_table

if cython.compiled:
    from cython.cimports.pyarc_plugins.bwt.stage_inline import code_decision
    from cython.cimports.pyarc_plugins.coding.apm_inline import apm_learn, apm_refine, apm_slot
    from cython.cimports.pyarc_plugins.coding.counters_inline import counter_learn, counter_p
    from cython.cimports.pyarc_plugins.coding.rangecoder_inline import Coder, decoding_failed
else:
    from pyarc_plugins.bwt.stage_inline import code_decision
    from pyarc_plugins.coding.apm_inline import apm_learn, apm_refine, apm_slot
    from pyarc_plugins.coding.counters_inline import counter_learn, counter_p
    from pyarc_plugins.coding.rangecoder_inline import Coder, decoding_failed

BITS = cython.declare(cython.const[cython.int], 16)  # the counters' precision
ORDER0_LIMIT = cython.declare(cython.const[cython.uint], 2)
ORDER1_LIMIT = cython.declare(cython.const[cython.uint], 6)
RATE_START = 3  # a counter moves 1/(n + 1.5) of the way to each bit after n bits
APM_CONTEXTS = 2 * 256
APM_SHIFT = cython.declare(cython.const[cython.int], 6)


@cython.boundscheck(False)  # every index is in range by construction (node < 256)
@cython.wraparound(False)
@cython.initializedcheck(False)
@cython.final
@cython.cclass
class _Model:
    """The three models, the APM and the byte history; `p0` then `learn` for each bit."""

    order0: cython.uint[::1]  # counter cells, [node]
    order1: cython.uint[::1]  # counter cells, [byte * 256 + node]
    rates: cython.uint[::1]  # the counters' steps, up to the larger limit
    apm: cython.ushort[::1]  # the APM's entries, [context * 33 + ...]
    slot: cython.Py_ssize_t  # where the last p0 refined in the APM
    prev1: cython.Py_ssize_t  # the previous byte, times 256
    prev2: cython.Py_ssize_t  # the byte before it, times 256
    run: cython.Py_ssize_t  # how many bytes in a row have equalled the one before

    def __init__(self):
        self.order0 = counter_table(256, BITS)
        self.order1 = counter_table(256 * 256, BITS)
        self.rates = counter_rates(RATE_START, max(ORDER0_LIMIT, ORDER1_LIMIT))
        self.apm = apm_table(APM_CONTEXTS)
        self.slot = 0  # (each p0 sets it for the learn that follows)
        self.prev1 = self.prev2 = 0  # (spec/codecs/bwt.md 7.1: bytes 0, and no run)
        self.run = 0

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def p0(self, node: cython.Py_ssize_t) -> cython.uint:
        """The probability (units of 2**-16, before the clamp) that the decision at `node` is
        a 0."""
        mixed: cython.uint = ((counter_p(self.order0[node])
                               + counter_p(self.order1[self.prev1 + node])) * 7
                              + 2 * counter_p(self.order1[self.prev2 + node])) >> 4
        self.slot = apm_slot(mixed, (self.run > 2) * 256 + node)
        refined: cython.uint = apm_refine(self.apm, self.slot, mixed)
        return (mixed + 3 * refined) >> 2

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def learn(self, node: cython.Py_ssize_t, bit: cython.uint) -> cython.void:
        """Update the models that p0(node) read with the bit coded."""
        self.order0[node] = counter_learn(self.order0[node], bit, self.rates, ORDER0_LIMIT, BITS)
        self.order1[self.prev1 + node] = counter_learn(self.order1[self.prev1 + node], bit,
                                                       self.rates, ORDER1_LIMIT, BITS)
        apm_learn(self.apm, self.slot, bit, APM_SHIFT)

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def push(self, byte: cython.Py_ssize_t) -> cython.void:
        """Enter a coded byte into the history."""
        if byte * 256 == self.prev1:
            self.run += 1
        else:
            self.run = 0
        self.prev2 = self.prev1
        self.prev1 = byte * 256


@cython.boundscheck(False)  # i < size = len(data)
@cython.wraparound(False)
@cython.ccall
def code(coder: Coder, data: cython.uchar[::1]) -> cython.void:
    """Code the bytes of `data` with `coder`, a RangeEncoder (data is the input; each byte is
    written back as it was) or a RangeDecoder (data is filled in; the caller then finishes it).
    Decoding stops early once the range decoder has failed."""
    size: cython.Py_ssize_t = len(data)
    model: _Model = _Model()
    i: cython.Py_ssize_t
    byte: cython.uint
    bit: cython.uint
    node: cython.Py_ssize_t
    k: cython.int
    with cython.nogil:
        for i in range(size):
            byte = data[i]  # (decoding: not known yet, and not used)
            node = 1
            for k in range(7, -1, -1):
                bit = code_decision(coder, model.p0(node), (byte >> k) & 1)
                model.learn(node, bit)
                node = 2 * node + bit
            data[i] = node - 256
            model.push(node - 256)
            if decoding_failed(coder):
                break
