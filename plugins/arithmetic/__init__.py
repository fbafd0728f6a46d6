"""`arithmetic`: adaptive arithmetic coding with an order-0, 1 or 2 context model.

Each byte is coded by the range coder with the probability that its context (the `order` bytes
before it) gives it: count / total from adaptive counts (see coding/frequencies_kernel.py). The
counts start at 1 and grow by an `increment` per occurrence: the additive estimator with
a = 1 / increment. A small a trusts what was seen, which suits higher orders, whose contexts each
see few bytes; a = 1/2 would be the Krichevsky-Trofimov estimator. Counts are halved when a
context's total nears 2**16, so the model follows data whose statistics drift.

How fast to learn depends on the data, so the increment is written into the payload and the
encoder picks it (`increment_for`): larger for higher orders, and for order 0 larger in small
blocks, which gain from learning fast; both settings were measured on the Calgary corpus.

The payload is one byte, log2 of the increment (the order is in the block's options), then the
range coder's output. The payload is specified in spec/codecs/arithmetic.md.

docs/arithmetic.md explains the codec for students: the range coder, the model, measurements.
"""

from __future__ import annotations

from collections.abc import Callable

from archiver import Codec, CodecError, Option, hookimpl
from pyarc_plugins.arithmetic import arithmetic_kernel

MAX_INCREMENT_LOG2 = 10
#: Below this size an order-0 model learns faster (increment 32 instead of 16).
SMALL_BLOCK = 32 * 1024


def increment_for(order: int, size: int) -> int:
    """The count increment (1 / additive constant) the encoder uses for this order and size."""
    if order == 0:
        return 32 if size < SMALL_BLOCK else 16
    return 64 if order == 1 else 128


class ArithmeticCodec(Codec):
    name = "arithmetic"
    version = 1
    decode_rank = 60
    description = "adaptive arithmetic (range) coding, order-0/1/2 context model"
    option_specs = (
        Option("order", 2, "bytes of context (0, 1 or 2)", minimum=0, maximum=2),
    )
    kernels = ("pyarc_plugins.arithmetic.arithmetic_kernel",)

    def encode(self, data: bytes) -> bytes:
        if not data:
            return b""
        order = int(self.options["order"])
        increment = increment_for(order, len(data))
        return bytes([increment.bit_length() - 1]) + arithmetic_kernel.encode(
            data, order, increment)

    def decode(self, payload: bytes, size: int) -> bytes:
        if self.empty_block(payload, size):
            return b""
        if not payload or payload[0] > MAX_INCREMENT_LOG2:
            raise CodecError("arithmetic: missing or invalid increment byte")
        order = int(self.options["order"])
        return arithmetic_kernel.decode(memoryview(payload)[1:], size, order, 1 << payload[0])


@hookimpl
def register_codecs(register: Callable[[type[Codec]], None]) -> None:
    register(ArithmeticCodec)
