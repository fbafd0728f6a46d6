"""`lzw`: Lempel-Ziv-Welch, a dictionary of strings that grows as the data is read.

The dictionary starts with the 256 one-byte strings. The encoder repeatedly takes the longest
string at the front of the input that is in the dictionary, writes its code, and adds that
string extended by the next byte as a new entry. The decoder rebuilds the same dictionary from
the codes alone, one step behind the encoder. Code 256 is CLEAR, which empties a full
dictionary; there is no end code, the block size is known. Each code is written in truncated
binary for the number of codes the encoder could have written at that point, so codes get wider
as the dictionary grows, up to `max_bits` bits (a dictionary of 2**max_bits codes); see
docs/lzw.md for a worked example.

The payload is specified in spec/codecs/lzw.md.

When to clear (the encoder's choice, not part of the format). Once the dictionary is full the
encoder keeps using it, and measures the compression ratio (input bytes per output bit) over
windows of CHECK_GAP = 5000 input bytes (a window ends at the first code boundary at or after
5000 bytes). It remembers the best window since the dictionary filled; when a window's ratio
falls below 9/10 of the best one (TOLERANCE), the data has changed: it writes CLEAR and starts
over with an empty dictionary. Unix `compress` checks every 10,000 bytes whether its ratio
since the start of the file has fallen at all; comparing recent windows notices a change
sooner, and the tolerance keeps noise from clearing a good dictionary (measured on the
Calgary corpus, in docs/lzw.md).

The decoder checks its input completely: a payload that ends early, a CLEAR before the
dictionary is full, a string that would overflow the block, and any bytes or nonzero bits
after the last code end in a CodecError.
"""

from __future__ import annotations

from collections.abc import Callable

from archiver import Codec, Option, hookimpl
from pyarc_plugins.lzw import lzw_kernel

DEFAULT_MAX_BITS = 16


class LzwCodec(Codec):
    name = "lzw"
    version = 1
    decode_rank = 30
    description = "LZW, codes of 9 to max_bits bits; cleared when the compression ratio falls"
    option_specs = (
        Option("max_bits", DEFAULT_MAX_BITS,
               "longest code in bits: a dictionary of 2**max_bits strings", minimum=9,
               maximum=20),
    )
    kernels = ("pyarc_plugins.lzw.lzw_kernel", "pyarc_plugins.coding.bitio_kernel")

    def encode(self, data: bytes) -> bytes:
        if not data:
            return b""
        return lzw_kernel.encode(data, int(self.options["max_bits"]))

    def decode(self, payload: bytes, size: int) -> bytes:
        if self.empty_block(payload, size):
            return b""
        return lzw_kernel.decode(payload, size, int(self.options["max_bits"]))


@hookimpl
def register_codecs(register: Callable[[type[Codec]], None]) -> None:
    register(LzwCodec)
