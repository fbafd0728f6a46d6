"""The shared coding primitives in plugins/coding (package `pyarc_plugins.coding`).

Every behavioural test runs twice: against the compiled extension modules pyarc uses, and
against the same modules run as plain Python from their .py sources (tests/pure_kernels.py),
with smaller inputs for the slow pure variant. Further tests check that both variants produce
byte-identical output. All randomness is seeded: the tests are deterministic.

References used below are deliberately naive and independent of the code under test: bit
strings for bit I/O and the Elias codes, exact big-integer arithmetic for the range coder's
carry handling, plain lists of counts for AdaptiveFrequencies, a list for move-to-front.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.machinery
import math
import random
from array import array
from bisect import bisect_right
from types import ModuleType

import pytest
from pure_kernels import pure  # type: ignore[import-not-found]

from archiver.errors import CodecError

PACKAGE = "pyarc_plugins.coding"
KERNELS = ["bitio_kernel", "integer_codes_kernel", "rangecoder_kernel", "frequencies_kernel"]
VARIANTS = ["compiled", "pure"]

# Constants of the kernels. Compiled modules do not export their C-level constants, so these
# are spelled out here and checked against the pure sources in test_constants_match_sources.
MAX_TOTAL = 1 << 16
FLUSH_BYTES = 4
LIMIT = 0xFFFF
PROB_ONE = 1 << 11
PROB_INIT = 1 << 10


def load(leaf: str, variant: str) -> ModuleType:
    """The kernel `leaf` as the compiled module pyarc imports, or run as plain Python."""
    name = f"{PACKAGE}.{leaf}"
    return importlib.import_module(name) if variant == "compiled" else pure(name)


@pytest.fixture(params=VARIANTS)
def variant(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def big(variant: str):
    """`big(n_compiled, n_pure)`: the size of an input for this variant (pure Python is slow)."""
    return lambda compiled, pure_size: compiled if variant == "compiled" else pure_size


@pytest.fixture
def bitio(variant: str) -> ModuleType:
    return load("bitio_kernel", variant)


@pytest.fixture
def codes(variant: str) -> ModuleType:
    return load("integer_codes_kernel", variant)


@pytest.fixture
def rc(variant: str) -> ModuleType:
    return load("rangecoder_kernel", variant)


@pytest.fixture
def freq(variant: str) -> ModuleType:
    return load("frequencies_kernel", variant)


def bits_of(data: bytes) -> str:
    """`data` as a string of '0'/'1', most significant bit of each byte first."""
    return "".join(f"{byte:08b}" for byte in data)


def bytes_of(bits: str) -> bytes:
    """A bit string padded with zeros to whole bytes."""
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))


# ---------------------------------------------------------------------------------------------
# The modules themselves


@pytest.mark.parametrize("leaf", KERNELS)
def test_compiled_module_is_an_extension(leaf: str) -> None:
    """The module pyarc imports is a C extension, not the .py source (skipped when uncompiled)."""
    module = importlib.import_module(f"{PACKAGE}.{leaf}")
    path = module.__file__ or ""
    if path.endswith(".py"):
        pytest.skip(f"{PACKAGE}.{leaf} is not compiled (no C compiler or Cython when it was "
                    f"installed?): it loads from {path}")
    assert path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), path
    assert module.__spec__ is not None
    assert isinstance(module.__spec__.loader, importlib.machinery.ExtensionFileLoader)
    # ... and the pure variant really is a different module, run from the source.
    source = pure(f"{PACKAGE}.{leaf}")
    assert source is not module and source.__file__.endswith(f"{leaf}.py")


def test_constants_match_sources() -> None:
    """The constants this file assumes are the ones in the kernels' sources."""
    rc_source = pure(f"{PACKAGE}.rangecoder_kernel")
    freq_source = pure(f"{PACKAGE}.frequencies_kernel")
    assert (rc_source.MAX_TOTAL, rc_source.FLUSH_BYTES) == (MAX_TOTAL, FLUSH_BYTES)
    assert (rc_source.PROB_ONE, rc_source.PROB_INIT) == (PROB_ONE, PROB_INIT)
    assert freq_source.LIMIT == LIMIT
    assert LIMIT <= MAX_TOTAL  # every frequency table's total is codable


# ---------------------------------------------------------------------------------------------
# bitio_kernel: ByteSink, BitWriter, BitReader


def random_fields(rng: random.Random, count: int) -> list[tuple[int, int]]:
    """(value, nbits) pairs, widths 0..56; values carry junk above their width (to be masked)."""
    fields = []
    for _ in range(count):
        nbits = rng.choice([0, 1, 1, 2, 3, 7, 8, 9, 16, 31, 32, 33, 55, 56, rng.randint(0, 56)])
        fields.append((rng.getrandbits(64), nbits))
    return fields


def expected_bits(fields: list[tuple[int, int]]) -> str:
    return "".join(f"{value & ((1 << n) - 1):0{n}b}" for value, n in fields if n)


def test_bitwriter_msb_first(bitio: ModuleType) -> None:
    """Bits go out most significant first: write(0b101, 3) then finish() gives b'\\xa0'."""
    writer = bitio.BitWriter()
    writer.write(0b101, 3)
    assert writer.finish() == b"\xa0"
    writer = bitio.BitWriter()
    for value, nbits in [(1, 1), (0, 2), (0x3F, 6), (0xABC, 12), (0, 0), (5, 3)]:
        writer.write(value, nbits)
    # 1 00 111111 101010111100 101 -> 1001 1111 1101 0101 1110 0101
    assert writer.finish() == bytes([0b10011111, 0b11010101, 0b11100101])


def test_bitwriter_masks_value_to_width(bitio: ModuleType) -> None:
    """write(value, n) keeps only the low n bits of value; width 0 writes nothing."""
    writer = bitio.BitWriter()
    writer.write(0xFFFF_FFFF_FFFF_FFFF, 0)
    writer.write(0xFFFF_FFFF_FFFF_FFF5, 4)  # 0101
    writer.write(0xFFFF_FFFF_FFFF_FFFF, 0)
    writer.write(0xF0, 4)  # 0000
    assert writer.finish() == b"\x50"


def test_bitwriter_finish_pads_with_zeros(bitio: ModuleType) -> None:
    """finish() pads the last partial byte with zero bits and adds nothing on a byte boundary."""
    for nbits in range(0, 25):
        writer = bitio.BitWriter()
        writer.write((1 << nbits) - 1, nbits)  # nbits one bits
        out = writer.finish()
        assert len(out) == (nbits + 7) // 8, nbits
        assert bits_of(out) == "1" * nbits + "0" * (-nbits % 8), nbits
    assert bitio.BitWriter().finish() == b""


def test_bitwriter_random_fields(bitio: ModuleType, big) -> None:
    """Random mixtures of widths 0..56 produce exactly the concatenated bit strings."""
    rng = random.Random(1)
    for _ in range(big(60, 12)):
        fields = random_fields(rng, rng.randint(0, big(400, 80)))
        writer = bitio.BitWriter()
        for value, nbits in fields:
            writer.write(value, nbits)
        assert writer.finish() == bytes_of(expected_bits(fields))


def test_bit_round_trip(bitio: ModuleType, big) -> None:
    """Whatever BitWriter wrote, BitReader reads back field by field, with exact bit counts."""
    rng = random.Random(2)
    for _ in range(big(60, 12)):
        fields = random_fields(rng, rng.randint(0, big(400, 80)))
        writer = bitio.BitWriter(rng.choice([1, 16, 256]))
        for value, nbits in fields:
            writer.write(value, nbits)
        reader = bitio.BitReader(writer.finish())
        consumed = 0
        for value, nbits in fields:
            assert reader.read(nbits) == value & ((1 << nbits) - 1)
            consumed += nbits
            assert reader.bits_consumed() == consumed
        assert reader.overrun_bits() == 0


def test_bitreader_peek_does_not_consume(bitio: ModuleType, big) -> None:
    """peek(n) returns the next n bits without consuming them; skip(n) then consumes them."""
    rng = random.Random(3)
    data = rng.randbytes(big(400, 100))
    bits = bits_of(data)
    reader = bitio.BitReader(data)
    position = 0
    while position + 56 <= len(bits):
        nbits = rng.randint(1, 56)
        expected = int(bits[position : position + nbits], 2)
        assert reader.peek(nbits) == expected
        assert reader.peek(nbits) == expected
        assert reader.bits_consumed() == position
        smaller = rng.randint(1, nbits)
        assert reader.peek(smaller) == expected >> (nbits - smaller)
        if rng.random() < 0.5:
            reader.skip(nbits)
        else:
            assert reader.read(nbits) == expected
        position += nbits
        assert reader.bits_consumed() == position
    assert reader.overrun_bits() == 0


def test_bitreader_read_zero_bits(bitio: ModuleType) -> None:
    """read(0) returns 0 and consumes nothing, even on empty data."""
    reader = bitio.BitReader(b"\xff")
    assert reader.read(0) == 0
    assert reader.bits_consumed() == 0
    assert reader.read(8) == 0xFF
    empty = bitio.BitReader(b"")
    assert empty.read(0) == 0
    assert empty.bits_consumed() == 0 and empty.overrun_bits() == 0


def test_bitreader_past_end_reads_zeros_and_counts_overrun(bitio: ModuleType, big) -> None:
    """Past the end the reader yields zero bits, and overrun_bits counts exactly those bits."""
    rng = random.Random(4)
    for _ in range(big(200, 40)):
        data = bytes(rng.choice([0xFF, rng.randrange(256)]) for _ in range(rng.randint(0, 12)))
        size_bits = 8 * len(data)
        bits = bits_of(data) + "0" * 600
        reader = bitio.BitReader(data)
        position = 0
        while position < size_bits + 200:
            nbits = rng.randint(0, 56)
            expected = int(bits[position : position + nbits] or "0", 2)
            assert reader.read(nbits) == expected
            position += nbits
            assert reader.bits_consumed() == position
            assert reader.overrun_bits() == max(0, position - size_bits)


def test_bitreader_overrun_exact_at_boundary(bitio: ModuleType) -> None:
    """Reading exactly to the end is no overrun (despite read-ahead); one bit more is one."""
    reader = bitio.BitReader(b"\xff\xff\xff")
    assert reader.read(23) == (1 << 23) - 1
    assert reader.overrun_bits() == 0
    assert reader.read(1) == 1
    assert reader.overrun_bits() == 0
    assert reader.read(1) == 0
    assert reader.overrun_bits() == 1
    assert reader.read(56) == 0
    assert reader.overrun_bits() == 57
    assert bitio.BitReader(b"").read(5) == 0


@pytest.mark.parametrize("capacity", [1, 16])
def test_byte_sink_grows_past_capacity(bitio: ModuleType, big, capacity: int) -> None:
    """A writer with a tiny initial buffer keeps every byte when it grows (thousands of bytes)."""
    rng = random.Random(capacity)
    data = rng.randbytes(big(20000, 3000))
    writer = bitio.BitWriter(capacity)
    for byte in data:
        writer.write(byte, 8)
    assert writer.finish() == data
    # Unaligned: every byte straddles two buffer bytes.
    writer = bitio.BitWriter(capacity)
    writer.write(1, 1)
    for byte in data:
        writer.write(byte, 8)
    assert writer.finish() == bytes_of("1" + bits_of(data))


def test_byte_sink_starts_empty(bitio: ModuleType) -> None:
    """A fresh ByteSink holds nothing, whatever its capacity."""
    for capacity in [0, 1, 16, 1000]:
        assert bitio.ByteSink(capacity).written() == b""


# ---------------------------------------------------------------------------------------------
# integer_codes_kernel: Elias gamma and delta, zigzag


def gamma_bits(n: int) -> str:
    return "0" * (n.bit_length() - 1) + f"{n:b}"


def delta_bits(n: int) -> str:
    return gamma_bits(n.bit_length()) + f"{n:b}"[1:]


def written_bits(bitio: ModuleType, write, values) -> str:
    """The bits `write(writer, v)` produces for each v, followed by one '1' sentinel bit.

    The sentinel marks where the codes end, so the result has no padding: it is exact.
    """
    writer = bitio.BitWriter()
    for value in values:
        write(writer, value)
    writer.write(1, 1)
    return bits_of(writer.finish()).rstrip("0")[:-1]


LARGE = [2**20, 2**31 - 1, 2**31, 2**32, 2**32 + 1, 2**40 + 12345, 2**55 - 1, 2**55,
         2**55 + 1, 2**56 - 1]


def test_bit_length(codes: ModuleType) -> None:
    """bit_length agrees with int.bit_length, 0 included, up to 64 bits."""
    rng = random.Random(5)
    values = [0, 1, 2, 3, 255, 256, 2**63, 2**64 - 1] + [rng.getrandbits(rng.randint(1, 64))
                                                      for _ in range(300)]
    for value in values:
        assert codes.bit_length(value) == value.bit_length(), value


def test_gamma_exact_bits(bitio: ModuleType, codes: ModuleType) -> None:
    """gamma(n) is (L-1) zeros then n's L bits (2L-1 bits), for 1..1000 and up to 2**56-1."""
    for value in [*range(1, 1001), *LARGE]:
        bits = written_bits(bitio, codes.write_gamma, [value])
        assert bits == gamma_bits(value), value
        assert len(bits) == 2 * value.bit_length() - 1


def test_delta_exact_bits(bitio: ModuleType, codes: ModuleType) -> None:
    """delta(n) is gamma(L) then n below its leading one: L-1 + 2*bitlen(L)-1 bits."""
    for value in [*range(1, 1001), *LARGE]:
        bits = written_bits(bitio, codes.write_delta, [value])
        length = value.bit_length()
        assert bits == delta_bits(value), value
        assert len(bits) == length - 1 + 2 * length.bit_length() - 1


def test_gamma_delta_readers_consume_exact_bits(bitio: ModuleType, codes: ModuleType) -> None:
    """read_gamma/read_delta return the value and consume exactly the code's bits."""
    for value in [*range(1, 300), *LARGE]:
        for write, read, reference in [(codes.write_gamma, codes.read_gamma, gamma_bits),
                                       (codes.write_delta, codes.read_delta, delta_bits)]:
            writer = bitio.BitWriter()
            write(writer, value)
            reader = bitio.BitReader(writer.finish())
            assert read(reader) == value
            assert reader.bits_consumed() == len(reference(value))
            assert reader.overrun_bits() == 0


def test_gamma_delta_mixed_round_trip(bitio: ModuleType, codes: ModuleType, big) -> None:
    """A mixed sequence of gamma, delta and plain fields reads back in order."""
    rng = random.Random(6)
    items = []
    for _ in range(big(3000, 500)):
        kind = rng.randrange(3)
        if kind == 2:
            items.append((kind, rng.getrandbits(13), 13))
        else:
            items.append((kind, max(1, rng.getrandbits(rng.randint(1, 56))), 0))
    writer = bitio.BitWriter(1)
    expected = []
    for kind, value, nbits in items:
        if kind == 0:
            codes.write_gamma(writer, value)
            expected.append(gamma_bits(value))
        elif kind == 1:
            codes.write_delta(writer, value)
            expected.append(delta_bits(value))
        else:
            writer.write(value, nbits)
            expected.append(f"{value:013b}")
    data = writer.finish()
    assert data == bytes_of("".join(expected))
    reader = bitio.BitReader(data)
    for kind, value, nbits in items:
        if kind == 0:
            assert codes.read_gamma(reader) == value
        elif kind == 1:
            assert codes.read_delta(reader) == value
        else:
            assert reader.read(nbits) == value
    assert reader.bits_consumed() == len("".join(expected))
    assert reader.overrun_bits() == 0


def test_malformed_codes_read_as_zero(bitio: ModuleType, codes: ModuleType) -> None:
    """Too many leading zeros (e.g. 60 zero bytes, or no data at all) reads as 0."""
    assert codes.read_gamma(bitio.BitReader(bytes(60))) == 0
    assert codes.read_delta(bitio.BitReader(bytes(60))) == 0
    empty = bitio.BitReader(b"")
    assert codes.read_gamma(empty) == 0
    assert empty.overrun_bits() > 0
    assert codes.read_delta(bitio.BitReader(b"")) == 0


def test_gamma_zero_run_limit(bitio: ModuleType, codes: ModuleType) -> None:
    """55 leading zeros is still a code (2**55 and up); 56 is malformed."""
    value = 2**55 + 7
    longest = "0" * 55 + f"{value:b}"
    assert codes.read_gamma(bitio.BitReader(bytes_of(longest))) == value
    assert codes.read_gamma(bitio.BitReader(bytes_of("0" * 56 + "1" * 57))) == 0


def test_delta_rejects_length_over_56(bitio: ModuleType, codes: ModuleType) -> None:
    """A delta code whose length part exceeds 56 bits is malformed (0), not garbage."""
    writer = bitio.BitWriter()
    codes.write_gamma(writer, 57)  # the length part of a 57-bit number
    writer.write(0xFFFF_FFFF_FFFF, 48)
    writer.write(0xFF, 8)
    assert codes.read_delta(bitio.BitReader(writer.finish())) == 0
    writer = bitio.BitWriter()
    codes.write_gamma(writer, 56)  # the largest length: fine
    writer.write((1 << 55) - 1, 55)
    assert codes.read_delta(bitio.BitReader(writer.finish())) == 2**56 - 1


def test_zigzag_known_values(codes: ModuleType) -> None:
    """zigzag maps 0, -1, 1, -2, 2 to 0, 1, 2, 3, 4 and ±2**40 to 2**41 - 1 and 2**41."""
    assert [codes.zigzag(v) for v in [0, -1, 1, -2, 2, -3, 3]] == [0, 1, 2, 3, 4, 5, 6]
    assert codes.zigzag(2**40) == 2**41
    assert codes.zigzag(-(2**40)) == 2**41 - 1
    assert codes.zigzag(2**63 - 1) == 2**64 - 2
    assert codes.zigzag(-(2**63)) == 2**64 - 1
    assert [codes.unzigzag(u) for u in range(7)] == [0, -1, 1, -2, 2, -3, 3]


def test_zigzag_round_trip_and_order(codes: ModuleType) -> None:
    """unzigzag inverts zigzag (extremes included), and zigzag orders values by magnitude."""
    rng = random.Random(7)
    values = [0, -1, 1, 2**40, -(2**40), 2**62, -(2**62), 2**63 - 1, -(2**63)]
    values += [rng.randint(-(2**63), 2**63 - 1) for _ in range(500)]
    values += [rng.randint(-1000, 1000) for _ in range(500)]
    for value in values:
        assert codes.unzigzag(codes.zigzag(value)) == value
    for value in range(-300, 300):
        assert codes.zigzag(value) == (2 * value if value >= 0 else -2 * value - 1)


# ---------------------------------------------------------------------------------------------
# rangecoder_kernel: RangeEncoder, RangeDecoder


class Table:
    """A static frequency table: symbol s has count freqs[s], cumulative count cums[s]."""

    def __init__(self, freqs: list[int]) -> None:
        self.freqs = freqs
        self.cums = [sum(freqs[:i]) for i in range(len(freqs))]
        self.total = sum(freqs)
        assert self.total <= MAX_TOTAL

    def symbol_at(self, target: int) -> int:
        return bisect_right(self.cums, target) - 1


def random_tables(rng: random.Random) -> list[Table]:
    tables = [
        Table([1]),  # a certain symbol
        Table([1, MAX_TOTAL - 1]),  # total exactly MAX_TOTAL
        Table([rng.randint(1, 50) for _ in range(rng.randint(2, 300))]),
        Table([rng.randint(1, 200) for _ in range(rng.randint(2, 8))]),
    ]
    big = [rng.randint(1, 4000) for _ in range(16)]
    tables.append(Table(big))
    return tables


MODEL_COUNT = 1024  # bit models: trees at 0 (8 bits), 256 (8 bits), 512 (3 bits); bits 600..


def mixed_events(rng: random.Random, count: int, tables: list[Table]) -> list[tuple]:
    """A random stream of frequency symbols, adaptive bits, bit trees and direct bits."""
    events: list[tuple] = []
    for _ in range(count):
        kind = rng.randrange(4)
        if kind == 0:
            index = rng.randrange(len(tables))
            table = tables[index]
            symbol = rng.choices(range(len(table.freqs)), table.freqs)[0]
            events.append(("symbol", index, symbol))
        elif kind == 1:
            model = 600 + rng.randrange(10)
            # Model 600 sees a skewed source, the others fair coins.
            bit = int(rng.random() < (0.05 if model == 600 else 0.5))
            events.append(("bit", model, bit))
        elif kind == 2:
            base, nbits = rng.choice([(0, 8), (256, 8), (512, 3)])
            value = min(rng.getrandbits(nbits), rng.getrandbits(nbits))  # skewed to small
            events.append(("tree", base, nbits, value))
        else:
            nbits = rng.randint(0, 32)
            events.append(("direct", rng.getrandbits(32), nbits))
    return events


def encode_events(rc: ModuleType, events: list[tuple], tables: list[Table],
                  capacity: int = 256) -> tuple[bytes, array]:
    encoder = rc.RangeEncoder(capacity)
    models = rc.bit_models(MODEL_COUNT)
    for event in events:
        if event[0] == "symbol":
            table = tables[event[1]]
            symbol = event[2]
            encoder.encode(table.cums[symbol], table.freqs[symbol], table.total)
        elif event[0] == "bit":
            encoder.encode_bit(models, event[1], event[2])
        elif event[0] == "tree":
            encoder.encode_tree(models, event[1], event[2], event[3])
        else:
            encoder.encode_direct(event[1], event[2])
    return encoder.finish(), models


def decode_events(rc: ModuleType, payload: bytes, events: list[tuple], tables: list[Table]):
    """Decode the same kinds of event as `events`; returns (decoded events, decoder, models)."""
    decoder = rc.RangeDecoder(payload)
    models = rc.bit_models(MODEL_COUNT)
    decoded: list[tuple] = []
    for event in events:
        if event[0] == "symbol":
            table = tables[event[1]]
            target = decoder.decode_target(table.total)
            assert 0 <= target < table.total
            symbol = table.symbol_at(target)
            decoder.decode_consume(table.cums[symbol], table.freqs[symbol])
            decoded.append(("symbol", event[1], symbol))
        elif event[0] == "bit":
            decoded.append(("bit", event[1], decoder.decode_bit(models, event[1])))
        elif event[0] == "tree":
            value = decoder.decode_tree(models, event[1], event[2])
            assert 0 <= value < 1 << event[2]
            decoded.append(("tree", event[1], event[2], value))
        else:
            value = decoder.decode_direct(event[2])
            assert 0 <= value < 1 << event[2]
            decoded.append(("direct", value, event[2]))
    return decoded, decoder, models


def normalized(events: list[tuple]) -> list[tuple]:
    """Events with direct values cut to their width (what the decoder can give back)."""
    return [("direct", e[1] & ((1 << e[2]) - 1), e[2]) if e[0] == "direct" else e
            for e in events]


def test_bit_models(rc: ModuleType) -> None:
    """bit_models(n) is n 16-bit models, each at probability 1/2."""
    models = rc.bit_models(5)
    assert isinstance(models, array) and models.typecode == "H"
    assert list(models) == [PROB_INIT] * 5
    assert len(rc.bit_models(0)) == 0


def test_range_coder_mixed_round_trip(rc: ModuleType, big) -> None:
    """Seeded streams mixing symbols, adaptive bits, trees and direct bits decode exactly."""
    rng = random.Random(8)
    for case in range(big(40, 8)):
        tables = random_tables(rng)
        events = mixed_events(rng, rng.randint(0, big(2000, 300)), tables)
        payload, encoder_models = encode_events(rc, events, tables, rng.choice([1, 256]))
        decoded, decoder, decoder_models = decode_events(rc, payload, events, tables)
        assert decoded == normalized(events), case
        assert decoder_models == encoder_models  # both sides adapted the same way
        assert not decoder.failed()
        decoder.finish()


def test_adaptive_bits_move_towards_coded_bits(rc: ModuleType) -> None:
    """A model moves 1/32 of the way towards each coded bit (prob is that of a zero)."""
    encoder = rc.RangeEncoder()
    models = rc.bit_models(2)
    encoder.encode_bit(models, 0, 0)
    encoder.encode_bit(models, 1, 1)
    assert list(models) == [PROB_INIT + (PROB_ONE - PROB_INIT) // 32, PROB_INIT - PROB_INIT // 32]
    for _ in range(500):
        encoder.encode_bit(models, 0, 0)
        encoder.encode_bit(models, 1, 1)
    assert PROB_ONE - 64 <= models[0] < PROB_ONE and 0 < models[1] <= 64


def test_uniform_symbols_cost_one_byte_each(rc: ModuleType, big) -> None:
    """n uniform symbols of a 256-symbol model with fixed total take n bytes, give or take 4."""
    rng = random.Random(9)
    for total_per_symbol in [1, 256]:  # totals 256 and 65536
        symbols = [rng.randrange(256) for _ in range(big(20000, 2000))]
        encoder = rc.RangeEncoder()
        for symbol in symbols:
            encoder.encode(symbol * total_per_symbol, total_per_symbol, 256 * total_per_symbol)
        payload = encoder.finish()
        assert abs(len(payload) - len(symbols)) <= FLUSH_BYTES
        decoder = rc.RangeDecoder(payload)
        for symbol in symbols:
            target = decoder.decode_target(256 * total_per_symbol)
            assert target // total_per_symbol == symbol
            decoder.decode_consume(symbol * total_per_symbol, total_per_symbol)
        decoder.finish()


def test_direct_bits_cost_one_bit_each(rc: ModuleType, big) -> None:
    """Direct bits are equiprobable: 8n of them take n bytes, give or take 4."""
    rng = random.Random(10)
    values = [rng.getrandbits(32) for _ in range(big(5000, 500))]
    encoder = rc.RangeEncoder()
    for value in values:
        encoder.encode_direct(value, 32)
    payload = encoder.finish()
    assert abs(len(payload) - 4 * len(values)) <= FLUSH_BYTES
    decoder = rc.RangeDecoder(payload)
    assert [decoder.decode_direct(32) for _ in values] == values
    decoder.finish()


def test_adaptive_bits_approach_entropy(rc: ModuleType, big) -> None:
    """Adaptive bits on a skewed i.i.d. source (P(1) = 0.2) cost within 3% of its entropy."""
    rng = random.Random(11)
    n = big(50000, 5000)
    bits = [int(rng.random() < 0.2) for _ in range(n)]
    p = sum(bits) / n
    ideal_bytes = n * -(p * math.log2(p) + (1 - p) * math.log2(1 - p)) / 8
    encoder = rc.RangeEncoder()
    models = rc.bit_models(1)
    for bit in bits:
        encoder.encode_bit(models, 0, bit)
    payload = encoder.finish()
    assert 0.98 * ideal_bytes <= len(payload) <= 1.03 * ideal_bytes + FLUSH_BYTES
    decoder = rc.RangeDecoder(payload)
    models = rc.bit_models(1)
    assert [decoder.decode_bit(models, 0) for _ in bits] == bits
    decoder.finish()


def test_empty_stream(rc: ModuleType) -> None:
    """No events encode to b'', which decodes to no events with finish() passing."""
    assert rc.RangeEncoder().finish() == b""
    assert rc.RangeEncoder(1).finish() == b""
    decoder = rc.RangeDecoder(b"")
    assert not decoder.failed()
    decoder.finish()


def test_certain_symbols_cost_nothing(rc: ModuleType) -> None:
    """Symbols of probability 1 (total 1) and zero-width direct/tree codes add no bytes."""
    encoder = rc.RangeEncoder()
    for _ in range(1000):
        encoder.encode(0, 1, 1)
        encoder.encode_direct(0xFFFF, 0)
    assert encoder.finish() == b""


def test_appended_byte_is_detected(rc: ModuleType, big) -> None:
    """Exact termination: one extra byte after a valid payload makes finish() raise CodecError."""
    # The smallest case: 8 direct bits 0x5A, then symbol 0 of a 2-symbol model (P = 1/2).
    encoder = rc.RangeEncoder()
    encoder.encode_direct(0x5A, 8)
    encoder.encode(0, 1, 2)
    payload = encoder.finish()
    assert payload == b"\x5a"
    undetected: list[tuple] = []
    for extra in [b"\x00", b"\xff"]:
        decoder = rc.RangeDecoder(payload + extra)
        value = decoder.decode_direct(8)
        symbol = int(decoder.decode_target(2) >= 1)
        decoder.decode_consume(symbol, 1)
        try:
            decoder.finish()
        except CodecError:
            continue
        undetected.append((payload + extra, value, symbol))  # b'\x5a\xff' decodes symbol 1
    # Random streams.
    rng = random.Random(12)
    for case in range(big(30, 6)):
        tables = random_tables(rng)
        events = mixed_events(rng, rng.randint(0, big(500, 100)), tables)
        payload, _ = encode_events(rc, events, tables)
        for byte in [0x00, 0x01, 0x80, 0xFF]:
            decoded, decoder, _ = decode_events(rc, payload + bytes([byte]), events, tables)
            try:
                decoder.finish()
            except CodecError:
                continue
            undetected.append((case, byte, "same" if decoded == normalized(events) else "wrong"))
    assert not undetected


def test_appended_bytes_beyond_flush_are_detected(rc: ModuleType, big) -> None:
    """More than FLUSH_BYTES extra bytes after a valid payload make finish() raise CodecError."""
    rng = random.Random(13)
    for _ in range(big(30, 6)):
        tables = random_tables(rng)
        events = mixed_events(rng, rng.randint(0, big(500, 100)), tables)
        payload, _ = encode_events(rc, events, tables)
        for extra in [bytes(FLUSH_BYTES + 1), rng.randbytes(FLUSH_BYTES + 1), rng.randbytes(50)]:
            _, decoder, _ = decode_events(rc, payload + extra, events, tables)
            with pytest.raises(CodecError, match="left over"):
                decoder.finish()


def test_truncated_payload_is_detected(rc: ModuleType, big) -> None:
    """Dropping more than FLUSH_BYTES trailing bytes: failed() turns true and finish() raises."""
    rng = random.Random(14)
    checked = 0
    for _ in range(big(40, 8)):
        tables = random_tables(rng)
        events = mixed_events(rng, rng.randint(1, big(500, 100)), tables)
        payload, _ = encode_events(rc, events, tables)
        for cut in [FLUSH_BYTES + 1, FLUSH_BYTES + 2, 2 * FLUSH_BYTES + 3]:
            if len(payload) < cut:
                continue
            _, decoder, _ = decode_events(rc, payload[: len(payload) - cut], events, tables)
            assert decoder.failed()
            with pytest.raises(CodecError):
                decoder.finish()
            checked += 1
    assert checked >= big(60, 10)


def test_decoder_byte_accounting_is_exact(rc: ModuleType) -> None:
    """Each 8 direct bits read one byte: on an s-byte payload, k such reads fail (failed(), and
    finish raises) exactly when k > s, and leave bytes over exactly when k < s - FLUSH_BYTES;
    in between, only the check that a payload ends canonically may fail."""
    rng = random.Random(26)
    for size in [0, 1, 4, 5, 9, 30]:
        payload = rng.randbytes(size)
        for reads in range(size + 3):
            decoder = rc.RangeDecoder(payload)
            for _ in range(reads):
                decoder.decode_direct(8)
            assert decoder.failed() == (reads > size), (size, reads)
            if reads > size:
                with pytest.raises(CodecError, match="early"):
                    decoder.finish()
            elif reads < size - FLUSH_BYTES:
                with pytest.raises(CodecError, match="left over"):
                    decoder.finish()
            else:  # the byte count fits: only the check for a canonical ending may object
                try:
                    decoder.finish()
                except CodecError as error:
                    assert "does not end where" in str(error), error


def test_impossible_code_value_is_flagged(rc: ModuleType) -> None:
    """A code value beyond the interval: decode_target clamps to total-1 and flags corruption."""
    decoder = rc.RangeDecoder(b"\xff" * 8)
    assert not decoder.failed()
    assert decoder.decode_target(3) == 2  # code 0xFFFFFFFF // (0xFFFFFFFF // 3) == 3 >= total
    assert decoder.failed()
    with pytest.raises(CodecError, match="corrupt"):
        decoder.finish()


def test_garbage_never_crashes(rc: ModuleType, big) -> None:
    """Random payloads: decode methods never raise and stay in range; finish() at worst raises
    CodecError, and it must when the payload is far longer or shorter than what was read."""
    rng = random.Random(15)
    tables = random_tables(rng)
    for case in range(big(40, 8)):
        payload = rng.randbytes(rng.choice([0, 1, 3, 5, 17, 100, 1000]))
        events = mixed_events(rng, big(1500, 200), tables)
        _, decoder, _ = decode_events(rc, payload, events, tables)  # asserts values in range
        with contextlib.suppress(CodecError):  # but nothing else
            decoder.finish()
        # Far too few events for 1000 bytes: bytes are left over.
        _, decoder, _ = decode_events(rc, rng.randbytes(1000), events[:20], tables)
        with pytest.raises(CodecError):
            decoder.finish()
        # 3000 direct bytes from 100 bytes: the decoder overruns.
        decoder = rc.RangeDecoder(rng.randbytes(100))
        for _ in range(big(3000, 300)):
            decoder.decode_direct(8)
        assert decoder.failed(), case
        with pytest.raises(CodecError):
            decoder.finish()


# Carry propagation ---------------------------------------------------------------------------

SKEWED = [Table([1, MAX_TOTAL - 2, 1]), Table([MAX_TOTAL - 1, 1]), Table([1, MAX_TOTAL - 1])]


def carry_events(rng: random.Random, count: int) -> list[tuple]:
    """Streams that drive `low` against 2**32: runs of likely events pushing it up (direct
    all-ones bits, the upper likely symbol, likely 1 bits) broken by rare events."""
    rare = rng.choice([0.001, 0.01, 0.05])
    events: list[tuple] = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.2:
            nbits = rng.randint(1, 32)
            value = (1 << nbits) - 1 if rng.random() > rare else rng.getrandbits(nbits)
            events.append(("direct", value, nbits))
        elif kind < 0.6:
            index = rng.randrange(len(SKEWED))
            freqs = SKEWED[index].freqs
            likely = freqs.index(max(freqs))
            symbol = likely if rng.random() > rare else rng.randrange(len(freqs))
            events.append(("symbol", index, symbol))
        else:
            events.append(("bit", 600, int(rng.random() > rare)))
    return events


class BigIntRangeEncoder:
    """The range coder with `low` an exact big integer: no carries to hold back or propagate.

    The width arithmetic is the coder's; the payload is simply the digits of the final value.
    """

    def __init__(self) -> None:
        self.low = 0
        self.width = 0xFFFFFFFF
        self.shifts = 0

    def _normalize(self) -> None:
        while self.width < 1 << 24:
            self.width <<= 8
            self.low <<= 8
            self.shifts += 1

    def encode(self, cum: int, freq: int, total: int) -> None:
        step = self.width // total
        self.low += step * cum
        self.width = step * freq
        self._normalize()

    def encode_bit(self, probs: array, index: int, bit: int) -> None:
        prob = probs[index]
        bound = (self.width >> 11) * prob
        if bit == 0:
            self.width = bound
            probs[index] = prob + ((PROB_ONE - prob) >> 5)
        else:
            self.low += bound
            self.width -= bound
            probs[index] = prob - (prob >> 5)
        self._normalize()

    def encode_direct(self, value: int, nbits: int) -> None:
        for i in range(nbits - 1, -1, -1):
            self.width >>= 1
            if (value >> i) & 1:
                self.low += self.width
            self._normalize()

    def finish(self) -> bytes:
        # The multiple of the largest 256**k (k <= FLUSH_BYTES) in [low, low + width) ...
        for zero_bytes in range(FLUSH_BYTES, -1, -1):
            unit = 1 << (8 * zero_bytes)
            value = -(-self.low // unit) * unit
            if value < self.low + self.width:
                break
        # ... as 1 + 4 + shifts bytes (a leading zero byte and the 32-bit window, plus one per
        # shift), less the leading zero and the trailing zeros.
        digits = value.to_bytes(5 + self.shifts, "big")
        assert digits[0] == 0
        return digits[1 : len(digits) - zero_bytes]


def reference_payload(events: list[tuple], tables: list[Table]) -> bytes:
    encoder = BigIntRangeEncoder()
    models = array("H", [PROB_INIT]) * MODEL_COUNT
    for event in events:
        if event[0] == "symbol":
            table = tables[event[1]]
            encoder.encode(table.cums[event[2]], table.freqs[event[2]], table.total)
        elif event[0] == "bit":
            encoder.encode_bit(models, event[1], event[2])
        elif event[0] == "tree":
            node = 1
            for i in range(event[2] - 1, -1, -1):
                bit = (event[3] >> i) & 1
                encoder.encode_bit(models, event[1] + node, bit)
                node = (node << 1) | bit
        else:
            encoder.encode_direct(event[1], event[2])
    return encoder.finish()


def test_carry_propagation_matches_exact_arithmetic(rc: ModuleType, big) -> None:
    """Carry-heavy streams (and mixed ones) give exactly the digits of the exact big integer."""
    rng = random.Random(16)
    for case in range(big(300, 40)):
        events = carry_events(rng, rng.randint(0, 300))
        payload, _ = encode_events(rc, events, SKEWED)
        assert payload == reference_payload(events, SKEWED), case
    for case in range(big(20, 4)):
        tables = random_tables(rng)
        events = mixed_events(rng, big(1000, 200), tables)
        payload, _ = encode_events(rc, events, tables)
        assert payload == reference_payload(events, tables), case


def test_carry_streams_round_trip(rc: ModuleType, big) -> None:
    """Thousands of short carry-heavy streams (very skewed frequencies) decode exactly."""
    rng = random.Random(17)
    for case in range(big(3000, 300)):
        events = carry_events(rng, rng.randint(0, 60))
        payload, _ = encode_events(rc, events, SKEWED)
        decoded, decoder, _ = decode_events(rc, payload, events, SKEWED)
        assert decoded == normalized(events), case
        decoder.finish()


def test_carry_streams_really_carry() -> None:
    """The carry test streams do carry, also through held-back 0xFF bytes (pure instrumented)."""
    source = pure(f"{PACKAGE}.rangecoder_kernel")

    class Counting(source.RangeEncoder):  # type: ignore[name-defined]
        carries = 0
        carries_over_ff = 0
        longest_hold = 0

        def _shift_low(self) -> None:
            if self.low >= 1 << 32:
                self.carries += 1
                self.carries_over_ff += self.pending >= 2
            self.longest_hold = max(self.longest_hold, self.pending)
            super()._shift_low()

    rng = random.Random(16)  # the seed of test_carry_propagation_matches_exact_arithmetic
    totals = [0, 0, 0]
    for _ in range(40):
        encoder = Counting()
        models = source.bit_models(MODEL_COUNT)
        for event in carry_events(rng, rng.randint(0, 300)):
            if event[0] == "symbol":
                table = SKEWED[event[1]]
                encoder.encode(table.cums[event[2]], table.freqs[event[2]], table.total)
            elif event[0] == "bit":
                encoder.encode_bit(models, event[1], event[2])
            else:
                encoder.encode_direct(event[1], event[2])
        encoder.finish()
        totals[0] += encoder.carries
        totals[1] += encoder.carries_over_ff
        totals[2] = max(totals[2], encoder.longest_hold)
    carries, over_ff, longest_hold = totals
    assert carries >= 100 and over_ff >= 3 and longest_hold >= 5, totals


# ---------------------------------------------------------------------------------------------
# frequencies_kernel: AdaptiveFrequencies


class ReferenceFrequencies:
    """Plain lists of counts per context: start at 1, +increment per update, halve (rounding
    up) when the total passes LIMIT - increment."""

    def __init__(self, symbols: int, increment: int) -> None:
        self.symbols = symbols
        self.increment = increment
        self.tables: dict[int, list[int]] = {}

    def counts(self, context: int) -> list[int]:
        return self.tables.setdefault(context, [1] * self.symbols)

    def update(self, context: int, symbol: int) -> bool:
        counts = self.counts(context)
        counts[symbol] += self.increment
        if sum(counts) > LIMIT - self.increment:
            counts[:] = [(c + 1) // 2 for c in counts]
            return True
        return False


def check_table(model, slot: int, counts: list[int], rng: random.Random,
                every_target: bool = False) -> None:
    """Every query of `model`'s table `slot` agrees with the plain `counts`."""
    total = sum(counts)
    assert model.total(slot) == total
    cum = 0
    for symbol, count in enumerate(counts):
        assert model.cumulative(slot, symbol) == cum, symbol
        assert model.count(slot, symbol) == count, symbol
        targets = {cum, cum + count - 1, cum + rng.randrange(count)}
        if every_target:
            targets = set(range(cum, cum + count))
        for target in targets:
            assert model.find(slot, target) == symbol, target
            assert model.found_cumulative == cum
        cum += count
    assert model.cumulative(slot, len(counts)) == total


@pytest.mark.parametrize("symbols, increment", [(4, 1024), (16, 1024), (2, 1), (256, 32),
                                                (64, 700), (4096, 24)])
def test_frequencies_match_reference(freq: ModuleType, big, symbols: int,
                                     increment: int) -> None:
    """total/cumulative/count/find agree with plain lists over many updates and halvings."""
    rng = random.Random(symbols * 10000 + increment)
    contexts = 3
    model = freq.AdaptiveFrequencies(contexts, symbols, increment)
    reference = ReferenceFrequencies(symbols, increment)
    favourites = [rng.randrange(symbols) for _ in range(3)]
    updates = big(3000, 600) if symbols <= 256 else big(400, 60)
    check_every = max(1, symbols // 8)
    halvings = 0
    for step in range(updates):
        context = rng.randrange(contexts)
        slot = model.table(context)
        symbol = rng.choice(favourites) if rng.random() < 0.7 else rng.randrange(symbols)
        model.update(slot, symbol)
        halvings += reference.update(context, symbol)
        counts = reference.counts(context)
        assert model.total(slot) == sum(counts)
        assert model.count(slot, symbol) == counts[symbol]
        if step % check_every == 0:
            check_table(model, slot, counts, rng)
    for context in range(contexts):
        check_table(model, model.table(context), reference.counts(context), rng)
    if increment >= 700:
        assert halvings >= big(50, 3)  # the halving path really ran, many times


def test_frequencies_find_every_target(freq: ModuleType) -> None:
    """find() is right for every target below the total of small tables, before and after
    halving."""
    rng = random.Random(18)
    for symbols, increment in [(2, 3), (4, 1), (8, 5), (16, 2)]:
        model = freq.AdaptiveFrequencies(1, symbols, increment)
        reference = ReferenceFrequencies(symbols, increment)
        slot = model.table(0)
        check_table(model, slot, reference.counts(0), rng, every_target=True)
        for _ in range(60):
            symbol = rng.randrange(symbols)
            model.update(slot, symbol)
            reference.update(0, symbol)
            check_table(model, slot, reference.counts(0), rng, every_target=True)
    # After halvings, with a large total (4 symbols, increment 1024).
    model = freq.AdaptiveFrequencies(1, 4, 1024)
    reference = ReferenceFrequencies(4, 1024)
    slot = model.table(0)
    for _ in range(100):
        symbol = rng.choice([0, 0, 0, 3])
        model.update(slot, symbol)
        reference.update(0, symbol)
    counts = reference.counts(0)
    cum = 0
    for symbol, count in enumerate(counts):
        for target in range(cum, cum + count, 7):
            assert model.find(slot, target) == symbol
        cum += count


def test_frequencies_halving_rounds_up(freq: ModuleType) -> None:
    """When the total would pass LIMIT the counts halve, rounding up, so none reaches zero."""
    model = freq.AdaptiveFrequencies(1, 4, 1024)
    slot = model.table(0)
    total = 4
    while total + 1024 <= LIMIT - 1024:  # fill up to just below the halving point
        model.update(slot, 0)
        total += 1024
    assert model.total(slot) == total
    assert [model.count(slot, s) for s in range(4)] == [total - 3, 1, 1, 1]
    model.update(slot, 0)  # the total passes LIMIT - increment: halve
    counts = [(total - 3 + 1024 + 1) // 2, 1, 1, 1]
    assert [model.count(slot, s) for s in range(4)] == counts
    assert model.total(slot) == sum(counts) <= LIMIT


def test_frequencies_halving_boundary_is_exact(freq: ModuleType) -> None:
    """A total of exactly LIMIT - increment is kept; only passing it halves the counts."""
    # 2 symbols, increment 923: 2 + 70 * 923 == 65535 - 923 exactly.
    model = freq.AdaptiveFrequencies(1, 2, 923)
    slot = model.table(0)
    for _ in range(70):
        model.update(slot, 1)
    assert model.total(slot) == LIMIT - 923
    assert [model.count(slot, 0), model.count(slot, 1)] == [1, 1 + 70 * 923]
    model.update(slot, 1)
    assert [model.count(slot, 0), model.count(slot, 1)] == [1, (2 + 71 * 923) // 2]
    assert model.total(slot) == 1 + (2 + 71 * 923) // 2


def test_frequencies_fresh_tables(freq: ModuleType) -> None:
    """A new table counts every symbol once; defaults are 256 symbols and increment 32."""
    model = freq.AdaptiveFrequencies(3)
    assert (model.symbols, model.increment, model.used) == (256, 32, 0)
    slot = model.table(2)
    assert model.total(slot) == 256
    assert [model.cumulative(slot, s) for s in (0, 1, 100, 255, 256)] == [0, 1, 100, 255, 256]
    assert all(model.count(slot, s) == 1 for s in range(256))
    model.update(slot, 7)
    assert model.count(slot, 7) == 33 and model.total(slot) == 288
    assert model.cumulative(slot, 8) == 8 + 32


def test_frequencies_tables_are_lazy_and_independent(freq: ModuleType) -> None:
    """Tables are created on first use, from a pool of `slots`; `used` counts them; contexts
    do not share counts."""
    model = freq.AdaptiveFrequencies(1000, 16, 100, 3)
    assert model.used == 0
    first = model.table(500)
    assert model.used == 1
    assert model.table(500) == first and model.used == 1
    second = model.table(7)
    third = model.table(999)
    assert model.used == 3
    assert len({first, second, third}) == 3 and {first, second, third} <= {0, 1, 2}
    for _ in range(50):
        model.update(second, 5)
    assert model.count(second, 5) == 1 + 50 * 100
    assert model.total(first) == model.total(third) == 16
    assert model.count(first, 5) == model.count(third, 5) == 1
    assert model.table(7) == second and model.used == 3


def test_frequencies_pool_grows_as_tables_are_used(freq: ModuleType) -> None:
    """The pool of tables is allocated as it fills (64, then doubling, at most `slots`), and
    tables created before it grew keep their counts."""
    model = freq.AdaptiveFrequencies(1 << 16, 256, 32, 1 << 16)
    assert model.allocated == 64
    first = model.table(12345)
    for _ in range(10):
        model.update(first, 200)
    for context in range(300):
        model.table(context)
    assert model.used == 301 and model.allocated == 512
    assert model.table(12345) == first
    assert model.count(first, 200) == 1 + 10 * 32 and model.total(first) == 256 + 10 * 32
    small = freq.AdaptiveFrequencies(1000, 16, 100, 100)
    for context in range(1000):
        small.table(context)
    assert small.used == small.allocated == 100  # never beyond `slots`


def test_frequencies_slots_default_to_contexts(freq: ModuleType) -> None:
    """With slots omitted (or larger than contexts) every context gets its own table."""
    for slots in [-1, 10, 50]:
        model = freq.AdaptiveFrequencies(10, 4, 1, slots)
        assert sorted(model.table(c) for c in range(10)) == list(range(10))
        assert model.used == 10


@pytest.mark.parametrize("symbols", [0, 1, 3, 6, 100, 255, 8192])
def test_frequencies_reject_bad_symbol_counts(freq: ModuleType, symbols: int) -> None:
    """symbols must be a power of two from 2 to 4096: anything else is a ValueError."""
    with pytest.raises(ValueError):
        freq.AdaptiveFrequencies(4, symbols)


@pytest.mark.parametrize("increment", [0, 1025, 5000])
def test_frequencies_reject_bad_increments(freq: ModuleType, increment: int) -> None:
    """increment must be from 1 to 1024."""
    with pytest.raises(ValueError):
        freq.AdaptiveFrequencies(4, 16, increment)


def test_frequencies_accept_extremes(freq: ModuleType) -> None:
    """2 and 4096 symbols, increments 1 and 1024, are all accepted."""
    for symbols in [2, 4096]:
        for increment in [1, 1024]:
            model = freq.AdaptiveFrequencies(2, symbols, increment)
            assert model.total(model.table(1)) == symbols


def test_frequencies_drive_the_range_coder(freq: ModuleType, rc: ModuleType, big) -> None:
    """An order-1 adaptive model over the range coder round-trips skewed bytes (as the
    arithmetic codec uses them)."""
    rng = random.Random(19)
    data = bytes(rng.choice(b"eeeeeeeetttaaoinshr \x00\xff") for _ in range(big(6000, 800)))
    model = freq.AdaptiveFrequencies(256, 256, 32, 64)
    encoder = rc.RangeEncoder()
    context = 0
    for byte in data:
        slot = model.table(context)
        encoder.encode(model.cumulative(slot, byte), model.count(slot, byte), model.total(slot))
        model.update(slot, byte)
        context = byte >> 2
    payload = encoder.finish()
    assert len(payload) < 0.6 * len(data)  # about 3.3 bits of entropy per byte
    model = freq.AdaptiveFrequencies(256, 256, 32, 64)
    decoder = rc.RangeDecoder(payload)
    out = bytearray()
    context = 0
    for _ in data:
        slot = model.table(context)
        byte = model.find(slot, decoder.decode_target(model.total(slot)))
        decoder.decode_consume(model.found_cumulative, model.count(slot, byte))
        model.update(slot, byte)
        out.append(byte)
        context = byte >> 2
    assert bytes(out) == data
    decoder.finish()


# ---------------------------------------------------------------------------------------------
# Compiled and pure agree


@pytest.fixture(scope="module")
def both() -> dict[str, dict[str, ModuleType]]:
    """{leaf: {variant: module}}."""
    return {leaf: {v: load(leaf, v) for v in VARIANTS} for leaf in KERNELS}


def test_variants_agree_on_bit_io(both) -> None:
    """BitWriter bytes, and gamma/delta codes, are identical compiled and pure."""
    rng = random.Random(22)
    fields = random_fields(rng, 1500)
    values = [max(1, rng.getrandbits(rng.randint(1, 56))) for _ in range(300)]
    outputs = {}
    for variant in VARIANTS:
        bitio = both["bitio_kernel"][variant]
        codes = both["integer_codes_kernel"][variant]
        writer = bitio.BitWriter(1)
        for value, nbits in fields:
            writer.write(value, nbits)
        for value in values:
            codes.write_gamma(writer, value)
            codes.write_delta(writer, value)
            writer.write(codes.zigzag(-value), 56)
        outputs[variant] = writer.finish()
    assert outputs["compiled"] == outputs["pure"]
    assert len(outputs["compiled"]) > 1000


def test_variants_agree_on_range_coder(both) -> None:
    """RangeEncoder payloads are identical compiled and pure, for mixed and carry-heavy input."""
    rng = random.Random(23)
    tables = random_tables(rng)
    streams = [(mixed_events(rng, 800, tables), tables)]
    streams += [(carry_events(rng, 300), SKEWED) for _ in range(5)]
    for events, tabs in streams:
        payloads = {v: encode_events(both["rangecoder_kernel"][v], events, tabs)[0]
                    for v in VARIANTS}
        assert payloads["compiled"] == payloads["pure"]


def test_variants_agree_on_frequencies(both) -> None:
    """AdaptiveFrequencies states evolve identically compiled and pure."""
    rng = random.Random(24)
    updates = [(rng.randrange(3), rng.randrange(16)) for _ in range(500)]
    snapshots = {}
    for variant in VARIANTS:
        model = both["frequencies_kernel"][variant].AdaptiveFrequencies(3, 16, 900)
        history = []
        for context, symbol in updates:
            slot = model.table(context)
            model.update(slot, symbol)
            history.append((slot, model.total(slot), model.cumulative(slot, symbol),
                            model.find(slot, model.total(slot) // 2)))
        snapshots[variant] = history
    assert snapshots["compiled"] == snapshots["pure"]


# ---------------------------------------------------------------------------------------------
# encode_bit_p / decode_bit_p, and the models that drive them: counters_inline (a counter with
# state) and apm_inline (secondary estimation). These are inline C functions for the kernels
# that cimport them, which Python cannot call: the tests here run their pure twins, and
# tests/test_bwt.py's test_compiled_and_pure_agree checks the compiled ones through the bwt
# stages that use both (byte-identical payloads, compiled and pure).


def test_bits_with_given_probabilities_round_trip(rc: ModuleType, big) -> None:
    """Bits coded with caller-given 16-bit probabilities, mixed with adaptive bits, decode
    exactly; the stream costs the ideal -log2 of the probabilities, plus a few bytes."""
    rng = random.Random(21)
    events = []
    for _ in range(big(20000, 2000)):
        p0 = rng.choice([1, 2, 100, 32768, 65000, 65535, rng.randrange(1, 1 << 16)])
        events.append((p0, int(rng.random() >= p0 / 65536)))
    encoder = rc.RangeEncoder()
    models = rc.bit_models(1)
    for p0, bit in events:
        encoder.encode_bit_p(p0, bit)
        encoder.encode_bit(models, 0, bit)
    payload = encoder.finish()
    decoder = rc.RangeDecoder(payload)
    models = rc.bit_models(1)
    for p0, bit in events:
        assert decoder.decode_bit_p(p0) == bit
        assert decoder.decode_bit(models, 0) == bit
    decoder.finish()
    ideal = sum(-math.log2(p0 / 65536 if bit == 0 else 1 - p0 / 65536) for p0, bit in events)
    only_p = rc.RangeEncoder()
    for p0, bit in events:
        only_p.encode_bit_p(p0, bit)
    assert len(only_p.finish()) <= ideal / 8 * 1.001 + 8


def test_counter_rates_and_limits() -> None:
    """rates[n] = 2**17 div (2n + start) for n up to the limit (start 3: 1/(n + 1.5)); a
    limit above 255 does not fit the cell's 8 bits of n."""
    from pyarc_plugins.coding.counters_inline import counter_rates

    assert list(counter_rates(3, 4)) == [43690, 26214, 18724, 14563, 11915]
    assert list(counter_rates(16, 1)) == [8192, 7281]
    assert len(counter_rates(3, 255)) == 256
    for limit in (-1, 256):
        with pytest.raises(ValueError):
            counter_rates(3, limit)


def test_counters_count_then_forget() -> None:
    """The first bit moves a fresh counter 1/1.5 of the way, the next 1/2.5, ...; after `limit`
    bits the rate stays 1/(limit + 1.5); p stays in [1, 2**bits - 1], in 16 and 22 bits."""
    from pyarc_plugins.coding.counters_inline import (
        counter_cell,
        counter_learn,
        counter_p,
        counter_rates,
    )

    rates = counter_rates(3, 2)
    fresh = counter_cell(32768)
    assert (counter_p(fresh), fresh & 0xFF) == (32768, 0)
    assert counter_p(counter_learn(fresh, 0, rates, 2, 16)) == 32768 + (32768 * 43690 >> 16)
    assert counter_p(counter_learn(fresh, 1, rates, 2, 16)) == 32768 - (32768 * 43690 >> 16)
    cell = counter_learn(counter_learn(fresh, 1, rates, 2, 16), 1, rates, 2, 16)
    assert cell & 0xFF == 2  # at the limit: the rate 1/3.5 from here on, and n stays
    before = counter_p(cell)
    cell = counter_learn(cell, 1, rates, 2, 16)
    assert (counter_p(cell), cell & 0xFF) == (before - (before * (2 * 65536 // 7) >> 16), 2)
    for bits in (16, 22):
        zeros = ones = counter_cell(1 << (bits - 1))
        for _ in range(5000):
            zeros = counter_learn(zeros, 0, rates, 2, bits)
            ones = counter_learn(ones, 1, rates, 2, bits)
        assert (1 << bits) * 0.999 < counter_p(zeros) <= (1 << bits) - 1
        assert 1 <= counter_p(ones) < (1 << bits) * 0.001


def test_counters_learn_a_fresh_context_fast(rc: ModuleType) -> None:
    """200 zeros cost under 4 bytes under a counter with state (limit 30)."""
    from pyarc_plugins.coding.counters_inline import (
        counter_cell,
        counter_learn,
        counter_p,
        counter_rates,
    )

    rates = counter_rates(3, 30)
    cell = counter_cell(32768)
    encoder = rc.RangeEncoder()
    for _ in range(200):
        encoder.encode_bit_p(counter_p(cell), 0)
        cell = counter_learn(cell, 0, rates, 30, 16)
    assert len(encoder.finish()) < 4


def test_apm_starts_as_the_identity_and_learns() -> None:
    """refine(p, ctx) is p (within rounding) until learned; a context whose bits are all 1
    learns to say so, and other contexts are untouched; one learning step moves the two
    entries around p 2**-shift of the way, rounded towards where they were."""
    from pyarc_plugins.coding.apm_inline import apm_learn, apm_refine, apm_slot, apm_table

    table = apm_table(2)
    assert len(table) == 2 * 33 and table[:3].tolist() == [1, 2048, 4096]
    assert table[32] == table[65] == 65535
    for p0 in [1, 100, 2048, 30000, 32768, 65535]:
        for context in (0, 1):
            assert abs(apm_refine(table, apm_slot(p0, context), p0) - p0) <= 1
    slot = apm_slot(40000, 0)
    assert slot == 40000 >> 11
    apm_learn(table, slot, 0, 6)
    assert table[slot : slot + 2].tolist() == [
        a + ((65535 - a) >> 6) for a in ((40000 >> 11) * 2048, ((40000 >> 11) + 1) * 2048)]
    for _ in range(2000):
        slot = apm_slot(40000, 0)
        apm_refine(table, slot, 40000)
        apm_learn(table, slot, 1, 6)
    assert apm_refine(table, apm_slot(40000, 0), 40000) < 500
    assert abs(apm_refine(table, apm_slot(40000, 1), 40000) - 40000) <= 1
    assert apm_refine(table, apm_slot(1, 0), 1) >= 1
    assert apm_refine(table, apm_slot(65535, 1), 65535) <= 65535


def test_range_coder_codes_each_decision_once_for_both_directions(rc: ModuleType) -> None:
    """Through rangecoder_inline's code_* functions, one sequence of calls
    encodes (returning the values given) the payload the encoder's own methods write, and
    decodes it (returning the values coded)."""
    from pyarc_plugins.coding import rangecoder_inline as steps

    rng = random.Random(5)
    events = [(rng.randrange(1, 65535), rng.getrandbits(1), rng.getrandbits(1), rng.getrandbits(4),
               rng.getrandbits(7), rng.randrange(10)) for _ in range(300)]

    def decisions(coder, probs):
        got = []
        for p0, bit, model_bit, tree, direct, symbol in events:
            target = steps.code_target(coder, 10)
            symbol = symbol if steps.encoding(coder) else target
            steps.code_range(coder, symbol, 1, 10)
            got.append((p0, steps.code_bit(coder, p0, bit),
                        steps.code_model_bit(coder, probs, 0, model_bit),
                        steps.code_tree(coder, probs, 1, 4, tree),
                        steps.code_direct(coder, direct, 7), symbol))
        return got

    direct = rc.RangeEncoder()
    probs = rc.bit_models(17)
    for p0, bit, model_bit, tree, value, symbol in events:
        direct.encode(symbol, 1, 10)
        direct.encode_bit_p(p0, bit)
        direct.encode_bit(probs, 0, model_bit)
        direct.encode_tree(probs, 1, 4, tree)
        direct.encode_direct(value, 7)
    encoder = rc.RangeEncoder()
    assert decisions(encoder, rc.bit_models(17)) == events
    payload = encoder.finish()
    assert payload == direct.finish()
    decoder = rc.RangeDecoder(payload)
    assert decisions(decoder, rc.bit_models(17)) == events
    decoder.finish()
