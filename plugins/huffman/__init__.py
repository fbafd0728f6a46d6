"""`huffman`: a static canonical Huffman code for each block.

The encoder counts the bytes of the block, builds the optimal prefix code whose codes are at most
MAX_CODE_LENGTH bits (package-merge), and writes the code lengths followed by the code of every
byte. Canonical codes follow from the lengths alone, so the lengths are all the decoder needs;
it decodes with one table lookup per symbol, indexed by the next max_length bits.

A Huffman code spends at least one bit per symbol, which is far above the entropy of a byte
that fills most of a block (the white of a fax image). So the encoder also prices run mode,
where runs of the most frequent byte are written as their lengths (two extra symbols, see
coding/bitio_kernel.py), and keeps whichever payload is smaller.

Payload, version 1: one bit stream, most significant bit first.

    4 bits       max_length: the longest code length, 1..MAX_CODE_LENGTH; 0 marks a block of
                 one repeated byte, followed by that byte in 8 bits and nothing else
    1 bit        run mode; if 1, 8 bits: the byte whose runs are coded as lengths
    lengths      the code length of each symbol (256 bytes, then in run mode RUN_A and RUN_B),
                 each as Elias gamma of zigzag(length - previous length) + 1, previous
                 starting at 0; 0 means the symbol does not occur
    the codes    of the block's symbols in order
    0-7 bits     zero padding to a byte boundary; nothing follows

An empty block has an empty payload. The decoder rejects code lengths that do not form a
complete prefix code, payloads that end early, and anything after the padding.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable

from archiver import Codec, CodecError, hookimpl
from pyarc_plugins.coding.bitio_kernel import (
    RUN_SYMBOLS,
    BitReader,
    BitWriter,
    decode_table,
    symbol_counts,
)
from pyarc_plugins.huffman.code_table_kernel import (
    canonical_codes,
    length_table_bits,
    read_code_lengths,
    write_code_lengths,
)
from pyarc_plugins.huffman.package_merge_kernel import code_lengths

#: The longest code. 12 bits keep the decoding table (2**12 entries) inside the L1 cache and
#: cost under 0.1% against 15 bits on the Calgary corpus.
MAX_CODE_LENGTH = 12
LENGTH_FIELD_BITS = 4
BYTES = 256


class HuffmanCodec(Codec):
    name = "huffman"
    version = 1
    description = "static canonical Huffman code per block, codes at most 12 bits (package-merge)"
    kernels = ("pyarc_plugins.coding.bitio_kernel", "pyarc_plugins.huffman.code_table_kernel",
               "pyarc_plugins.huffman.package_merge_kernel")

    def encode(self, data: bytes) -> bytes:
        if not data:
            return b""
        counts = symbol_counts(data)
        present = [symbol for symbol in range(BYTES) if counts[symbol]]
        writer = BitWriter(len(data) // 2 + 512)
        if len(present) == 1:
            writer.write(0, LENGTH_FIELD_BITS)
            writer.write(present[0], 8)
            return writer.finish()
        lengths = bytearray(code_lengths(counts, MAX_CODE_LENGTH))
        run_byte = max(range(BYTES), key=counts.__getitem__)  # the first most frequent byte
        run_counts = symbol_counts(data, run_byte)
        run_lengths = bytearray(code_lengths(run_counts, MAX_CODE_LENGTH))
        use_runs = (payload_bits(run_counts, run_lengths) + 8
                    < payload_bits(counts, lengths))
        if use_runs:
            counts, lengths = run_counts, run_lengths
        writer.write(max(lengths), LENGTH_FIELD_BITS)
        writer.write(use_runs, 1)
        if use_runs:
            writer.write(run_byte, 8)
        write_code_lengths(writer, lengths)
        writer.write_codes(data, array("I", canonical_codes(lengths)), lengths,
                           run_byte if use_runs else -1)
        return writer.finish()

    def decode(self, payload: bytes, size: int) -> bytes:
        if size == 0:
            if payload:
                raise CodecError(f"huffman: {len(payload)} bytes of payload for an empty block")
            return b""
        reader = BitReader(payload)
        max_length = reader.read(LENGTH_FIELD_BITS)
        if max_length == 0:
            data = bytes([reader.read(8)]) * size
        else:
            use_runs = reader.read(1)
            run_byte = reader.read(8) if use_runs else -1
            lengths = read_lengths(reader, max_length, RUN_SYMBOLS if use_runs else BYTES)
            table = decode_table(lengths, array("I", canonical_codes(lengths)), max_length)
            data = reader.read_codes(table, max_length, size, run_byte)
        check_end(reader, len(payload))
        if len(data) != size:
            raise CodecError("huffman: the run lengths do not add up to the block size")
        return data


def payload_bits(counts: list[int], lengths: bytearray) -> int:
    """Bits of the code-length table plus the codes: what the choice of mode compares."""
    return length_table_bits(lengths) + sum(
        count * length for count, length in zip(counts, lengths, strict=True))


def read_lengths(reader: BitReader, max_length: int, symbols: int) -> bytearray:
    """Read the code lengths and check that they form a complete prefix code."""
    if max_length > MAX_CODE_LENGTH:
        raise CodecError(f"huffman: code length {max_length} above the limit {MAX_CODE_LENGTH}")
    lengths = read_code_lengths(reader, symbols, max_length)
    if lengths is None:
        raise CodecError("huffman: malformed code-length table")
    # Kraft: a complete prefix code fills the code space exactly; max_length must be used.
    space = sum(1 << (max_length - length) for length in lengths if length)
    if space != 1 << max_length or max(lengths) != max_length:
        raise CodecError("huffman: the code lengths do not form a complete prefix code")
    return lengths


def check_end(reader: BitReader, payload_size: int) -> None:
    """The payload must end exactly after the codes and at most 7 zero bits of padding."""
    if reader.overrun_bits():
        raise CodecError("huffman: the payload ends early")
    padding = payload_size * 8 - reader.bits_consumed()
    if padding >= 8:
        raise CodecError(f"huffman: {padding // 8} bytes left over after the last code")
    if reader.read(padding) != 0:
        raise CodecError("huffman: nonzero padding after the last code")


@hookimpl
def register_codecs(register: Callable[[type[Codec]], None]) -> None:
    register(HuffmanCodec)
