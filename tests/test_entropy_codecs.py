"""The entropy codecs: `huffman` (static canonical, length-limited) and `arithmetic` (adaptive
range coding, order 0, 1 and 2).

What is checked: losslessness on edge cases; package-merge optimality and canonical codes
against naive references (heapq Huffman, brute force); size targets on the Calgary corpus;
robustness of the decoders against random, corrupted, truncated and over-long payloads;
agreement of the compiled kernels with their pure-Python sources; the archive API, the CLI and
thread-count independence. Payload bytes are not pinned (formats may evolve) except for tiny
documented cases. All randomness is seeded: the tests are deterministic.
"""

from __future__ import annotations

import functools
import heapq
import importlib
import itertools
import json
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from types import CodeType, ModuleType

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
from archiver import Codec, CodecError, UsageError
from pyarc_plugins.arithmetic import ArithmeticCodec
from pyarc_plugins.coding import package_merge_kernel, prefix_code_kernel
from pyarc_plugins.coding.package_merge_kernel import code_lengths
from pyarc_plugins.coding.prefix_code_kernel import canonical_codes
from pyarc_plugins.huffman import MAX_CODE_LENGTH, HuffmanCodec

ARITHMETIC_KERNEL = "pyarc_plugins.arithmetic.arithmetic_kernel"

CODEC_IDS = ["huffman", "arithmetic-o0", "arithmetic-o1", "arithmetic-o2"]


def make_codec(codec_id: str) -> Codec:
    """A codec instance for one of CODEC_IDS."""
    if codec_id == "huffman":
        return HuffmanCodec()
    assert codec_id.startswith("arithmetic-o"), codec_id
    return ArithmeticCodec(order=int(codec_id[-1]))


@pytest.fixture(params=CODEC_IDS)
def codec_id(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def codec(codec_id: str) -> Codec:
    return make_codec(codec_id)


# ---------------------------------------------------------------------------------------------
# Naive references


def huffman_lengths(counts: Sequence[int]) -> list[int]:
    """Unrestricted Huffman code lengths by the textbook heapq construction (0 for count 0)."""
    lengths = [0] * len(counts)
    heap = [(count, symbol, [symbol]) for symbol, count in enumerate(counts) if count]
    assert len(heap) >= 2
    heapq.heapify(heap)
    tiebreak = len(counts)
    while len(heap) > 1:
        weight_a, _, symbols_a = heapq.heappop(heap)
        weight_b, _, symbols_b = heapq.heappop(heap)
        for symbol in symbols_a + symbols_b:
            lengths[symbol] += 1
        heapq.heappush(heap, (weight_a + weight_b, tiebreak, symbols_a + symbols_b))
        tiebreak += 1
    return lengths


def cost(counts: Sequence[int], lengths: Sequence[int]) -> int:
    """Bits of the coded symbols: sum(count * length)."""
    return sum(c * n for c, n in zip(counts, lengths, strict=True))


def kraft_is_complete(counts: Sequence[int], lengths: Sequence[int], limit: int) -> bool:
    """Lengths exactly fill the code space (sum 2**-l == 1), counts > 0 <=> length > 0."""
    if any((c > 0) != (n > 0) for c, n in zip(counts, lengths, strict=True)):
        return False
    if any(n > limit for n in lengths):
        return False
    return sum(1 << (limit - n) for n in lengths if n) == 1 << limit


def entropy_bytes(data: bytes) -> float:
    """n * H0 / 8: the empirical order-0 entropy of `data`, in bytes."""
    n = len(data)
    return -sum(c * math.log2(c / n) for c in Counter(data).values()) / 8


def byte_counts(data: bytes) -> list[int]:
    found = Counter(data)
    return [found.get(b, 0) for b in range(256)]


# ---------------------------------------------------------------------------------------------
# Edge-case inputs


def _shuffled(counts: dict[int, int], seed: int) -> bytes:
    items = [symbol for symbol, count in counts.items() for _ in range(count)]
    random.Random(seed).shuffle(items)
    return bytes(items)


def fibonacci(k: int) -> list[int]:
    """1, 1, 2, 3, 5, ... (k terms): counts for which Huffman gives depth k - 1."""
    terms = [1, 1]
    while len(terms) < k:
        terms.append(terms[-1] + terms[-2])
    return terms[:k]


FIB_SYMBOLS = 20  # unrestricted Huffman depth 19 > MAX_CODE_LENGTH; 17,710 bytes


def _fibonacci_data() -> bytes:
    spread = random.Random(11).sample(range(256), FIB_SYMBOLS)
    return _shuffled(dict(zip(spread, fibonacci(FIB_SYMBOLS), strict=True)), 12)


def _fibonacci_all_bytes() -> bytes:
    # All 256 values: 236 appear once, 20 with Fibonacci counts on top.
    counts = dict.fromkeys(range(256), 1)
    for symbol, count in zip(range(100, 100 + FIB_SYMBOLS), fibonacci(FIB_SYMBOLS), strict=True):
        counts[symbol] += count
    return _shuffled(counts, 13)


def _geometric_data() -> bytes:
    # counts 1, 1, 2, 4, ..., 2**16: depth 17 unrestricted; 131,072 bytes.
    counts = [1] + [1 << i for i in range(17)]
    return _shuffled(dict(zip(range(7, 7 + 18 * 13, 13), counts, strict=True)), 14)


def _power_of_two_symbols(k: int) -> bytes:
    symbols = random.Random(20 + k).sample(range(256), 1 << k)
    return _shuffled(dict.fromkeys(symbols, max(4, 4096 >> k)), 30 + k)


def _runs_and_text() -> bytes:
    rng = random.Random(5)
    words = [b"entropy", b"huffman", b"arithmetic", b"the", b"of", b"range", b"coder", b"\n"]
    parts = []
    for _ in range(300):
        if rng.random() < 0.3:
            parts.append(bytes([rng.choice(b"\x00 =-\xff")]) * rng.randint(50, 3000))
        else:
            parts.append(b" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))))
    return b"".join(parts)


def _skewed() -> bytes:
    rng = random.Random(3)
    return bytes(rng.choice(b"bcdefghij") if rng.random() < 0.01 else 97 for _ in range(100_000))


TEXT = (b"It was the best of times, it was the worst of times, it was the age of wisdom, it was "
        b"the age of foolishness, it was the epoch of belief, it was the epoch of incredulity.\n")

EDGE_CASES: dict[str, Callable[[], bytes]] = {
    "one-byte-A": lambda: b"A",
    "one-byte-00": lambda: b"\x00",
    "one-byte-ff": lambda: b"\xff",
    "repeat-1": lambda: b"z",
    "repeat-2": lambda: b"zz",
    "repeat-1000": lambda: b"z" * 1000,
    "repeat-100000": lambda: b"z" * 100_000,
    "repeat-100000-00": lambda: b"\x00" * 100_000,
    "two-bytes": lambda: b"ab",
    "two-symbols-alternating": lambda: b"ab" * 5000,
    "two-symbols-one-odd": lambda: b"a" * 9999 + b"b",
    "two-symbols-random": lambda: bytes(random.Random(4).choices(b"\x00\xff", k=9000)),
    "all-256-once": lambda: bytes(range(256)),
    "all-256-once-reversed": lambda: bytes(range(255, -1, -1)),
    "all-256-x64-shuffled": lambda: _shuffled(dict.fromkeys(range(256), 64), 1),
    "all-256-x64-cyclic": lambda: bytes(range(256)) * 64,
    "random-1000": lambda: random.Random(1).randbytes(1000),
    "random-50000": lambda: random.Random(2).randbytes(50_000),
    "runs-and-text": _runs_and_text,
    "skewed-99": _skewed,
    "text": lambda: TEXT * 40,
    **{f"pow2-symbols-{1 << k}": functools.partial(_power_of_two_symbols, k) for k in range(1, 9)},
    "fibonacci-20": _fibonacci_data,
    "fibonacci-all-256": _fibonacci_all_bytes,
    "geometric-18": _geometric_data,
}


@functools.cache
def edge(name: str) -> bytes:
    return EDGE_CASES[name]()


# ---------------------------------------------------------------------------------------------
# 1. Losslessness on edge cases


def test_empty_block(codec: Codec) -> None:
    """An empty block encodes to b"" and b"" decodes to an empty block."""
    assert codec.encode(b"") == b""
    assert codec.decode(b"", 0) == b""


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_round_trip_edge_cases(codec: Codec, name: str) -> None:
    """decode(encode(x), len(x)) == x on each edge case, and encoding is deterministic."""
    data = edge(name)
    payload = codec.encode(data)
    assert isinstance(payload, bytes)
    assert codec.decode(payload, len(data)) == data
    assert codec.encode(data) == payload
    # A fresh instance (as the archive reader builds one) decodes it too.
    assert type(codec)(**codec.options).decode(payload, len(data)) == data


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_payload_size_sanity(codec: Codec, name: str) -> None:
    """No payload is more than 1.5x its input plus 300 bytes (incompressible data may grow a
    little, never run away)."""
    data = edge(name)
    assert len(codec.encode(data)) <= 1.5 * len(data) + 300


@pytest.mark.parametrize("size", [1, 2, 1000, 100_000])
@pytest.mark.parametrize("byte", [0x00, 0x7A, 0xFF])
def test_huffman_repeated_byte_is_tiny(size: int, byte: int) -> None:
    """A block of one repeated byte costs Huffman at most 4 bytes, whatever its length."""
    data = bytes([byte]) * size
    payload = HuffmanCodec().encode(data)
    assert len(payload) <= 4, payload
    assert HuffmanCodec().decode(payload, size) == data


@pytest.mark.parametrize("order", [0, 1, 2])
@pytest.mark.parametrize("size", [1000, 100_000])
def test_arithmetic_repeated_byte_is_small(order: int, size: int) -> None:
    """An adaptive model learns a repeated byte: under 0.2% of the input plus 64 bytes."""
    data = b"q" * size
    payload = ArithmeticCodec(order=order).encode(data)
    assert len(payload) <= 0.002 * size + 64, len(payload)


@pytest.mark.parametrize("name", [n for n in EDGE_CASES if not n.startswith(("one-", "repeat-"))])
def test_huffman_within_optimal_static_code(name: str) -> None:
    """Huffman's payload is at most the optimal length-limited code of the block's bytes plus
    300 bytes of code-length table (a run mode may only make it smaller)."""
    data = edge(name)
    counts = byte_counts(data)
    bound = math.ceil(cost(counts, code_lengths(counts, MAX_CODE_LENGTH)) / 8) + 300
    assert len(HuffmanCodec().encode(data)) <= bound


@pytest.mark.parametrize("k", range(1, 9))
def test_power_of_two_symbols_get_equal_lengths(k: int) -> None:
    """2**k equiprobable symbols get codes of exactly k bits; Huffman spends about k bits/byte."""
    data = edge(f"pow2-symbols-{1 << k}")
    counts = byte_counts(data)
    assert sum(1 for c in counts if c) == 1 << k
    lengths = code_lengths(counts, MAX_CODE_LENGTH)
    assert sorted({n for n in lengths if n}) == [k]
    assert len(HuffmanCodec().encode(data)) <= len(data) * k / 8 + 300


def test_skewed_data_compresses_near_entropy(codec_id: str, codec: Codec) -> None:
    """On 99% one byte every codec stays within 2x the order-0 entropy plus 300 bytes
    (arithmetic order 0 within 1.15x plus 64)."""
    data = edge("skewed-99")
    bound = entropy_bytes(data)
    size = len(codec.encode(data))
    assert size <= 2 * bound + 300, (size, bound)
    if codec_id == "arithmetic-o0":
        assert size <= 1.15 * bound + 64, (size, bound)


@pytest.mark.parametrize("name", ["fibonacci-20", "fibonacci-all-256", "geometric-18"])
def test_long_codes_are_limited(codec: Codec, name: str) -> None:
    """Counts for which unrestricted Huffman exceeds MAX_CODE_LENGTH: package-merge caps the
    lengths at MAX_CODE_LENGTH (complete code) and the block still round-trips."""
    data = edge(name)
    counts = byte_counts(data)
    assert max(huffman_lengths(counts)) > MAX_CODE_LENGTH  # the case is what it claims
    lengths = code_lengths(counts, MAX_CODE_LENGTH)
    assert max(lengths) == MAX_CODE_LENGTH
    assert kraft_is_complete(counts, lengths, MAX_CODE_LENGTH)
    assert codec.decode(codec.encode(data), len(data)) == data


# ---------------------------------------------------------------------------------------------
# 2. package-merge and canonical codes


def random_counts(rng: random.Random) -> list[int]:
    """A count vector of 2..256 symbols (plus some zeros), from one of several distributions;
    counts stay below 2**51 (block sizes are far smaller)."""
    n = rng.choice([2, 3, 5, 17, 64, 200, 256, rng.randint(2, 256)])
    kind = rng.choice(["uniform", "skew", "geometric", "fib", "ones", "wide"])
    if kind == "uniform":
        counts = [rng.randint(1, 1000) for _ in range(n)]
    elif kind == "skew":
        counts = [min(1 << 40, max(1, int(rng.paretovariate(0.7)))) for _ in range(n)]
    elif kind == "geometric":
        counts = [1 << min(40, rng.randint(0, 3 * i // 2 + 1)) for i in range(n)]
    elif kind == "fib":
        counts = fibonacci(n) if n < 60 else fibonacci(30) + [1] * (n - 30)
        rng.shuffle(counts)
    elif kind == "ones":
        counts = [1] * n
    else:
        counts = [rng.choice([1, 2, 1 << rng.randint(0, 50)]) for _ in range(n)]
    counts += [0] * rng.randint(0, 8)
    rng.shuffle(counts)
    if sum(1 for c in counts if c) < 2:
        counts += [1, 1]
    return counts


def test_package_merge_random_vectors() -> None:
    """For random counts and limits: complete code (Kraft sum == 1) within the limit, zero
    counts get no code, cost == Huffman's when Huffman fits, else >= Huffman's."""
    rng = random.Random(2024)
    fits = binds = 0
    for _ in range(250):
        counts = random_counts(rng)
        present = sum(1 for c in counts if c)
        smallest = max(1, (present - 1).bit_length())  # ceil(log2(present))
        for limit in {MAX_CODE_LENGTH, smallest, min(smallest + 1, 16), rng.randint(smallest, 16)}:
            if present > 1 << limit:
                continue
            lengths = code_lengths(counts, limit)
            assert len(lengths) == len(counts)
            assert kraft_is_complete(counts, lengths, limit), (counts, limit, lengths)
            reference = huffman_lengths(counts)
            if max(reference) <= limit:
                fits += 1
                assert cost(counts, lengths) == cost(counts, reference), (counts, limit)
            else:
                binds += 1
                assert cost(counts, lengths) >= cost(counts, reference), (counts, limit)
            assert code_lengths(counts, limit) == lengths  # deterministic
    assert fits > 60 and binds > 60, (fits, binds)  # both branches really exercised


def brute_force_cost(counts: Sequence[int], limit: int) -> int:
    """The least sum(count * length) over all lengths 1..limit with Kraft sum <= 1."""
    best = None
    for lengths in itertools.product(range(1, limit + 1), repeat=len(counts)):
        if sum(1 << (limit - n) for n in lengths) <= 1 << limit:
            total = cost(counts, lengths)
            best = total if best is None else min(best, total)
    assert best is not None
    return best


@pytest.mark.parametrize(("symbols", "limit", "vectors"), [(5, 3, 150), (6, 3, 60), (7, 4, 8)])
def test_package_merge_optimal_by_brute_force(symbols: int, limit: int, vectors: int) -> None:
    """Tiny alphabets: package-merge's cost equals the brute-force optimum over all length
    assignments satisfying Kraft <= 1, also when the limit binds."""
    rng = random.Random(symbols * 100 + limit)
    fixed = [fibonacci(symbols), [1 << i for i in range(symbols)], [1] * (symbols - 1) + [1000]]
    binding = 0
    for i in range(vectors):
        if i < len(fixed):
            counts = fixed[i]
        else:
            counts = [rng.choice([1, 2, 3, rng.randint(1, 50), rng.randint(1, 5000)])
                      for _ in range(symbols)]
        lengths = code_lengths(counts, limit)
        assert kraft_is_complete(counts, lengths, limit), (counts, lengths)
        assert cost(counts, lengths) == brute_force_cost(counts, limit), (counts, lengths)
        binding += max(huffman_lengths(counts)) > limit
    assert binding >= 2  # the limit really binds in some cases


def test_package_merge_limit_equal_to_log2_alphabet() -> None:
    """256 symbols with limit 8 must all get 8-bit codes, whatever their counts."""
    counts = fibonacci(40) + [1] * 216
    assert code_lengths(counts, 8) == [8] * 256


def test_package_merge_rejects_impossible_requests() -> None:
    """Fewer than two present symbols, or more than 2**limit, raise ValueError."""
    with pytest.raises(ValueError):
        code_lengths([0] * 10 + [5], 12)
    with pytest.raises(ValueError):
        code_lengths([0] * 256, 12)
    with pytest.raises(ValueError):
        code_lengths([1] * 9, 3)


def check_canonical(lengths: Sequence[int]) -> None:
    codes = canonical_codes(lengths)
    assert len(codes) == len(lengths)
    coded = [(n, s) for s, n in enumerate(lengths) if n]
    bits = {s: format(codes[s], f"0{n}b") for n, s in coded}
    for n, s in coded:
        assert codes[s] < 1 << n, (s, n, codes[s])
    for s, n in enumerate(lengths):
        if not n:
            assert codes[s] == 0
    # Prefix-free: in lexicographic order a prefix would sit right before its extension.
    ordered = sorted(bits.values())
    for a, b in itertools.pairwise(ordered):
        assert not b.startswith(a), (a, b)
    # Canonical: sorted by (length, symbol), codes are increasing when left-aligned, and codes
    # of equal length are consecutive integers.
    ordered_symbols = [s for _, s in sorted(coded)]
    longest = max(lengths)
    aligned = [codes[s] << (longest - lengths[s]) for s in ordered_symbols]
    assert aligned == sorted(aligned) and len(set(aligned)) == len(aligned)
    for a, b in itertools.pairwise(ordered_symbols):
        if lengths[a] == lengths[b]:
            assert codes[b] == codes[a] + 1, (a, b)


def test_canonical_codes_small_documented_case() -> None:
    """Lengths [2, 1, 3, 3, 0] give the canonical codes 10, 0, 110, 111 (and 0 for unused)."""
    assert canonical_codes([2, 1, 3, 3, 0]) == [0b10, 0b0, 0b110, 0b111, 0]


def test_canonical_codes_prefix_free_and_consecutive() -> None:
    """canonical_codes of package-merge lengths are prefix-free, fit their lengths, and give
    consecutive codes in symbol order within a length."""
    rng = random.Random(99)
    for _ in range(150):
        counts = random_counts(rng)
        check_canonical(code_lengths(counts, MAX_CODE_LENGTH))
    for name in ("fibonacci-all-256", "text", "all-256-once"):
        check_canonical(code_lengths(byte_counts(edge(name)), MAX_CODE_LENGTH))


# ---------------------------------------------------------------------------------------------
# 3. The Calgary corpus

@functools.cache
def corpus_payload(directory: Path, name: str, codec_id: str) -> bytes:
    return make_codec(codec_id).encode(corpus_file(directory, name))


def total_bpc(directory: Path, codec_id: str, names: Sequence[str]) -> float:
    raw = sum(len(corpus_file(directory, name)) for name in names)
    packed = sum(len(corpus_payload(directory, name, codec_id)) for name in names)
    return 8 * packed / raw


@pytest.mark.corpus
@pytest.mark.parametrize("name", CALGARY_FILES)
def test_corpus_huffman_near_order0_entropy(corpus_dir: Path, name: str) -> None:
    """Huffman payload <= 1.01 * n*H0/8 + 300 bytes on every Calgary file."""
    data = corpus_file(corpus_dir, name)
    size = len(corpus_payload(corpus_dir, name, "huffman"))
    bound = 1.01 * entropy_bytes(data) + 300
    assert size <= bound, f"{name}: huffman {size} bytes > {bound:.0f}"


@pytest.mark.corpus
def test_corpus_huffman_total_bpc(corpus_dir: Path) -> None:
    """Huffman over the 14 classic Calgary files: total <= 4.43 bits per byte."""
    bpc = total_bpc(corpus_dir, "huffman", CALGARY_14)
    assert bpc <= 4.43, f"huffman: {bpc:.4f} bpc"


@pytest.mark.corpus
@pytest.mark.parametrize("name", CALGARY_FILES)
def test_corpus_arithmetic_order0_near_entropy(corpus_dir: Path, name: str) -> None:
    """Arithmetic order 0 <= 1.003 * n*H0/8 on every Calgary file above 10,000 bytes."""
    data = corpus_file(corpus_dir, name)
    if len(data) <= 10_000:
        pytest.skip(f"{name} has only {len(data)} bytes (the target is for > 10,000)")
    size = len(corpus_payload(corpus_dir, name, "arithmetic-o0"))
    bound = 1.003 * entropy_bytes(data)
    assert size <= bound, f"{name}: arithmetic order 0 {size} bytes > {bound:.0f}"


@pytest.mark.corpus
@pytest.mark.parametrize(("codec_id", "target"), [("arithmetic-o1", 3.44),
                                                  ("arithmetic-o2", 3.32)])
def test_corpus_arithmetic_total_bpc(corpus_dir: Path, codec_id: str, target: float) -> None:
    """Arithmetic over the 14 classic Calgary files: order 1 <= 3.44 bpc, order 2 <= 3.32."""
    bpc = total_bpc(corpus_dir, codec_id, CALGARY_14)
    assert bpc <= target, f"{codec_id}: {bpc:.4f} bpc"


@pytest.mark.corpus
@pytest.mark.parametrize("name", CALGARY_FILES)
def test_corpus_round_trip(corpus_dir: Path, codec_id: str, name: str) -> None:
    """decode(encode(x)) == x for every Calgary file and codec."""
    data = corpus_file(corpus_dir, name)
    payload = corpus_payload(corpus_dir, name, codec_id)
    assert make_codec(codec_id).decode(payload, len(data)) == data


# ---------------------------------------------------------------------------------------------
# 4. Robustness of the decoders


def decode_or_codec_error(codec: Codec, payload: bytes, size: int) -> bytes | None:
    """Decode; None on CodecError. Any other exception fails the test. If it returns, the
    result is bytes of exactly `size`."""
    try:
        out = codec.decode(payload, size)
    except CodecError:
        return None
    assert isinstance(out, bytes), type(out)
    assert len(out) == size, (len(out), size)
    return out


def random_payloads(codec_id: str, rng: random.Random) -> list[tuple[bytes, int]]:
    """Random (payload, size) cases, some with plausible first bytes to get past header checks,
    some a valid payload's first bytes (its code table) followed by random bytes."""
    codec = make_codec(codec_id)
    headers = [codec.encode(data)[:80] for data in
               (TEXT * 3, b"\x00" * 3000 + TEXT, bytes(range(256)) * 4)]
    cases = []
    for i in range(120):
        length = rng.choice([0, 1, 2, 3, 5, 8, rng.randint(0, 64), rng.randint(0, 2000)])
        size = rng.choice([1, 2, 3, rng.randint(1, 300), rng.randint(1, 200_000), 200_000])
        payload = bytearray(rng.randbytes(length))
        if payload and i % 3:
            if codec_id == "huffman":
                # max_length nibble 1..12; sometimes run mode; sometimes the repeated-byte form.
                payload[0] = (rng.choice([0, 1, 2, 8, 11, 12, rng.randint(1, 15)]) << 4) | (
                    payload[0] & 0x0F)
            else:
                payload[0] = rng.choice([4, 5, 6, 7, rng.randint(0, 10)])
        if i % 10 == 0 and payload:
            payload = payload[:1] + bytes(len(payload) - 1)  # mostly zeros
        elif i % 10 == 1 and payload:
            payload = payload[:1] + b"\xff" * (len(payload) - 1)
        elif i % 5 == 2:
            payload = bytearray(rng.choice(headers)[: rng.randint(1, 80)]) + payload
        cases.append((bytes(payload), size))
    return cases


def test_random_payloads_raise_codec_error_or_decode(codec_id: str, codec: Codec) -> None:
    """Random payloads (0..2000 bytes, sizes 1..200000) give CodecError or exactly `size`
    bytes, never another exception, quickly."""
    rng = random.Random(CODEC_IDS.index(codec_id) + 77)
    started = time.perf_counter()
    slowest = (0.0, b"", 0)
    for payload, size in random_payloads(codec_id, rng):
        one = time.perf_counter()
        decode_or_codec_error(codec, payload, size)
        took = time.perf_counter() - one
        if took > slowest[0]:
            slowest = (took, payload[:16], size)
    elapsed = time.perf_counter() - started
    assert elapsed < 20, f"{elapsed:.1f} s for 120 decodes; slowest {slowest}"
    assert slowest[0] < 10, f"one decode took {slowest[0]:.1f} s: {slowest}"


def test_garbage_with_the_largest_block_size_fails_fast(codec_id: str, codec: Codec) -> None:
    """A valid header followed by random bytes, declared as a 64 MiB block: the decoder notices
    the damage (an impossible code, or the payload running out) long before 64 MiB."""
    rng = random.Random(CODEC_IDS.index(codec_id) + 5)
    header = codec.encode(TEXT * 3)[: 80 if codec_id == "huffman" else 1]
    started = time.perf_counter()
    for _ in range(5):
        with pytest.raises(CodecError, match="early|corrupt"):
            codec.decode(header + rng.randbytes(rng.randint(1, 3000)), 64 << 20)
    assert time.perf_counter() - started < 10  # a hang guard, not a speed measurement


def test_nonempty_payload_for_empty_block_is_rejected(codec: Codec) -> None:
    """A block of size 0 must have an empty payload: anything else is CodecError."""
    for payload in (b"\x00", b"\x05", codec.encode(b"abc")):
        with pytest.raises(CodecError):
            codec.decode(payload, 0)


def test_empty_payload_for_nonempty_block_is_rejected(codec: Codec) -> None:
    """An empty payload cannot hold a nonempty block: CodecError for sizes 1, 2 and 1000."""
    for size in (1, 2, 1000):
        with pytest.raises(CodecError):
            codec.decode(b"", size)


SMALL_INPUTS = {
    "text": TEXT * 3,
    "skewed": b"\x00" * 300 + b"\x01\x00\x00\x02" + b"\x00" * 200 + b"xyz" * 20,
    "binary": random.Random(8).randbytes(200) + bytes(range(0, 256, 3)),
}


@pytest.mark.parametrize("name", list(SMALL_INPUTS))
def test_single_byte_corruption(codec: Codec, name: str) -> None:
    """Every single-byte corruption (xor 0x01, 0x10, 0x80, 0xff) of a small valid payload gives
    CodecError or `size` bytes, never another exception."""
    data = SMALL_INPUTS[name]
    payload = codec.encode(data)
    assert codec.decode(payload, len(data)) == data
    rejected = 0
    for position in range(len(payload)):
        for mask in (0x01, 0x10, 0x80, 0xFF):
            corrupt = bytearray(payload)
            corrupt[position] ^= mask
            rejected += decode_or_codec_error(codec, bytes(corrupt), len(data)) is None
    assert rejected > 0  # the decoder does detect some corruption


@pytest.mark.parametrize("name", list(SMALL_INPUTS))
def test_truncated_payloads(codec: Codec, name: str) -> None:
    """Every proper prefix of a small valid payload gives CodecError or `size` bytes (of
    wrong data), never another exception; the empty prefix is always CodecError."""
    data = SMALL_INPUTS[name]
    payload = codec.encode(data)
    for end in range(len(payload)):
        out = decode_or_codec_error(codec, payload[:end], len(data))
        if end == 0:
            assert out is None
        if out is not None:
            assert out != data, f"a prefix of {end}/{len(payload)} bytes decodes to the data"


def canonical_payload(codec: Codec, payload: bytes, data: bytes) -> bool:
    """Whether `payload` is exactly what the encoder writes for `data` with the parameters the
    payload names (arithmetic: the increment in its first byte; huffman: its only encoding)."""
    if isinstance(codec, ArithmeticCodec):
        kernel = importlib.import_module(ARITHMETIC_KERNEL)
        order = int(codec.options["order"])
        return (payload[0] <= 10 and payload[1:] == kernel.encode(data, order, 1 << payload[0]))
    return codec.encode(data) == payload


@pytest.mark.parametrize("name", ["one-byte-A", "two-bytes", "text", "random-1000",
                                  "all-256-once", "skewed-99", "repeat-1000"])
def test_trailing_byte_is_rejected(codec: Codec, name: str) -> None:
    """Exact termination: a valid payload plus one extra byte (0x00, 0x01, 0x80 or 0xff)
    raises CodecError; the only excuse is that the longer payload is itself exactly the
    encoder's payload for the (other) data it decodes to."""
    data = edge(name)
    payload = codec.encode(data)
    accepted = []
    for extra in (0x00, 0x01, 0x80, 0xFF):
        extended = payload + bytes([extra])
        try:
            out = codec.decode(extended, len(data))
        except CodecError:
            continue
        if out == data:
            accepted.append(f"+{extra:#04x} -> the same data")
        elif not canonical_payload(codec, extended, out):
            differ = [i for i in range(len(data)) if out[i] != data[i]]
            accepted.append(f"+{extra:#04x} -> data differing at {differ[:5]}, not what the "
                            f"encoder writes for it")
    assert not accepted, f"payload of {len(payload)} bytes accepted with: {', '.join(accepted)}"


@pytest.mark.parametrize("name", list(SMALL_INPUTS))
def test_wrong_size_gives_codec_error_or_size_bytes(codec: Codec, name: str) -> None:
    """A valid payload decoded with a wrong size (-1, +1, +1000, half, double) gives CodecError
    or exactly that many bytes."""
    data = SMALL_INPUTS[name]
    payload = codec.encode(data)
    for size in (len(data) - 1, len(data) + 1, len(data) + 1000, len(data) // 2, 2 * len(data)):
        decode_or_codec_error(codec, payload, size)


@pytest.mark.parametrize("order", [0, 1, 2])
@pytest.mark.parametrize("first", [11, 12, 64, 128, 255])
def test_arithmetic_invalid_increment_byte(order: int, first: int) -> None:
    """Arithmetic payloads whose first byte (log2 increment) is above 10 raise CodecError."""
    codec = ArithmeticCodec(order=order)
    valid = codec.encode(TEXT)
    with pytest.raises(CodecError):
        codec.decode(bytes([first]) + valid[1:], len(TEXT))


# ---------------------------------------------------------------------------------------------
# 5. Compiled kernels agree with their pure-Python sources

AGREEMENT_INPUTS = {
    "empty": b"",
    "one-byte": b"A",
    "two-bytes": b"ab",
    "repeat": b"z" * 300,
    "all-256": bytes(range(256)),
    "text": TEXT * 8,
    "random": random.Random(6).randbytes(400),
    "skewed": b"\x00" * 700 + b"\x01\x00\x00\x02" + b"\x00" * 500 + b"xyz" * 30 + b"\x00" * 90,
    "fibonacci-15": _shuffled(dict(zip(range(40, 55), fibonacci(15), strict=True)), 15),
}


def _kernel_bindings() -> dict[tuple[str, str], object]:
    """(parent package, leaf) -> the parent's attribute, for every loaded kernel module."""
    bindings: dict[tuple[str, str], object] = {}
    for key in list(sys.modules):
        parent_name, _, leaf = key.rpartition(".")
        if key.startswith("pyarc_plugins.") and leaf.endswith("_kernel"):
            parent = sys.modules.get(parent_name)
            if parent is not None:
                bindings[parent_name, leaf] = vars(parent).get(leaf, _MISSING)
    return bindings


_MISSING = object()


def pure_kernel(name: str) -> ModuleType:
    """pure(name), without its side effect on the parent packages.

    Importing a module binds it as an attribute of its parent package, and pyarc_plugins.huffman
    and pyarc_plugins.arithmetic use exactly that attribute as their kernel: after a bare
    pure() call they would run the pure kernel for the rest of the session. pure() restores
    sys.modules; here the package attributes are put back as they were.
    """
    before = _kernel_bindings()
    module = pure(name)
    for parent_name, leaf in _kernel_bindings().keys() | before.keys():
        parent = sys.modules[parent_name]
        old = before.get((parent_name, leaf), _MISSING)
        if old is _MISSING:
            vars(parent).pop(leaf, None)
        else:
            setattr(parent, leaf, old)
    return module


def compiled_kernel(name: str) -> ModuleType:
    module = importlib.import_module(name)
    path = module.__file__ or ""
    if path.endswith(".py"):
        pytest.skip(f"{name} is not compiled (it loads from {path}): nothing to compare with")
    return module


def test_agreement_inputs_are_what_they_claim() -> None:
    """The agreement inputs are small (<= 5 kB) and fibonacci-15 needs codes over the limit."""
    assert all(len(data) <= 5000 for data in AGREEMENT_INPUTS.values())
    counts = byte_counts(AGREEMENT_INPUTS["fibonacci-15"])
    assert max(huffman_lengths(counts)) > MAX_CODE_LENGTH


@pytest.mark.parametrize("name", list(AGREEMENT_INPUTS))
@pytest.mark.parametrize("order", [0, 1, 2])
def test_arithmetic_kernel_compiled_matches_pure(order: int, name: str) -> None:
    """Arithmetic kernel, increments 16/32/64: compiled and pure encode byte-identically, and
    each decodes the other's payload."""
    compiled = compiled_kernel(ARITHMETIC_KERNEL)
    source = pure_kernel(ARITHMETIC_KERNEL)
    data = AGREEMENT_INPUTS[name]
    for increment in (16, 32, 64):
        payload = compiled.encode(data, order, increment)
        assert source.encode(data, order, increment) == payload, increment
        assert source.decode(payload, len(data), order, increment) == data
        assert compiled.decode(payload, len(data), order, increment) == data


def test_code_construction_compiled_matches_pure() -> None:
    """package-merge and canonical codes: compiled and pure versions give the same results."""
    merge = (compiled_kernel(package_merge_kernel.__name__),
             pure_kernel(package_merge_kernel.__name__))
    table = (compiled_kernel(prefix_code_kernel.__name__),
             pure_kernel(prefix_code_kernel.__name__))
    rng = random.Random(4242)
    for _ in range(60):
        counts = random_counts(rng)
        present = sum(1 for c in counts if c)
        for limit in (MAX_CODE_LENGTH, max(1, (present - 1).bit_length())):
            lengths = merge[0].code_lengths(counts, limit)
            assert merge[1].code_lengths(counts, limit) == lengths, (counts, limit)
            assert table[1].canonical_codes(lengths) == table[0].canonical_codes(lengths)


def _is_kernel_name(name: object) -> bool:
    return isinstance(name, str) and name.startswith("pyarc_plugins.") and name.endswith("_kernel")


def require_compiled(codec_class: type[Codec]) -> None:
    """Skip unless at least one of the codec's kernels is compiled (else nothing to compare)."""
    paths = [importlib.import_module(name).__file__ or "" for name in codec_class.kernels]
    if not paths or all(path.endswith(".py") for path in paths):
        pytest.skip(f"codec {codec_class.name!r}: its kernels {codec_class.kernels} are not "
                    f"compiled (they load from {paths}): nothing to compare with")


def _names_used_by(package: ModuleType) -> set[str]:
    """Global names that the functions and methods defined in `package` refer to."""
    names: set[str] = set()

    def walk(code: CodeType) -> None:
        names.update(code.co_names)
        for constant in code.co_consts:
            if isinstance(constant, CodeType):
                walk(constant)

    for value in list(vars(package).values()):
        if getattr(value, "__module__", None) != package.__name__:
            continue
        members = list(vars(value).values()) if isinstance(value, type) else [value]
        for member in members:
            function = getattr(member, "__func__", member)
            if isinstance(getattr(function, "__code__", None), CodeType):
                walk(function.__code__)
    return names


def use_kernels(monkeypatch: pytest.MonkeyPatch, package: ModuleType, variant: str) -> None:
    """Make the codec module `package` run its kernels "compiled" or "pure": every kernel
    module it holds as an attribute, and every class and function it imported by name from a
    kernel, so that no compiled code is left in the codec's path."""
    replacements: dict[str, object] = {}
    used = _names_used_by(package)
    for attribute, value in list(vars(package).items()):
        if (isinstance(value, ModuleType) and _is_kernel_name(value.__name__)
                and attribute in used):
            replacements[attribute] = (sys.modules[value.__name__] if variant == "compiled"
                                       else pure_kernel(value.__name__))
        elif variant == "pure" and _is_kernel_name(getattr(value, "__module__", None)):
            replacements[attribute] = getattr(pure_kernel(value.__module__), value.__name__)
    for attribute, value in replacements.items():
        monkeypatch.setattr(package, attribute, value)


@pytest.mark.parametrize("name", list(AGREEMENT_INPUTS))
def test_huffman_codec_compiled_matches_pure(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The Huffman codec gives the same payload with the compiled and the pure kernels, and the
    pure variant decodes it."""
    import pyarc_plugins.coding.prefix_code_sections as sections_module
    import pyarc_plugins.huffman as huffman_module

    require_compiled(HuffmanCodec)
    data = AGREEMENT_INPUTS[name]
    for module in (huffman_module, sections_module):
        use_kernels(monkeypatch, module, "compiled")
    payload = HuffmanCodec().encode(data)
    assert HuffmanCodec().decode(payload, len(data)) == data
    for module in (huffman_module, sections_module):
        use_kernels(monkeypatch, module, "pure")
    assert HuffmanCodec().encode(data) == payload
    assert HuffmanCodec().decode(payload, len(data)) == data


@pytest.mark.parametrize("name", list(AGREEMENT_INPUTS))
def test_arithmetic_codec_compiled_matches_pure(monkeypatch: pytest.MonkeyPatch,
                                                name: str) -> None:
    """The arithmetic codec (order 1) gives the same payload with
    the compiled and the pure kernels, and the pure variant decodes it."""
    import pyarc_plugins.arithmetic as arithmetic_module

    require_compiled(ArithmeticCodec)
    data = AGREEMENT_INPUTS[name]
    use_kernels(monkeypatch, arithmetic_module, "compiled")
    payload = ArithmeticCodec(order=1).encode(data)
    use_kernels(monkeypatch, arithmetic_module, "pure")
    assert ArithmeticCodec(order=1).encode(data) == payload
    assert ArithmeticCodec(order=1).decode(payload, len(data)) == data


def test_pure_kernels_reject_garbage_like_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the pure kernels the codecs still raise CodecError on a truncated payload."""
    import pyarc_plugins.arithmetic as arithmetic_module
    import pyarc_plugins.coding.prefix_code_sections as sections_module
    import pyarc_plugins.huffman as huffman_module

    use_kernels(monkeypatch, huffman_module, "pure")
    use_kernels(monkeypatch, sections_module, "pure")
    use_kernels(monkeypatch, arithmetic_module, "pure")
    for codec in (HuffmanCodec(), ArithmeticCodec(order=0)):
        payload = codec.encode(TEXT)
        with pytest.raises(CodecError):
            codec.decode(payload[: len(payload) // 2], len(TEXT))


# ---------------------------------------------------------------------------------------------
# 6. Through the archive API and the CLI

SPECS = ["huffman", "arithmetic", "arithmetic:order=0", "arithmetic:order=1",
         "arithmetic:order=2"]


def mixed_data(size: int) -> bytes:
    rng = random.Random(size)
    text = TEXT * (size // len(TEXT) // 2 + 1)
    return (text[: size // 2] + rng.randbytes(size // 8) + _runs_and_text())[:size]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("block_size", [1024, 1 << 20])
def test_api_round_trip(spec: str, block_size: int) -> None:
    """archiver.compress(data, spec) / decompress round-trips, in one block or many, and
    compresses text below 80% of its size."""
    data = mixed_data(60_000)
    blob = archiver.compress(data, spec, block_size=block_size)
    assert archiver.decompress(blob) == data
    text = TEXT * 200
    text_blob = archiver.compress(text, spec, block_size=block_size)
    assert archiver.decompress(text_blob) == text
    assert len(text_blob) < 0.8 * len(text)


def test_api_options_as_keywords() -> None:
    """compress(data, "arithmetic", order=0) is the same archive as "arithmetic:order=0"."""
    data = mixed_data(20_000)
    assert (archiver.compress(data, "arithmetic", order=0)
            == archiver.compress(data, "arithmetic:order=0"))
    assert archiver.compress(data, "arithmetic") == archiver.compress(data, "arithmetic:order=2")


@pytest.mark.parametrize("spec", ["arithmetic:order=3", "arithmetic:order=-1", "arithmetic:foo=1",
                                  "huffman:order=1"])
def test_api_invalid_options(spec: str) -> None:
    """Invalid codec options are a UsageError from the API."""
    with pytest.raises(UsageError):
        archiver.compress(b"data", spec)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small tree: text, a multi-block binary file, an empty file, a nested dir."""
    root = tmp_path / "src" / "tree"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "text.txt").write_bytes(TEXT * 100)
    (root / "empty").write_bytes(b"")
    (root / "sub" / "mixed.bin").write_bytes(mixed_data(30_000))
    (root / "sub" / "deeper" / "zeros").write_bytes(b"\x00" * 10_000)
    (root / "sub" / "deeper" / "random").write_bytes(random.Random(9).randbytes(5000))
    return root


def test_cli_pack_unpack_round_trip(tree: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """`pyarc pack --codec arithmetic:order=1` then `pyarc test` and `pyarc unpack` restore the
    tree, and the codec is really used for some blocks."""
    spec = "arithmetic:order=1"
    archive = tmp_path / "t.pyarc"
    code, _, err = run_cli("pack", "--codec", spec, "-b", "4K", archive, tree)
    assert code == 0, err
    code, _, err = run_cli("test", archive)
    assert code == 0, err
    code, out, err = run_cli("info", "--json", archive)
    assert code == 0, err
    assert spec.partition(":")[0] in json.loads(out)["codecs"]
    restored = tmp_path / "out"
    code, _, err = run_cli("unpack", archive, "-C", restored)
    assert code == 0, err
    assert tree_snapshot(restored / "tree") == tree_snapshot(tree)


def test_cli_codecs_lists_entropy_codecs(run_cli: RunCli) -> None:
    """`pyarc codecs` (table and --json) lists huffman and arithmetic with its order option."""
    code, out, err = run_cli("codecs")
    assert code == 0, err
    assert b"huffman" in out and b"arithmetic" in out
    code, out, err = run_cli("codecs", "--json")
    assert code == 0, err
    rows = {row["name"]: row for row in json.loads(out)}
    assert {"huffman", "arithmetic"} <= set(rows)
    assert any(option.startswith("order=2") for option in rows["arithmetic"]["options"])


@pytest.mark.parametrize("spec", ["arithmetic:order=3", "arithmetic:foo=1"])
def test_cli_invalid_option(spec: str, tree: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """An invalid codec option exits 2 with one `pyarc: error:` line and writes no archive."""
    archive = tmp_path / "bad.pyarc"
    code, _, err = run_cli("pack", "--codec", spec, archive, tree)
    assert code == 2, err
    assert_one_error_line(err)
    assert not archive.exists()


# ---------------------------------------------------------------------------------------------
# 7. Threads


@pytest.mark.parametrize("spec", ["huffman", "arithmetic:order=0", "arithmetic:order=1",
                                  "arithmetic"])
def test_compress_jobs_give_identical_archives(spec: str) -> None:
    """compress(..., jobs=2) and jobs=4 give the same bytes as jobs=1 (many 4 KiB blocks)."""
    data = mixed_data(120_000)
    one = archiver.compress(data, spec, block_size=4096, jobs=1)
    assert archiver.compress(data, spec, block_size=4096, jobs=2) == one
    assert archiver.compress(data, spec, block_size=4096, jobs=4) == one
    assert archiver.decompress(one) == data


@pytest.mark.parametrize("spec", ["huffman", "arithmetic"])
def test_pack_jobs_give_identical_archives(spec: str, tree: Path, tmp_path: Path) -> None:
    """archiver.pack with jobs=2 writes the same archive bytes as jobs=1."""
    archiver.pack([tree], tmp_path / "one.pyarc", codec=spec, block_size=4096, jobs=1)
    archiver.pack([tree], tmp_path / "two.pyarc", codec=spec, block_size=4096, jobs=2)
    assert (tmp_path / "one.pyarc").read_bytes() == (tmp_path / "two.pyarc").read_bytes()


def test_cli_jobs_give_identical_archives(tree: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """`pyarc pack -j 1` and `-j 2` write identical archives (huffman)."""
    archives = []
    for jobs in ("1", "2"):
        archive = tmp_path / f"j{jobs}.pyarc"
        code, _, err = run_cli("pack", "-c", "huffman", "-b", "4K", "-j", jobs, archive, tree)
        assert code == 0, err
        archives.append(archive.read_bytes())
    assert archives[0] == archives[1]
