"""`lzw`: Lempel-Ziv-Welch, a dictionary of strings that grows as the data is read.

The dictionary starts with the 256 one-byte strings. The encoder repeatedly takes the longest
string at the front of the input that is in the dictionary, writes its code, and adds that
string extended by the next byte as a new entry. The decoder rebuilds the same dictionary from
the codes alone, one step behind the encoder. Codes get wider as the dictionary grows, up to
`max_bits` bits (a dictionary of 2**max_bits codes); see docs/lzw.md for a worked example.

Codes: 0..255 are the literal bytes, 256 is CLEAR, and 257, 258, ... are the dictionary
entries in the order they are defined. There is no end code: the block size is known.

The code range. Every code is one of n values, 0..n-1, where n is the number of codes the
encoder could have written at that point. The j-th code after the start of the block or after
a CLEAR (j = 1, 2, ...) has n = min(256 + j, 2**max_bits): 257 for the first, 258 for the
second, and so on until n = 2**max_bits, where it stays. A CLEAR (only allowed then) is read
with n = 2**max_bits; the code after it is again the first (n = 257).

The width. A code is written in truncated binary for its range: with k = floor(log2 n) and
u = 2**(k+1) - n, a value v < u is written in k bits and any other value as v + u in k + 1
bits (a decoder peeks k + 1 bits b: v = b >> 1 if that is below u, else b - u). So the widest
codes have W = bit_length(n - 1) bits, which is the width of a plain LZW code (as in unix
`compress`), and the first u values of each range save one bit:

    n                  codes of k bits         codes of k + 1 bits
    257 (the first)    0..254 in 8 bits        255..256 in 9 bits
    258                0..253 in 8 bits        254..257 in 9 bits
    511                0 in 8 bits             1..510 in 9 bits
    512                0..511 in 9 bits        none
    513                0..510 in 9 bits        511..512 in 10 bits
    2**b + 1           0..2**b - 2 in b bits   the last two in b + 1 bits
    2**max_bits        every code in max_bits bits (the dictionary is full)

The width W grows by one bit exactly when n passes a power of two: from 9 bits (n = 257)
to 10 at n = 513, to b + 1 at n = 2**b + 1, and never beyond max_bits.

The dictionary, as the decoder rebuilds it:
- the first code of the block and the first code after a CLEAR is a literal (0..255): its
  range, 257, holds only the literals and CLEAR, which is not allowed there;
- every later code c defines the next entry e (257, 258, ... in turn) while e < 2**max_bits:
  the string of the previous code followed by the first byte of the string of c. c may be e
  itself (the encoder used the entry right after defining it, as in "aaa..."): then that first
  byte is the first byte of the previous string;
- CLEAR may only appear when the dictionary is full (n = 2**max_bits); it forgets every entry.

Payload, version 1: one bit stream, most significant bit first (coding/bitio_kernel.py).

    the codes    one per string, each in truncated binary for its code range as above
    0-7 bits     zero padding to a byte boundary; nothing follows

For example b"aaaa" is coded as 97 ("a", n = 257: 8 bits 01100001), 257 ("aa", n = 258: written
as 257 + 254 = 511 in 9 bits), 97 ("a", n = 259: 8 bits) and 7 bits of padding:
61 ff b0 80. An empty block has an empty payload.

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
after the last code end in a CodecError. A code above the next free entry cannot even be
written: the truncated binary code for a range of n values has exactly n code words.
"""

from __future__ import annotations

from collections.abc import Callable

from archiver import Codec, CodecError, Option, hookimpl
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
        if size == 0:
            if payload:
                raise CodecError(f"lzw: {len(payload)} bytes of payload for an empty block")
            return b""
        return lzw_kernel.decode(payload, size, int(self.options["max_bits"]))


@hookimpl
def register_codecs(register: Callable[[type[Codec]], None]) -> None:
    register(LzwCodec)
