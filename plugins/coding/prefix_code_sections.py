"""A static prefix (Huffman) code as a section of a bit stream: how the `huffman` codec writes a
block, and how other codecs (lz77's literals and token codes) embed one.

Two kinds of section:

- a byte section (write_bytes / read_bytes): `size` bytes coded with their own optimal code,
  in one of three forms, whichever is smallest: one repeated byte; the code lengths and the
  code of every byte; or the same with the runs of one byte coded as their lengths (RUN_A /
  RUN_B digits, see prefix_code_kernel.py). A `huffman` payload is one byte section.
- a code section (write_code / read_code): just the code for a small alphabet, whose symbols
  the caller then writes one by one. A code always has at least two symbols (a lone symbol
  gets a partner), so that every symbol costs at least one bit and the decoding table is well
  formed.

Both are specified in spec/codecs/coding.md (Prefix codes); the `huffman` payload in
spec/codecs/huffman.md. Readers check that the lengths form a complete prefix code and raise
CodecError otherwise.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from archiver import CodecError
from pyarc_plugins.coding.bitio_kernel import BitReader, BitWriter
from pyarc_plugins.coding.package_merge_kernel import code_lengths
from pyarc_plugins.coding.prefix_code_kernel import (
    RUN_SYMBOLS,
    canonical_codes,
    decode_table,
    length_table_bits,
    read_code_lengths,
    read_codes,
    symbol_counts,
    write_code_lengths,
    write_codes,
)

#: The longest code. 12 bits keep a decoding table (2**12 entries) inside the L1 cache and
#: cost under 0.1% against 15 bits on the Calgary corpus.
MAX_CODE_LENGTH = 12
LENGTH_FIELD_BITS = 4
BYTES = 256


def write_bytes(writer: BitWriter, data: bytes) -> None:
    """Append a byte section holding `data` (at least one byte)."""
    counts = symbol_counts(data)
    present = [symbol for symbol in range(BYTES) if counts[symbol]]
    if len(present) == 1:
        writer.write(0, LENGTH_FIELD_BITS)
        writer.write(present[0], 8)
        return
    lengths = bytearray(code_lengths(counts, MAX_CODE_LENGTH))
    # A code spends at least one bit per symbol, far above the entropy of a byte that fills most
    # of the data (the white of a fax image): price coding that byte's runs as their lengths.
    run_byte = max(range(BYTES), key=counts.__getitem__)  # the first most frequent byte
    run_counts = symbol_counts(data, run_byte)
    run_lengths = bytearray(code_lengths(run_counts, MAX_CODE_LENGTH))
    use_runs = section_bits(run_counts, run_lengths) + 8 < section_bits(counts, lengths)
    if use_runs:
        lengths = run_lengths
    writer.write(max(lengths), LENGTH_FIELD_BITS)
    writer.write(use_runs, 1)
    if use_runs:
        writer.write(run_byte, 8)
    write_code_lengths(writer, lengths)
    write_codes(writer, data, array("I", canonical_codes(lengths)), lengths,
                run_byte if use_runs else -1)


def read_bytes(reader: BitReader, size: int, codec: str) -> bytes:
    """Read a byte section of `size` bytes; `codec` names the caller in error messages."""
    max_length = reader.read(LENGTH_FIELD_BITS)
    if max_length == 0:
        return bytes([reader.read(8)]) * size
    use_runs = reader.read(1)
    run_byte = reader.read(8) if use_runs else -1
    lengths = read_lengths(reader, max_length, RUN_SYMBOLS if use_runs else BYTES, codec)
    table = decode_table(lengths, array("I", canonical_codes(lengths)), max_length)
    data = read_codes(reader, table, max_length, size, run_byte)
    if reader.overrun_bits():
        raise CodecError(f"{codec}: the payload ends early")
    if len(data) != size:
        raise CodecError(f"{codec}: the run lengths do not add up to the data size")
    return data


def write_code(writer: BitWriter, counts: Sequence[int]) -> tuple[array, bytearray]:
    """Append a code section for symbols with these counts; return their codes and lengths."""
    counts = list(counts)
    if sum(1 for count in counts if count) < 2:  # give a lone symbol (or none) a partner
        partner = 1 if counts[0] else 0
        counts[partner] = 1
    lengths = bytearray(code_lengths(counts, MAX_CODE_LENGTH))
    writer.write(max(lengths), LENGTH_FIELD_BITS)
    write_code_lengths(writer, lengths)
    return array("I", canonical_codes(lengths)), lengths


def read_code(reader: BitReader, symbols: int, codec: str) -> tuple[memoryview, int]:
    """Read a code section for `symbols` symbols: its decoding table and max_length."""
    max_length = reader.read(LENGTH_FIELD_BITS)
    lengths = read_lengths(reader, max_length, symbols, codec)
    return decode_table(lengths, array("I", canonical_codes(lengths)), max_length), max_length


def section_bits(counts: list[int], lengths: bytearray) -> int:
    """Bits of the code-length table plus the codes: what the choice of form compares."""
    return length_table_bits(lengths) + sum(
        count * length for count, length in zip(counts, lengths, strict=True))


def read_lengths(reader: BitReader, max_length: int, symbols: int, codec: str) -> bytearray:
    """Read the code lengths and check that they form a complete prefix code."""
    if not 1 <= max_length <= MAX_CODE_LENGTH:
        raise CodecError(f"{codec}: code length {max_length} outside 1..{MAX_CODE_LENGTH}")
    lengths = read_code_lengths(reader, symbols, max_length)
    if lengths is None:
        raise CodecError(f"{codec}: malformed code-length table")
    # Kraft: a complete prefix code fills the code space exactly; max_length must be used.
    space = sum(1 << (max_length - length) for length in lengths if length)
    if space != 1 << max_length or max(lengths) != max_length:
        raise CodecError(f"{codec}: the code lengths do not form a complete prefix code")
    return lengths


def check_end(reader: BitReader, payload_size: int, codec: str) -> None:
    """The payload must end exactly after the last code and at most 7 zero bits of padding."""
    if reader.overrun_bits():
        raise CodecError(f"{codec}: the payload ends early")
    padding = payload_size * 8 - reader.bits_consumed()
    if padding >= 8:
        raise CodecError(f"{codec}: {padding // 8} bytes left over after the last code")
    if reader.read(padding) != 0:
        raise CodecError(f"{codec}: nonzero padding after the last code")
