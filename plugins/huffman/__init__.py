"""`huffman`: a static canonical Huffman code for each block.

docs/huffman.md explains the codec for students: canonical codes, package-merge, this payload.

The encoder counts the bytes of the block, builds the optimal prefix code whose codes are at most
MAX_CODE_LENGTH bits (package-merge), and writes the code lengths followed by the code of every
byte. Canonical codes follow from the lengths alone, so the lengths are all the decoder needs;
it decodes with one table lookup per symbol, indexed by the next max_length bits.

A Huffman code spends at least one bit per symbol, which is far above the entropy of a byte
that fills most of a block (the white of a fax image). So the encoder also prices run mode,
where runs of the most frequent byte are written as their lengths (two extra symbols, see
coding/prefix_code_kernel.py), and keeps whichever payload is smaller.

The payload is one byte section of coding/prefix_code_sections.py: the code lengths, then the
code of every symbol, in one bit stream; an empty block has an empty payload. The payload is
specified in spec/codecs/huffman.md.
"""

from __future__ import annotations

from collections.abc import Callable

from archiver import Codec, hookimpl
from pyarc_plugins.coding.bitio_kernel import BitReader, BitWriter
from pyarc_plugins.coding.prefix_code_sections import (
    MAX_CODE_LENGTH,
    check_end,
    read_bytes,
    write_bytes,
)

__all__ = ["MAX_CODE_LENGTH", "HuffmanCodec"]


class HuffmanCodec(Codec):
    name = "huffman"
    version = 1
    decode_rank = 10
    description = "static canonical Huffman code per block, codes at most 12 bits (package-merge)"
    kernels = ("pyarc_plugins.coding.bitio_kernel", "pyarc_plugins.coding.prefix_code_kernel",
               "pyarc_plugins.coding.package_merge_kernel")

    def encode(self, data: bytes) -> bytes:
        if not data:
            return b""
        writer = BitWriter(len(data) // 2 + 512)
        write_bytes(writer, data)
        return writer.finish()

    def decode(self, payload: bytes, size: int) -> bytes:
        if self.empty_block(payload, size):
            return b""
        reader = BitReader(payload)
        data = read_bytes(reader, size, self.name)
        check_end(reader, len(payload), self.name)
        return data


@hookimpl
def register_codecs(register: Callable[[type[Codec]], None]) -> None:
    register(HuffmanCodec)
