"""The `lzw` codec (plugins/lzw): LZW with truncated binary codes of up to max_bits bits and a
CLEAR when the compression ratio falls.

What is checked: the payload is exactly what a plain-Python reference of the documented format
and reset policy writes (a dict of byte strings, written here from spec/codecs/lzw.md);
losslessness on edge cases (empty, one byte, KwKwK, runs, all 256 values, random data) and on
data that fills the dictionary and makes the encoder clear it, for every max_bits; the size
target and losslessness on the Calgary corpus; the decoder's answer to malformed payloads (each
documented error, random bytes, truncations, bit flips, appended bytes: CodecError or exactly
`size` bytes, never another exception); compiled and pure-Python kernels agree; the archive
API and the CLI. All randomness is seeded.
"""

from __future__ import annotations

import functools
import importlib
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from conftest import (
    CALGARY_14,
    CALGARY_FILES,
    RunCli,
    assert_one_error_line,
    corpus_file,
    tree_snapshot,
)
from pure_kernels import pure

import archiver
from archiver import CodecError, UsageError
from pyarc_plugins.lzw import LzwCodec

KERNEL = "pyarc_plugins.lzw.lzw_kernel"
CLEAR = 256
FIRST = 257
CHECK_GAP = 5000  # the reset policy, as plugins/lzw/__init__.py documents it
TOLERANCE = (9, 10)
ALL_MAX_BITS = list(range(9, 21))

# ---------------------------------------------------------------------------------------------
# A reference of the payload format, from spec/codecs/lzw.md, in plain Python


def code_bits(value: int, n: int) -> tuple[int, int]:
    """(code word, bits) of `value` in truncated binary for a range of n values."""
    k = n.bit_length() - 1
    u = (2 << k) - n
    return (value, k) if value < u else (value + u, k + 1)


def pack(codes: list[tuple[int, int]]) -> bytes:
    """(value, range) pairs as a bit stream, most significant bit first, zero padded."""
    acc = bits = 0
    for value, n in codes:
        word, width = code_bits(value, n)
        acc = (acc << width) | word
        bits += width
    padding = -bits % 8
    return (acc << padding).to_bytes((bits + padding) // 8, "big")


def reference_codes(data: bytes, max_bits: int) -> list[tuple[int, int]]:
    """The (code, range) pairs the documented encoder writes for `data`: greedy longest match
    in a dict of byte strings, and the documented reset policy."""
    limit = 1 << max_bits
    out: list[tuple[int, int]] = []
    table = {bytes([b]): b for b in range(256)}
    n = FIRST
    bits = 0
    checkpoint = window_in = window_bits = best_in = 0
    best_bits = 1

    def emit(code: int) -> None:
        nonlocal bits
        out.append((code, n))
        bits += code_bits(code, n)[1]

    w = data[:1]
    for i in range(1, len(data)):
        c = data[i : i + 1]
        if w + c in table:
            w += c
            continue
        emit(table[w])
        if n < limit:
            table[w + c] = n
            n += 1
            if n == limit:
                checkpoint, window_in, window_bits = i + CHECK_GAP, i, bits
                best_in, best_bits = 0, 1
        elif i >= checkpoint:
            gained, spent = i - window_in, bits - window_bits
            checkpoint, window_in, window_bits = i + CHECK_GAP, i, bits
            if gained * best_bits > best_in * spent:
                best_in, best_bits = gained, spent
            elif TOLERANCE[1] * gained * best_bits < TOLERANCE[0] * best_in * spent:
                emit(CLEAR)
                table = {bytes([b]): b for b in range(256)}
                n = FIRST
        w = c
    emit(table[w])
    return out


def reference_encode(data: bytes, max_bits: int) -> bytes:
    return pack(reference_codes(data, max_bits)) if data else b""


def read_codes(payload: bytes, max_bits: int) -> list[int]:
    """The codes of a well-formed payload, read by the documented rules for the code range
    (which depends only on how many codes came since the start or the last CLEAR)."""
    codes = []
    n = FIRST
    acc = have = pos = 0
    left = 8 * len(payload)
    while left >= 8:  # a code has at least 8 bits, the padding at most 7
        k = n.bit_length() - 1
        u = (2 << k) - n
        while have < k + 1:  # past the end, read zeros
            acc = (acc << 8) | (payload[pos] if pos < len(payload) else 0)
            pos += 1
            have += 8
        peek = acc >> (have - k - 1)
        code, width = (peek >> 1, k) if peek >> 1 < u else (peek - u, k + 1)
        have -= width
        acc &= (1 << have) - 1
        left -= width
        codes.append(code)
        n = FIRST if code == CLEAR else min(n + 1, 1 << max_bits)
    return codes


def reference_decode(payload: bytes, max_bits: int) -> bytes:
    """Textbook LZW decoding of a well-formed payload: a list of byte strings."""
    out = bytearray()
    table: list[bytes] = []
    previous = b""
    for code in read_codes(payload, max_bits):
        if code == CLEAR:
            table, previous = [], b""
            continue
        known = FIRST + len(table)
        string = bytes([code]) if code < 256 else (
            table[code - FIRST] if code < known else previous + previous[:1])
        if previous and known < 1 << max_bits:
            table.append(previous + string[:1])
        out += string
        previous = string
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# Inputs


def words_text(size: int, seed: int, vocabulary: int = 3000) -> bytes:
    """Text-like data: random words of 2 to 9 letters, spaces and newlines."""
    rng = random.Random(seed)
    words = [bytes(rng.choices(b"etaoinshrdlucmfwypvbgkjqxz", k=rng.randint(2, 9)))
             for _ in range(vocabulary)]
    parts: list[bytes] = []
    total = 0
    while total < size:
        word = rng.choice(words) + (b"\n" if rng.random() < 0.1 else b" ")
        parts.append(word)
        total += len(word)
    return b"".join(parts)[:size]


TEXT = (b"It was the best of times, it was the worst of times, it was the age of wisdom, it was "
        b"the age of foolishness, it was the epoch of belief, it was the epoch of incredulity.\n")

EDGE_CASES: dict[str, Callable[[], bytes]] = {
    "one-byte-A": lambda: b"A",
    "one-byte-00": lambda: b"\x00",
    "one-byte-ff": lambda: b"\xff",
    "two-bytes": lambda: b"ab",
    "two-equal": lambda: b"zz",
    "kwkwk-aaa": lambda: b"aaa",
    "kwkwk-ab-x5000": lambda: b"ab" * 5000,
    "kwkwk-abc-x3000": lambda: b"abc" * 3000,
    "kwkwk-nested": lambda: b"".join(b"ab" * k + b"a" * k for k in range(1, 200)),
    "run-100000": lambda: b"a" * 100_000,
    "run-00-300000": lambda: b"\x00" * 300_000,
    "runs-of-all-bytes": lambda: b"".join(bytes([b]) * (b + 1) for b in range(256)),
    "all-256-once": lambda: bytes(range(256)),
    "all-256-reversed": lambda: bytes(range(255, -1, -1)),
    "all-256-x64-cyclic": lambda: bytes(range(256)) * 64,
    "all-256-x64-shuffled": lambda: bytes(random.Random(1).sample(bytes(range(256)) * 64,
                                                                  256 * 64)),
    "random-1000": lambda: random.Random(2).randbytes(1000),
    "random-100000": lambda: random.Random(3).randbytes(100_000),
    "text": lambda: TEXT * 40,
    "words-60000": lambda: words_text(60_000, 4),
}


@functools.cache
def edge(name: str) -> bytes:
    return EDGE_CASES[name]()


@functools.cache
def mixed(size: int, seed: int) -> bytes:
    """Text, then random bytes, then other text: a change of data that warrants a CLEAR."""
    third = size // 3
    return (words_text(third, seed) + random.Random(seed).randbytes(third)
            + words_text(size - 2 * third, seed + 1, vocabulary=300))


# ---------------------------------------------------------------------------------------------
# 1. The format: documented cases and the reference


def test_empty_block() -> None:
    """An empty block encodes to b"" and b"" decodes to an empty block, for every max_bits."""
    for max_bits in ALL_MAX_BITS:
        codec = LzwCodec(max_bits=max_bits)
        assert codec.encode(b"") == b""
        assert codec.decode(b"", 0) == b""


@pytest.mark.parametrize(("data", "payload"), [
    (b"aaaa", "61 ff b0 80"),  # the spec's example: 97, 257 (KwKwK), 97
    (b"ababab", "61 62 ff 7f 40"),  # 97, 98, 257 (n = 259: 510 in 9 bits), 257 (509)
    (b"A", "41"),
])
def test_documented_small_payloads(data: bytes, payload: str) -> None:
    """Tiny inputs give exactly the payloads worked out by hand from spec/codecs/lzw.md."""
    assert LzwCodec().encode(data).hex(" ") == payload
    assert LzwCodec().decode(bytes.fromhex(payload), len(data)) == data


def test_code_width_table() -> None:
    """Truncated binary widths match the spec's table: n = 257 gives 8 bits to 0..254 and
    9 to 255, 256; n = 512 gives 9 to all; n = 513 gives 10 to 511, 512."""
    assert code_bits(254, 257)[1] == 8 and code_bits(255, 257)[1] == 9
    assert code_bits(256, 257) == (511, 9)
    assert code_bits(0, 511)[1] == 8 and code_bits(1, 511)[1] == 9
    assert {code_bits(v, 512)[1] for v in range(512)} == {9}
    assert code_bits(510, 513)[1] == 9 and code_bits(511, 513)[1] == 10
    assert {code_bits(v, 1 << 16)[1] for v in (0, 256, 65535)} == {16}


@pytest.mark.parametrize("name", ["one-byte-A", "kwkwk-aaa", "kwkwk-ab-x5000", "kwkwk-nested",
                                  "runs-of-all-bytes", "all-256-x64-shuffled", "random-1000",
                                  "text", "words-60000"])
@pytest.mark.parametrize("max_bits", [9, 12, 16])
def test_payload_matches_reference(name: str, max_bits: int) -> None:
    """The kernel writes exactly the reference encoder's payload, and the textbook reference
    decoder reads it back."""
    data = edge(name)
    payload = LzwCodec(max_bits=max_bits).encode(data)
    assert payload == reference_encode(data, max_bits)
    assert reference_decode(payload, max_bits) == data


# ---------------------------------------------------------------------------------------------
# 2. Losslessness


@pytest.mark.parametrize("name", list(EDGE_CASES))
@pytest.mark.parametrize("max_bits", [9, 12, 16, 20])
def test_round_trip_edge_cases(name: str, max_bits: int) -> None:
    """decode(encode(x)) == x on each edge case, deterministically, and a fresh instance (as
    the archive reader builds one) decodes it too."""
    data = edge(name)
    codec = LzwCodec(max_bits=max_bits)
    payload = codec.encode(data)
    assert codec.decode(payload, len(data)) == data
    assert codec.encode(data) == payload
    assert LzwCodec(**codec.options).decode(payload, len(data)) == data


@pytest.mark.parametrize("max_bits", ALL_MAX_BITS)
def test_every_max_bits_round_trips(max_bits: int) -> None:
    """Every max_bits from 9 to 20 round-trips mixed data, and its payload is the reference's."""
    data = mixed(30_000, max_bits)
    codec = LzwCodec(max_bits=max_bits)
    payload = codec.encode(data)
    assert codec.decode(payload, len(data)) == data
    assert payload == reference_encode(data, max_bits)


@functools.cache
def filling(max_bits: int) -> bytes:
    """Random letters of a 16-letter alphabet (new strings all the time: the dictionary fills
    after about 4 bytes per entry, and then holds its ratio for a while), then random bytes
    (the ratio falls), then letters again."""
    rng = random.Random(max_bits)
    letters = b"abcdefghijklmnop"
    return (bytes(rng.choices(letters, k=(4 << max_bits) + 4 * CHECK_GAP))
            + rng.randbytes(4 * CHECK_GAP) + bytes(rng.choices(letters, k=4 * CHECK_GAP)))


@pytest.mark.parametrize("max_bits", [9, 12, 16])
def test_full_dictionary_and_clear(max_bits: int) -> None:
    """Data that fills the dictionary and then changes: the encoder writes CLEAR (at least one,
    only when the dictionary is full) and the block still round-trips."""
    data = filling(max_bits)
    codec = LzwCodec(max_bits=max_bits)
    payload = codec.encode(data)
    codes = read_codes(payload, max_bits)
    assert CLEAR in codes
    since_clear = 0
    for code in codes:
        if code == CLEAR:
            assert FIRST + since_clear >= 1 << max_bits, "CLEAR before the dictionary is full"
            since_clear = 0
        else:
            since_clear += 1
    assert codec.decode(payload, len(data)) == data


def test_homogeneous_data_is_not_cleared() -> None:
    """Text of one kind that fills the dictionary many times over is never cleared: the ratio
    holds, so the full dictionary is kept."""
    data = words_text(200_000, 9, vocabulary=200)
    payload = LzwCodec(max_bits=12).encode(data)
    codes = read_codes(payload, 12)
    assert len(codes) > 4 * 4096
    assert CLEAR not in codes
    assert LzwCodec(max_bits=12).decode(payload, len(data)) == data


def test_larger_dictionary_compresses_text_better() -> None:
    """On 300 kB of text, max_bits 12 < 14 < 16 in payload size (more strings, more matches)."""
    data = words_text(300_000, 5)
    sizes = [len(LzwCodec(max_bits=bits).encode(data)) for bits in (12, 14, 16)]
    assert sizes[0] > sizes[1] > sizes[2], sizes


def test_incompressible_data_grows_little() -> None:
    """Random bytes grow by at most 40% (mostly 9-bit literals, then longer codes), and a run
    of one byte shrinks to under 1% at max_bits 16."""
    data = edge("random-100000")
    assert len(LzwCodec().encode(data)) <= 1.4 * len(data)
    assert len(LzwCodec().encode(edge("run-100000"))) < 0.01 * 100_000


# ---------------------------------------------------------------------------------------------
# 3. The Calgary corpus

@functools.cache
def corpus_payload(directory: Path, name: str, max_bits: int = 16) -> bytes:
    return LzwCodec(max_bits=max_bits).encode(corpus_file(directory, name))


@pytest.mark.corpus
def test_corpus_total_bpc(corpus_dir: Path) -> None:
    """lzw (max_bits 16) over the 14 classic Calgary files: total <= 3.10 bits per byte (unix
    compress, 16-bit LZW, reaches 3.241; this codec measured 3.089)."""
    raw = sum(len(corpus_file(corpus_dir, name)) for name in CALGARY_14)
    packed = sum(len(corpus_payload(corpus_dir, name)) for name in CALGARY_14)
    bpc = 8 * packed / raw
    assert bpc <= 3.10, f"lzw: {bpc:.4f} bpc"


@pytest.mark.corpus
@pytest.mark.parametrize("name", CALGARY_FILES)
def test_corpus_round_trip(corpus_dir: Path, name: str) -> None:
    """decode(encode(x)) == x for every Calgary file at max_bits 16 and 12."""
    data = corpus_file(corpus_dir, name)
    assert LzwCodec().decode(corpus_payload(corpus_dir, name), len(data)) == data
    assert LzwCodec(max_bits=12).decode(corpus_payload(corpus_dir, name, 12), len(data)) == data


# ---------------------------------------------------------------------------------------------
# 4. Malformed payloads


def decode_or_codec_error(codec: LzwCodec, payload: bytes, size: int) -> bytes | None:
    """Decode; None on CodecError. Any other exception fails the test. If it returns, the
    result is bytes of exactly `size`."""
    try:
        out = codec.decode(payload, size)
    except CodecError:
        return None
    assert isinstance(out, bytes), type(out)
    assert len(out) == size, (len(out), size)
    return out


def full_then(max_bits: int, tail: list[int]) -> tuple[bytes, int]:
    """A payload whose codes fill the dictionary (one literal after another) and then go on
    with `tail` (codes; CLEAR resets the range), and the size of the data before the tail."""
    limit = 1 << max_bits
    codes = [(ord("a") + i % 3, min(FIRST + i, limit)) for i in range(limit - FIRST + 1)]
    n = limit
    for code in tail:
        codes.append((code, n))
        n = FIRST if code == CLEAR else min(n + 1, limit)
    return pack(codes), limit - FIRST + 1


def test_clear_at_the_start_is_rejected() -> None:
    """CLEAR as the first code (the dictionary is empty, not full) raises CodecError."""
    with pytest.raises(CodecError, match="CLEAR before the dictionary is full"):
        LzwCodec().decode(pack([(CLEAR, FIRST), (97, FIRST)]), 1)


def test_clear_before_full_is_rejected() -> None:
    """CLEAR after a few codes, with the dictionary far from full, raises CodecError."""
    payload = pack([(97, 257), (98, 258), (CLEAR, 259), (97, FIRST)])
    with pytest.raises(CodecError, match="CLEAR before the dictionary is full"):
        LzwCodec().decode(payload, 3)


def test_clear_when_full_is_accepted_and_double_clear_rejected() -> None:
    """At max_bits 9, CLEAR after the dictionary filled is valid; a second CLEAR right after it
    (an empty dictionary) raises CodecError."""
    payload, size = full_then(9, [CLEAR, ord("z")])
    out = LzwCodec(max_bits=9).decode(payload, size + 1)
    assert out == reference_decode(payload, 9) and out.endswith(b"z")
    payload, size = full_then(9, [CLEAR, CLEAR, ord("z")])
    with pytest.raises(CodecError, match="CLEAR before the dictionary is full"):
        LzwCodec(max_bits=9).decode(payload, size + 1)


def test_string_longer_than_block_is_rejected() -> None:
    """A valid payload decoded with a size that ends inside a string raises CodecError (the
    decoder never writes past `size`)."""
    payload = LzwCodec().encode(b"ababab")  # a, b, ab, ab
    with pytest.raises(CodecError, match="overflows the block"):
        LzwCodec().decode(payload, 5)


def test_payload_ending_early_is_rejected() -> None:
    """A valid payload decoded with a larger size runs out of codes: CodecError 'ends early'."""
    payload = LzwCodec().encode(TEXT)
    with pytest.raises(CodecError, match="ends early"):
        LzwCodec().decode(payload, len(TEXT) + 1)
    with pytest.raises(CodecError, match="ends early"):
        LzwCodec().decode(b"", 1)


def test_trailing_bytes_and_padding_are_rejected() -> None:
    """Bytes after the last code, or nonzero padding bits, raise CodecError."""
    data = b"ababab"  # 8 + 8 + 9 + 9 = 34 bits: 6 bits of padding
    payload = LzwCodec().encode(data)
    for extra in (b"\x00", b"\x80", b"\x00\x00"):
        with pytest.raises(CodecError, match="left over"):
            LzwCodec().decode(payload + extra, len(data))
    with pytest.raises(CodecError, match="nonzero padding"):
        LzwCodec().decode(payload[:-1] + bytes([payload[-1] | 1]), len(data))


def test_nonempty_payload_for_empty_block_is_rejected() -> None:
    """A block of size 0 must have an empty payload: anything else is CodecError."""
    for payload in (b"\x00", b"\x61", LzwCodec().encode(b"abc")):
        with pytest.raises(CodecError):
            LzwCodec().decode(payload, 0)


SMALL_INPUTS = {
    "text": TEXT * 3,
    "kwkwk": b"ab" * 300 + b"a" * 200,
    "binary": random.Random(8).randbytes(200) + bytes(range(0, 256, 3)),
}


@pytest.mark.parametrize("max_bits", [9, 16])
@pytest.mark.parametrize("name", list(SMALL_INPUTS))
def test_single_byte_corruption(name: str, max_bits: int) -> None:
    """Every single-byte corruption (xor 0x01, 0x10, 0x80, 0xff) of a small valid payload gives
    CodecError or `size` bytes, never another exception, and some are detected."""
    codec = LzwCodec(max_bits=max_bits)
    data = SMALL_INPUTS[name]
    payload = codec.encode(data)
    rejected = 0
    for position in range(len(payload)):
        for mask in (0x01, 0x10, 0x80, 0xFF):
            corrupt = bytearray(payload)
            corrupt[position] ^= mask
            rejected += decode_or_codec_error(codec, bytes(corrupt), len(data)) is None
    assert rejected > 0


@pytest.mark.parametrize("name", list(SMALL_INPUTS))
def test_truncated_payloads(name: str) -> None:
    """Every proper prefix of a small valid payload gives CodecError or `size` bytes of wrong
    data, never another exception; the empty prefix is always CodecError."""
    data = SMALL_INPUTS[name]
    payload = LzwCodec().encode(data)
    for end in range(len(payload)):
        out = decode_or_codec_error(LzwCodec(), payload[:end], len(data))
        if end == 0:
            assert out is None
        if out is not None:
            assert out != data, f"a prefix of {end}/{len(payload)} bytes decodes to the data"


@pytest.mark.parametrize("name", ["one-byte-A", "two-bytes", "kwkwk-aaa", "text", "random-1000",
                                  "all-256-once", "run-100000"])
def test_appended_byte_is_rejected(name: str) -> None:
    """A valid payload plus one byte (0x00, 0x01, 0x80 or 0xff) raises CodecError: the
    decoder stops at `size` bytes and a whole byte after the last code is never padding."""
    data = edge(name)
    payload = LzwCodec().encode(data)
    for extra in (0x00, 0x01, 0x80, 0xFF):
        with pytest.raises(CodecError):
            LzwCodec().decode(payload + bytes([extra]), len(data))


@pytest.mark.parametrize("name", list(SMALL_INPUTS))
def test_wrong_size_gives_codec_error_or_size_bytes(name: str) -> None:
    """A valid payload decoded with a wrong size (-1, +1, +1000, half, double) gives CodecError
    or exactly that many bytes."""
    data = SMALL_INPUTS[name]
    payload = LzwCodec().encode(data)
    for size in (len(data) - 1, len(data) + 1, len(data) + 1000, len(data) // 2, 2 * len(data)):
        decode_or_codec_error(LzwCodec(), payload, size)


@pytest.mark.parametrize("max_bits", [9, 12, 16, 20])
def test_random_payloads_raise_codec_error_or_decode(max_bits: int) -> None:
    """Random payloads (0..3000 bytes, some starting like a valid payload, some all zeros or
    all ones) with sizes 1..200000 give CodecError or exactly `size` bytes, quickly."""
    rng = random.Random(max_bits)
    codec = LzwCodec(max_bits=max_bits)
    headers = [codec.encode(data)[:60] for data in (TEXT * 3, edge("kwkwk-ab-x5000"))]
    started = time.perf_counter()
    for i in range(150):
        payload = rng.randbytes(rng.choice([0, 1, 2, 3, 5, rng.randint(0, 64),
                                            rng.randint(0, 3000)]))
        if i % 10 == 0:
            payload = bytes(len(payload))
        elif i % 10 == 1:
            payload = b"\xff" * len(payload)
        elif i % 5 == 2:
            payload = rng.choice(headers)[: rng.randint(1, 60)] + payload
        size = rng.choice([1, 2, 3, rng.randint(1, 300), rng.randint(1, 200_000), 200_000])
        decode_or_codec_error(codec, payload, size)
    assert time.perf_counter() - started < 20  # a hang guard, not a speed measurement


def test_garbage_with_the_largest_block_size_fails_fast() -> None:
    """A valid start followed by random bytes, declared as a 64 MiB block: the decoder runs
    out of payload (or meets an impossible code) long before 64 MiB."""
    rng = random.Random(5)
    header = LzwCodec().encode(TEXT * 3)[:40]
    started = time.perf_counter()
    for _ in range(5):
        with pytest.raises(CodecError, match="early|corrupt"):
            LzwCodec().decode(header + rng.randbytes(rng.randint(1, 3000)), 64 << 20)
    assert time.perf_counter() - started < 10  # a hang guard, not a speed measurement


def test_kernel_rejects_max_bits_out_of_range() -> None:
    """The kernel itself refuses max_bits outside 9..20 (ValueError), for direct callers."""
    kernel = importlib.import_module(KERNEL)
    for max_bits in (8, 21):
        with pytest.raises(ValueError):
            kernel.encode(b"abc", max_bits)
        with pytest.raises(ValueError):
            kernel.decode(b"abc", 3, max_bits)


# ---------------------------------------------------------------------------------------------
# 5. Compiled kernels agree with their pure-Python sources

AGREEMENT_INPUTS = {
    "one-byte": b"A",
    "two-bytes": b"ab",
    "kwkwk": b"ab" * 200 + b"a" * 100,
    "all-256": bytes(range(256)) * 2,
    "text": TEXT * 8,
    "random": random.Random(6).randbytes(2000),
    "clears-at-9-bits": mixed(24_000, 3),
}


def compiled_kernel() -> ModuleType:
    module = importlib.import_module(KERNEL)
    path = module.__file__ or ""
    if path.endswith(".py"):
        pytest.skip(f"{KERNEL} is not compiled (it loads from {path}): nothing to compare with")
    return module


def test_agreement_inputs_include_a_clear() -> None:
    """The largest agreement input makes the encoder write CLEAR at max_bits 9."""
    payload = LzwCodec(max_bits=9).encode(AGREEMENT_INPUTS["clears-at-9-bits"])
    assert CLEAR in read_codes(payload, 9)


@pytest.mark.parametrize("name", list(AGREEMENT_INPUTS))
@pytest.mark.parametrize("max_bits", [9, 12, 16])
def test_kernel_compiled_matches_pure(name: str, max_bits: int) -> None:
    """The compiled and the pure-Python kernel write identical payloads and each decodes the
    other's."""
    compiled = compiled_kernel()
    source = pure(KERNEL)
    # pure() leaves the codec's own kernel (an attribute of its package) compiled.
    assert importlib.import_module("pyarc_plugins.lzw").lzw_kernel is compiled
    data = AGREEMENT_INPUTS[name]
    payload = compiled.encode(data, max_bits)
    assert source.encode(data, max_bits) == payload
    assert source.decode(payload, len(data), max_bits) == data
    assert compiled.decode(payload, len(data), max_bits) == data


def test_pure_kernel_rejects_garbage_like_compiled() -> None:
    """The pure kernel raises the same CodecErrors as the compiled one on malformed payloads."""
    source = pure(KERNEL)
    compiled = importlib.import_module(KERNEL)
    payload = LzwCodec().encode(TEXT)
    cases = [(payload[: len(payload) // 2], len(TEXT)), (payload + b"\x00", len(TEXT)),
             (pack([(97, 257), (98, 258), (CLEAR, 259), (97, FIRST)]), 3),
             (LzwCodec().encode(b"ababab"), 5)]
    for bad, size in cases:
        with pytest.raises(CodecError) as from_compiled:
            compiled.decode(bad, size, 16)
        with pytest.raises(CodecError) as from_source:
            source.decode(bad, size, 16)
        assert str(from_source.value) == str(from_compiled.value)


# ---------------------------------------------------------------------------------------------
# 6. Through the archive API and the CLI


@pytest.mark.parametrize("spec", ["lzw", "lzw:max_bits=9", "lzw:max_bits=12", "lzw:max_bits=20"])
@pytest.mark.parametrize("block_size", [1024, 1 << 20])
def test_api_round_trip(spec: str, block_size: int) -> None:
    """archiver.compress(data, spec) / decompress round-trips in one block or many, and text
    shrinks below 60%."""
    data = mixed(60_000, 1)
    blob = archiver.compress(data, spec, block_size=block_size)
    assert archiver.decompress(blob) == data
    text = TEXT * 200
    text_blob = archiver.compress(text, spec, block_size=block_size)
    assert archiver.decompress(text_blob) == text
    assert len(text_blob) < 0.6 * len(text)


def test_compress_jobs_give_identical_archives() -> None:
    """compress(..., jobs=2) gives the same bytes as jobs=1 (many 4 KiB blocks)."""
    data = mixed(120_000, 2)
    one = archiver.compress(data, "lzw:max_bits=12", block_size=4096, jobs=1)
    assert archiver.compress(data, "lzw:max_bits=12", block_size=4096, jobs=2) == one
    assert archiver.decompress(one) == data


@pytest.mark.parametrize("spec", ["lzw:max_bits=8", "lzw:max_bits=21", "lzw:max_bits=x",
                                  "lzw:order=1"])
def test_api_invalid_options(spec: str) -> None:
    """Invalid lzw options are a UsageError from the API."""
    with pytest.raises(UsageError):
        archiver.compress(b"data", spec)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small tree: text, a multi-block mixed file, an empty file, a nested dir."""
    root = tmp_path / "src" / "tree"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "text.txt").write_bytes(TEXT * 100)
    (root / "empty").write_bytes(b"")
    (root / "sub" / "mixed.bin").write_bytes(mixed(30_000, 7))
    (root / "sub" / "deeper" / "zeros").write_bytes(b"\x00" * 10_000)
    return root


def test_cli_pack_unpack_round_trip(tree: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """`pyarc pack --codec lzw:max_bits=12` then `pyarc test` and `pyarc unpack` restore the
    tree, and lzw is really used for some blocks."""
    archive = tmp_path / "t.pyarc"
    code, _, err = run_cli("pack", "--codec", "lzw:max_bits=12", "-b", "4K", archive, tree)
    assert code == 0, err
    code, _, err = run_cli("test", archive)
    assert code == 0, err
    code, out, err = run_cli("info", "--json", archive)
    assert code == 0, err
    assert "lzw" in json.loads(out)["codecs"]
    restored = tmp_path / "out"
    code, _, err = run_cli("unpack", archive, "-C", restored)
    assert code == 0, err
    assert tree_snapshot(restored / "tree") == tree_snapshot(tree)


def test_cli_codecs_lists_lzw(run_cli: RunCli) -> None:
    """`pyarc codecs --json` lists lzw with its option max_bits=16 (9..20)."""
    code, out, err = run_cli("codecs", "--json")
    assert code == 0, err
    rows = {row["name"]: row for row in json.loads(out)}
    assert any(option.startswith("max_bits=16 (9..20)") for option in rows["lzw"]["options"])


@pytest.mark.parametrize("spec", ["lzw:max_bits=8", "lzw:max_bits=21", "lzw:foo=1"])
def test_cli_invalid_option(spec: str, tree: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """An invalid lzw option exits 2 with one `pyarc: error:` line and writes no archive."""
    archive = tmp_path / "bad.pyarc"
    code, _, err = run_cli("pack", "--codec", spec, archive, tree)
    assert code == 2, err
    assert_one_error_line(err)
    assert not archive.exists()
