"""The lz77 codec: losslessness on edge cases and the corpus, validation of corrupt payloads,
compiled and pure kernels agreeing, and the CLI."""

from __future__ import annotations

import random
from array import array
from pathlib import Path

import pytest
from conftest import (
    CALGARY_14,
    RunCli,
    assert_cli_codec,
    calgary_bpc,
)
from pure_kernels import pure

from archiver import CodecError
from pyarc_plugins.lz77 import HUFFMAN_TOKENS, LEVELS, Lz77Codec

TEXT = (Path(__file__).resolve().parents[1] / "README.md").read_bytes()[:20000]


def edge_cases() -> dict[str, bytes]:
    rng = random.Random(7)
    block = rng.randbytes(1024)
    return {
        "one byte": b"x",
        "two bytes": b"xy",
        "four bytes": b"abcd",
        "run": b"a" * 100_000,  # one overlapping match of distance 1
        "period 3": b"abc" * 5000,  # overlapping matches of distance 3
        "all bytes": bytes(range(256)) * 8,
        "random": rng.randbytes(50_000),  # no matches: all literals
        "window limit": block * 4,  # matches exactly 1024 back (the window at window=10)
        "text": TEXT,
        "text with runs": TEXT[:3000] + b"\0" * 5000 + TEXT[:3000] + b" " * 70_000 + TEXT,
        "repeat offsets": b"".join(bytes([i % 251]) + b"key=value;" for i in range(2000)),
    }


@pytest.mark.parametrize("name", list(edge_cases()))
@pytest.mark.parametrize("options", [{}, {"level": 1}, {"level": 9}, {"window": 10},
                                     {"level": 3, "window": 16}, {"coder": "range"},
                                     {"level": 1, "window": 10, "coder": "range"},
                                     {"level": 9, "coder": "huffman"}])
def test_round_trip(name: str, options: dict[str, int | str]) -> None:
    """decode(encode(x)) == x for levels, windows and token coders on the edge cases (the run
    is one match longer than the range coder's longest: it is split)."""
    data = edge_cases()[name]
    codec = Lz77Codec(**options)
    assert codec.decode(codec.encode(data), len(data)) == data


def test_empty_block() -> None:
    """An empty block has an empty payload, and only an empty payload decodes to it."""
    codec = Lz77Codec()
    assert codec.encode(b"") == b""
    assert codec.decode(b"", 0) == b""
    with pytest.raises(CodecError):
        codec.decode(b"\x80", 0)


def test_matches_make_it_smaller() -> None:
    """Repetitive data shrinks to its code tables and one sequence; random data grows by
    little."""
    codec = Lz77Codec()
    assert len(codec.encode(b"abc" * 5000)) < 100
    rng = random.Random(3)
    noise = rng.randbytes(20_000)
    assert len(codec.encode(noise)) < len(noise) * 1.01 + 200


def test_levels_trade_effort_for_size() -> None:
    """On text, level 9 is no larger than level 6, and level 6 no larger than level 1."""
    data = TEXT * 2
    sizes = [len(Lz77Codec(level=level).encode(data)) for level in (1, 6, 9)]
    assert sizes[0] >= sizes[1] >= sizes[2]
    assert sorted(LEVELS) == list(range(1, 10))


def corrupt_variants(payload: bytes, rng: random.Random) -> list[bytes]:
    variants = [payload[:cut] for cut in range(0, len(payload), max(1, len(payload) // 40))]
    variants.append(payload + b"\0")
    variants.append(payload + b"\xff")
    for _ in range(60):
        damaged = bytearray(payload)
        damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        variants.append(bytes(damaged))
    variants += [rng.randbytes(rng.randint(1, 400)) for _ in range(60)]
    return variants


@pytest.mark.parametrize("coder", ["huffman", "range"])
def test_corrupt_payloads_give_codec_error(coder: str) -> None:
    """Truncated, extended, bit-flipped and random payloads raise CodecError or decode to
    `size` bytes; never another exception."""
    rng = random.Random(11)
    data = TEXT[:4000] + b"a" * 500 + TEXT[:2000]
    codec = Lz77Codec(coder=coder)
    payload = codec.encode(data)
    variants = corrupt_variants(payload, rng)
    variants += [payload[:1] + variant for variant in corrupt_variants(payload[1:], rng)]
    for variant in variants:
        try:
            out = codec.decode(variant, len(data))
        except CodecError:
            continue
        assert len(out) == len(data)
    with pytest.raises(CodecError):
        codec.decode(payload + b"\0", len(data))  # nothing may follow the padding
    with pytest.raises(CodecError):
        codec.decode(payload, len(data) + 1)  # the sequences rebuild exactly the block
    with pytest.raises(CodecError):
        codec.decode(payload[:-3], len(data))


@pytest.mark.parametrize("tokens, literals, why", [
    (([1], [7], [3]), b"ab", "a literal left over once the sequences fill the block"),
    (([1, 0], [7, 4], [3, 3]), b"a", "a sequence after the block is full"),
])
def test_huffman_tokens_must_rebuild_the_block_exactly(tokens: tuple, literals: bytes,
                                                       why: str) -> None:
    """Payloads the encoder never writes, whose first sequences already fill the 8-byte block
    (one literal 'a', then 7 copies at distance 1): the rest must not be ignored."""
    parsed = (*(array("I", column) for column in tokens), literals)
    payload = bytes([HUFFMAN_TOKENS]) + Lz77Codec._huffman_tokens(parsed, 8)
    with pytest.raises(CodecError):
        Lz77Codec().decode(payload, 8)
    exact = (array("I", [1]), array("I", [7]), array("I", [3]), b"a")
    assert Lz77Codec().decode(bytes([HUFFMAN_TOKENS]) + Lz77Codec._huffman_tokens(exact, 8),
                              8) == b"a" * 8, why


def test_unknown_token_coder_and_empty_payload() -> None:
    """A first byte naming no token coder, or no payload for a non-empty block, is refused."""
    codec = Lz77Codec()
    payload = codec.encode(TEXT)
    with pytest.raises(CodecError, match="token coder"):
        codec.decode(b"\x02" + payload[1:], len(TEXT))
    with pytest.raises(CodecError):
        codec.decode(b"", len(TEXT))


def test_coder_auto_picks_range_coding_from_level_8() -> None:
    """coder=auto: Huffman tokens up to level 7, range-coded tokens at 8 and 9, which are
    smaller on text; coder=huffman/range overrides the level's choice."""
    from pyarc_plugins.lz77 import ADAPTIVE_TOKENS, HUFFMAN_TOKENS

    assert [Lz77Codec(level=level).encode(TEXT)[0] for level in (1, 7, 8, 9)] == [
        HUFFMAN_TOKENS, HUFFMAN_TOKENS, ADAPTIVE_TOKENS, ADAPTIVE_TOKENS]
    assert Lz77Codec(level=9, coder="huffman").encode(TEXT)[0] == HUFFMAN_TOKENS
    assert Lz77Codec(level=1, coder="range").encode(TEXT)[0] == ADAPTIVE_TOKENS
    for level in (1, 6, 9):
        huffman = len(Lz77Codec(level=level, coder="huffman").encode(TEXT))
        assert len(Lz77Codec(level=level, coder="range").encode(TEXT)) < huffman


@pytest.mark.parametrize("coder", ["huffman", "range"])
def test_garbage_declared_as_a_huge_block_fails_fast(coder: str) -> None:
    """Random bytes declared as a 64 MiB block end in CodecError, not a long decode."""
    rng = random.Random(5)
    codec = Lz77Codec(coder=coder)
    header = codec.encode(TEXT)[:200]
    for _ in range(10):
        with pytest.raises(CodecError):
            codec.decode(header + rng.randbytes(rng.randint(1, 2000)), 64 << 20)


@pytest.mark.parametrize("kernel", ["pyarc_plugins.lz77.parse_kernel",
                                    "pyarc_plugins.lz77.sequences_kernel",
                                    "pyarc_plugins.lz77.adaptive_tokens_kernel"])
def test_compiled_and_pure_agree(kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a kernel run as plain Python the payloads are byte-identical and decode back."""
    import pyarc_plugins.lz77 as lz77_module

    compiled = getattr(lz77_module, kernel.rpartition(".")[2])
    if compiled.__file__.endswith(".py"):
        pytest.skip(f"{kernel} is not compiled: nothing to compare with")
    inputs = [b"x", b"abc" * 300, TEXT[:3000], bytes(range(256)) * 3,
              random.Random(2).randbytes(2000)]
    settings = [{"level": 1}, {"level": 6}, {"level": 9}, {"level": 1, "coder": "range"}]
    expected = [Lz77Codec(**options).encode(data) for data in inputs for options in settings]
    monkeypatch.setattr(lz77_module, kernel.rpartition(".")[2], pure(kernel))
    assert [Lz77Codec(**options).encode(data) for data in inputs
            for options in settings] == expected
    range_coded = expected[2::len(settings)]  # level 9
    for data, payload in zip(inputs, range_coded, strict=True):
        assert Lz77Codec().decode(payload, len(data)) == data
        assert Lz77Codec().decode(Lz77Codec().encode(data), len(data)) == data


@pytest.mark.corpus
def test_corpus_round_trip_and_default_size(corpus_dir: Path) -> None:
    """Every Calgary file round-trips at the default level; the Calgary-14 total is at most
    2.45 bits per byte (gzip -9 reaches 2.591)."""
    codec = Lz77Codec()
    total = packed = 0
    for path in sorted(corpus_dir.iterdir()):
        data = path.read_bytes()
        payload = codec.encode(data)
        assert codec.decode(payload, len(data)) == data, path.name
        if path.name in CALGARY_14:
            total += len(data)
            packed += len(payload)
    assert 8 * packed / total <= 2.45


@pytest.mark.corpus
def test_corpus_top_level_size(corpus_dir: Path) -> None:
    """Level 9 (optimal parse, range-coded tokens) packs Calgary-14 into at most 2.25 bits
    per byte (xz -9e reaches 2.149) and round-trips it."""
    assert calgary_bpc(corpus_dir, Lz77Codec(level=9)) <= 2.25


def test_cli_round_trip_and_bad_option(tmp_path: Path, run_cli: RunCli) -> None:
    """`pyarc pack --codec lz77:level=1,coder=range` round-trips a tree; `lz77:level=10` and
    `lz77:coder=zip` are usage errors."""
    assert_cli_codec(run_cli, tmp_path, "lz77:level=1,coder=range",
                     {"lz77:level=10": "level", "lz77:coder=zip": "coder"})


def test_blocks_too_big_for_the_optimal_parse_are_parsed_lazily(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Above OPTIMAL_MAX_BLOCK, levels 8 and 9 parse as level 7 does (bounded memory), and
    still range code the tokens."""
    import pyarc_plugins.lz77 as lz77_module

    data = TEXT[:5000]
    optimal = Lz77Codec(level=9).encode(data)
    monkeypatch.setattr(lz77_module, "OPTIMAL_MAX_BLOCK", len(data) - 1)
    lazy = Lz77Codec(level=9).encode(data)
    assert lazy == Lz77Codec(level=7, coder="range").encode(data) != optimal
    assert Lz77Codec().decode(lazy, len(data)) == data
