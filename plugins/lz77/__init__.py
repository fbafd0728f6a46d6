"""`lz77`: LZ77 with a window of up to 16 MiB, hash-chain match finding, lazy matching and
repeat offsets; literals and sequence codes are Huffman coded (see docs/lz77.md).

Payload, version 1: a bit stream, most significant bit first.

    delta(sequences + 1)      Elias delta: the number of sequences
    delta(literals + 1)       the number of literal bytes
    [literals]                a byte section (huffman/static_code.py), if there are any
    [3 code sections]         the codes of literal lengths, match lengths, offset values (128
                              symbols each), if there are sequences
    sequences                 for each: literal length, match length - 4, offset value, each
                              as its code and extra bits (lz77/sequences_kernel.py)
    0-7 bits                  zero padding; nothing follows

The block is the sequences executed in order (literals, then a copy), followed by the literals
left over. Offset values 0-2 repeat one of the last three offsets; v >= 3 is distance v - 2.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Sequence

from archiver import Codec, CodecError, Option, hookimpl
from pyarc_plugins.coding.bitio_kernel import BitReader, BitWriter, symbol_counts
from pyarc_plugins.coding.integer_codes_kernel import read_delta, write_delta
from pyarc_plugins.huffman.static_code import (
    check_end,
    read_bytes,
    read_code,
    write_bytes,
    write_code,
)
from pyarc_plugins.lz77 import parse_kernel, sequences_kernel

#: level -> (hash chain candidates, lazy matching, nice length: stop searching at a match this
#: long). Levels from OPTIMAL_FROM up parse optimally with their chain and nice length.
LEVELS = {
    1: (4, False, 16), 2: (8, False, 32), 3: (8, True, 32), 4: (16, True, 64),
    5: (32, True, 64), 6: (64, True, 128), 7: (128, True, 258), 8: (32, True, 64),
    9: (512, True, 1024),
}
OPTIMAL_FROM = 8
#: The optimal parse keeps about 32 bytes per byte of block: larger blocks are parsed lazily,
#: as at level 7, rather than take more than 256 MiB.
OPTIMAL_MAX_BLOCK = 8 << 20
#: Optimal parses per block: each is priced with the statistics of the one before.
OPTIMAL_PASSES = 2


class Lz77Codec(Codec):
    name = "lz77"
    version = 1
    description = "LZ77: hash chains, lazy matching, repeat offsets, Huffman-coded tokens"
    option_specs = (
        Option("level", 6, "search effort: 1 fastest .. 9 smallest", minimum=1, maximum=9),
        Option("window", 20, "log2 of the window: how far back matches reach",
               minimum=10, maximum=24),
    )
    kernels = ("pyarc_plugins.lz77.parse_kernel", "pyarc_plugins.lz77.sequences_kernel",
               "pyarc_plugins.coding.bitio_kernel")

    def encode(self, data: bytes) -> bytes:
        if not data:
            return b""
        level = int(self.options["level"])
        window = int(self.options["window"])
        if level < OPTIMAL_FROM or len(data) > OPTIMAL_MAX_BLOCK:
            chain, lazy, nice = LEVELS[min(level, OPTIMAL_FROM - 1)]
            parsed = parse_kernel.parse(data, window, chain, nice, lazy)
        else:  # a lazy parse for the first prices, then optimal parses
            chain, _, nice = LEVELS[level]
            parsed = parse_kernel.parse(data, window, *LEVELS[6][::2], True)
            for _ in range(OPTIMAL_PASSES):
                parsed = parse_kernel.optimal_parse(data, window, chain, nice, *prices(*parsed))
        literal_lengths, match_lengths, offset_values, literals = parsed
        writer = BitWriter(len(data) // 2 + 1024)
        write_delta(writer, len(literal_lengths) + 1)
        write_delta(writer, len(literals) + 1)
        if literals:
            write_bytes(writer, literals)
        if literal_lengths:
            ll = write_code(writer, sequences_kernel.bucket_counts(literal_lengths))
            ml = write_code(writer, sequences_kernel.bucket_counts(match_lengths, 4))
            of = write_code(writer, sequences_kernel.bucket_counts(offset_values))
            sequences_kernel.write_sequences(writer, literal_lengths, match_lengths,
                                             offset_values, *ll, *ml, *of)
        return writer.finish()

    def decode(self, payload: bytes, size: int) -> bytes:
        if size == 0:
            if payload:
                raise CodecError(f"lz77: {len(payload)} bytes of payload for an empty block")
            return b""
        reader = BitReader(payload)
        sequences = read_delta(reader) - 1
        literal_count = read_delta(reader) - 1
        if sequences < 0 or literal_count < 0 or literal_count > size or sequences > size:
            raise CodecError("lz77: impossible sequence or literal count")
        literals = read_bytes(reader, literal_count, self.name) if literal_count else b""
        if sequences:
            codes = [read_code(reader, sequences_kernel.CODES, self.name) for _ in range(3)]
            data = sequences_kernel.execute(reader, sequences, literals, size,
                                            *codes[0], *codes[1], *codes[2])
        else:
            data = literals
        check_end(reader, len(payload), self.name)
        if len(data) != size:
            raise CodecError("lz77: the sequences do not rebuild the block")
        return data


def prices(literal_lengths: array, match_lengths: array, offset_values: array,
           literals: bytes) -> list[array]:
    """What each literal and bucket code costs, in 1/16 bits, under the statistics of a parse:
    -log2 of its frequency; symbols not seen cost 2 bits more than the rarest could."""
    return [symbol_prices(counts) for counts in (
        symbol_counts(literals) if literals else [0] * 256,
        sequences_kernel.bucket_counts(literal_lengths),
        sequences_kernel.bucket_counts(match_lengths, 4),
        sequences_kernel.bucket_counts(offset_values))]


def symbol_prices(counts: Sequence[int]) -> array:
    total = sum(counts) + 1
    unseen = 16 * (math.log2(total) + 2)
    return array("i", (round(16 * math.log2(total / count)) if count else round(unseen)
                       for count in counts))


@hookimpl
def register_codecs(register: Callable[[type[Codec]], None]) -> None:
    register(Lz77Codec)
