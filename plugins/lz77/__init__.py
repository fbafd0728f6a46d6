"""`lz77`: LZ77 with a window of up to 16 MiB, hash-chain match finding, lazy matching or an
optimal parse, and repeat offsets; the tokens are Huffman coded or, at levels 8 and 9, range
coded with adaptive models (see docs/lz77.md).

Payload, version 2: one byte naming the token coder (HUFFMAN_TOKENS or ADAPTIVE_TOKENS), then
either the sequences as one Huffman-coded bit stream (sequences_kernel.py) or the tokens as one
range-coder stream (adaptive_tokens_kernel.py). The payload is specified in
spec/codecs/lz77.md.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Sequence
from typing import NamedTuple

from archiver import Codec, CodecError, Option, hookimpl
from pyarc_plugins.coding.bitio_kernel import BitReader, BitWriter
from pyarc_plugins.coding.integer_codes_kernel import read_delta, write_delta
from pyarc_plugins.coding.prefix_code_kernel import symbol_counts
from pyarc_plugins.coding.prefix_code_sections import (
    check_end,
    read_bytes,
    read_code,
    write_bytes,
    write_code,
)
from pyarc_plugins.coding.rangecoder_kernel import RangeDecoder
from pyarc_plugins.lz77 import adaptive_tokens_kernel, parse_kernel, sequences_kernel


class Search(NamedTuple):
    """How a level parses: see parse_kernel.py and docs/lz77.md."""

    parse: str  # "greedy", "lazy" or "optimal"
    chain: int  # hash-chain candidates compared at a position
    nice: int  # a match this long is taken without searching further
    good: int  # lazy: once the match in hand is this long, look ahead with a quarter chain
    hash_bytes: int  # chains link positions whose next 4 or 5 bytes hash alike


LEVELS = {
    1: Search("greedy", 4, 16, 0, 5), 2: Search("greedy", 8, 32, 0, 5),
    3: Search("lazy", 8, 32, 8, 5), 4: Search("lazy", 16, 64, 8, 5),
    5: Search("lazy", 32, 64, 8, 5), 6: Search("lazy", 48, 128, 8, 5),
    7: Search("lazy", 128, 258, 32, 5),
    8: Search("optimal", 32, 64, 0, 4), 9: Search("optimal", 512, 1024, 0, 4),
}
#: The optimal parse is priced first by the statistics of a parse at this level.
FIRST_PRICES_LEVEL = 6
#: The optimal parse keeps about 32 bytes per byte of block: larger blocks are parsed lazily,
#: as at level 7, rather than take more than 256 MiB.
LARGE_BLOCK_LEVEL = 7
OPTIMAL_MAX_BLOCK = 8 << 20
#: Optimal parses per block: each is priced with the statistics of the one before.
OPTIMAL_PASSES = 2
#: The first payload byte: how the tokens are coded.
HUFFMAN_TOKENS = 0
ADAPTIVE_TOKENS = 1
#: coder=auto: Huffman (fast to decode) below this level, adaptive range coding from it.
ADAPTIVE_FROM = 8


class Lz77Codec(Codec):
    name = "lz77"
    version = 2
    decode_rank = 20
    description = ("LZ77: hash chains, lazy or optimal parse, repeat offsets; Huffman or "
                   "range-coded tokens")
    option_specs = (
        Option("level", 6, "search effort: 1 fastest .. 9 smallest", minimum=1, maximum=9),
        Option("window", 20, "log2 of the window: how far back matches reach",
               minimum=10, maximum=24),
        Option("coder", "auto", "token coding: huffman (fast decoding), range (adaptive, "
               "smaller), auto (range from level 8)", choices=("auto", "huffman", "range")),
    )
    kernels = ("pyarc_plugins.lz77.parse_kernel", "pyarc_plugins.lz77.sequences_kernel",
               "pyarc_plugins.lz77.adaptive_tokens_kernel",
               "pyarc_plugins.coding.bitio_kernel", "pyarc_plugins.coding.rangecoder_kernel",
               "pyarc_plugins.coding.prefix_code_kernel",
               "pyarc_plugins.coding.package_merge_kernel")

    def encode(self, data: bytes) -> bytes:
        if not data:
            return b""
        level = int(self.options["level"])
        window = int(self.options["window"])
        search = LEVELS[level]
        if search.parse == "optimal" and len(data) > OPTIMAL_MAX_BLOCK:
            search = LEVELS[LARGE_BLOCK_LEVEL]
        if search.parse == "optimal":  # priced by a lazy parse, then by each optimal one
            parsed = greedy_or_lazy_parse(data, window, LEVELS[FIRST_PRICES_LEVEL])
            for _ in range(OPTIMAL_PASSES):
                parsed = parse_kernel.optimal_parse(data, window, search.chain, search.nice,
                                                    search.hash_bytes, *prices(*parsed))
        else:
            parsed = greedy_or_lazy_parse(data, window, search)
        coder = self.options["coder"]
        if coder == "range" or (coder == "auto" and level >= ADAPTIVE_FROM):
            return bytes([ADAPTIVE_TOKENS]) + adaptive_tokens_kernel.encode(data, *parsed[:3])
        return bytes([HUFFMAN_TOKENS]) + self._huffman_tokens(parsed, len(data))

    @staticmethod
    def _huffman_tokens(parsed: tuple, size: int) -> bytes:
        literal_lengths, match_lengths, offset_values, literals = parsed
        writer = BitWriter(size // 2 + 1024)
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
        if self.empty_block(payload, size):
            return b""
        if not payload:
            raise CodecError(f"lz77: an empty payload for a block of {size} bytes")
        if payload[0] == ADAPTIVE_TOKENS:
            decoder = RangeDecoder(memoryview(payload)[1:])
            data = adaptive_tokens_kernel.decode(decoder, size)
            if len(data) != size:
                raise CodecError("lz77: a token reaches outside the block, or the payload "
                                 "ends early")
            decoder.finish()
            return data
        if payload[0] != HUFFMAN_TOKENS:
            raise CodecError(f"lz77: unknown token coder {payload[0]}")
        return self._decode_huffman_tokens(memoryview(payload)[1:], size)

    def _decode_huffman_tokens(self, payload: memoryview, size: int) -> bytes:
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


def greedy_or_lazy_parse(data: bytes, window: int, search: Search) -> tuple:
    """A greedy or lazy parse of data."""
    return parse_kernel.parse(data, window, search.chain, search.nice, search.hash_bytes,
                              search.parse == "lazy", search.good)


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
