"""The cm codec: losslessness on edge cases at every level and at the smallest memory, the
stored fallback for incompressible data, corrupt and random payloads refused quickly, compiled
and pure kernels agreeing, the bit-history tables, the CLI, and the size targets on the
Calgary corpus."""

from __future__ import annotations

import contextlib
import random
import time
from pathlib import Path

import pytest
from conftest import RunCli, assert_cli_codec, calgary_bpc
from edge_inputs import TEXT, corrupt_variants, edge_cases
from pure_kernels import pure

from archiver import CodecError, UsageError
from pyarc_plugins.cm import CmCodec
from pyarc_plugins.coding.kind_byte import MODELLED, STORED

KERNEL = "pyarc_plugins.cm.model_kernel"

@pytest.mark.parametrize("name", list(edge_cases()))
@pytest.mark.parametrize("options", [{}, {"level": 1}, {"level": 3}, {"memory": 16}])
def test_round_trip(name: str, options: dict[str, int]) -> None:
    """decode(encode(x)) == x at levels 1 to 3 and at the smallest memory."""
    data = edge_cases()[name]
    codec = CmCodec(**options)
    assert codec.decode(codec.encode(data), len(data)) == data


def test_empty_block() -> None:
    """An empty block has an empty payload, and only an empty payload decodes to it."""
    codec = CmCodec()
    assert codec.encode(b"") == b""
    assert codec.decode(b"", 0) == b""
    with pytest.raises(CodecError):
        codec.decode(b"\x00", 0)
    with pytest.raises(CodecError):
        codec.decode(b"", 10)


def test_incompressible_data_grows_by_one_byte() -> None:
    """Random bytes are stored (one byte of payload kind); text and runs are modelled."""
    data = random.Random(1).randbytes(20_000)
    payload = CmCodec().encode(data)
    assert payload[0] == STORED and len(payload) == len(data) + 1
    for data in (TEXT, b"z" * 10_000):
        payload = CmCodec().encode(data)
        assert payload[0] == MODELLED and len(payload) < len(data) // 2


def test_long_runs_cost_almost_nothing() -> None:
    """100,000 equal bytes take a few dozen bytes: the counters and the APMs get confident.
    (Payload version 1 took 53 bytes, version 2 takes 65: its mixer learns at a quarter of the
    rate, and a 16-bit weight stops moving once the error is below about 2**-7.)"""
    assert len(CmCodec().encode(b"a" * 100_000)) < 72
    assert len(CmCodec().encode(bytes(1 << 20))) < 600


def test_levels_and_memory_are_options_of_the_payload() -> None:
    """A payload decodes only under the options that wrote it (they are in the block header):
    another level or memory reads another model, which the range coder's end check refuses,
    or decodes other bytes."""
    data = TEXT[:6000]
    payload = CmCodec(level=2).encode(data)
    for other in ({"level": 1}, {"level": 3}):
        with contextlib.suppress(CodecError):
            assert CmCodec(**other).decode(payload, len(data)) != data


def test_options_are_checked() -> None:
    for bad in ({"level": 0}, {"level": 4}, {"memory": 15}, {"memory": 2048},
                {"level": "two"}, {"order": 3}):
        with pytest.raises(UsageError):
            CmCodec(**bad)


@pytest.mark.parametrize("level", [1, 2, 3])
def test_corrupt_payloads_give_codec_error(level: int) -> None:
    """Truncated, extended, bit-flipped and random payloads raise CodecError or decode to
    exactly `size` bytes, each within a second; never another exception, never a hang."""
    rng = random.Random(level)
    data = TEXT[:4000] + b"a" * 500 + TEXT[:2000]
    codec = CmCodec(level=level)
    payload = codec.encode(data)
    for variant in corrupt_variants(payload, rng):
        start = time.perf_counter()
        try:
            out = codec.decode(variant, len(data))
        except CodecError:
            out = None
        assert time.perf_counter() - start < 1.0
        assert out is None or len(out) == len(data)
    with pytest.raises(CodecError):
        codec.decode(payload + b"\0", len(data))  # the range coder ends exactly
    with pytest.raises(CodecError):
        codec.decode(payload[:-3], len(data))
    with pytest.raises(CodecError):
        codec.decode(payload, len(data) + 1)


def test_bad_payload_kind_and_stored_size() -> None:
    codec = CmCodec()
    with pytest.raises(CodecError, match="kind"):
        codec.decode(b"\x02abc", 3)
    with pytest.raises(CodecError, match="stored"):
        codec.decode(b"\x01abc", 4)
    assert codec.decode(b"\x01abc", 3) == b"abc"


def test_garbage_declared_as_a_huge_block_fails_fast() -> None:
    """Random bytes declared as a 64 MiB block end in CodecError within a second."""
    rng = random.Random(4)
    codec = CmCodec()
    for _ in range(5):
        start = time.perf_counter()
        with pytest.raises(CodecError):
            codec.decode(b"\x00" + rng.randbytes(rng.randint(1, 2000)), 64 << 20)
        assert time.perf_counter() - start < 1.0


def test_compiled_and_pure_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """The model run as plain Python writes byte-identical payloads, and decodes them."""
    import pyarc_plugins.cm as cm_module

    if cm_module.model_kernel.__file__.endswith(".py"):
        pytest.skip(f"{KERNEL} is not compiled: nothing to compare with")
    inputs = [b"x", b"abc" * 100, TEXT[:1200], bytes(range(256)),
              b"".join(i.to_bytes(2, "little") + b"\xff" for i in range(200)),
              random.Random(2).randbytes(150) * 3]
    settings = [{"level": 1}, {}, {"level": 3}]
    expected = [CmCodec(**options).encode(data) for data in inputs for options in settings]
    monkeypatch.setattr(CmCodec, "model_kernel", pure(KERNEL))
    assert [CmCodec(**options).encode(data) for data in inputs
            for options in settings] == expected
    defaults = expected[1::len(settings)]
    for data, payload in zip(inputs, defaults, strict=True):
        assert CmCodec().decode(payload, len(data)) == data


def test_compiled_and_pure_agree_on_version_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """The model of payload version 1 (64-bit mixer, two APMs), still decoded, is the same
    compiled and run as plain Python."""
    import pyarc_plugins.cm as cm_module

    if cm_module.model_kernel.__file__.endswith(".py"):
        pytest.skip(f"{KERNEL} is not compiled: nothing to compare with")
    compiled = cm_module.model_kernel
    inputs = [b"abc" * 100, TEXT[:1200], random.Random(2).randbytes(150) * 3]
    for data in inputs:
        for level in (1, 2, 3):
            payload = compiled.encode(data, level, 16 << 20, 1)
            assert pure(KERNEL).encode(data, level, 16 << 20, 1) == payload
            assert pure(KERNEL).decode(payload, len(data), level, 16 << 20, 1) == data
            assert payload != compiled.encode(data, level, 16 << 20, 2)


def test_bit_history_tables_match_the_spec() -> None:
    """spec/codecs/coding.md, "Bit histories": 210 states, numbered by total then n1, and the
    check values of the transitions and first probabilities."""
    from pyarc_plugins.coding.bithistory_inline import STATES, history_pairs, history_tables

    pairs = history_pairs()
    nxt, p0 = history_tables()
    assert STATES == len(pairs) == 210
    assert pairs[:6] == [(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2)]
    assert (nxt[0], nxt[1]) == (1, 2)
    assert p0[0] == 1 << 21 and p0[1] == (3 << 22) // 4
    state = 0
    for _ in range(60):
        state = nxt[2 * state + 1]
    assert pairs[state] == (0, 48)
    assert pairs[nxt[2 * state]] == (1, 7)
    assert all(n0 + n1 == 0 or nxt[2 * s] != s or n0 == 48
               for s, (n0, n1) in enumerate(pairs))


def test_memory_sizes_follow_the_spec() -> None:
    """spec/codecs/cm.md, "Memory": small blocks get small tables, large ones the option's."""
    from pyarc_plugins.cm.model_kernel import table_sizes

    for version, apms in ((1, 65536 + 16384), (2, 65536)):
        small, _ = table_sizes(1000, 2, 64 << 20, version)
        large, entries = table_sizes(10 << 20, 2, 64 << 20, version)
        assert small < 1 << 20
        assert large + 4 * entries <= (64 << 20) - apms * 33 * 2
    # Version 2 caps the table at 8 bytes per byte and hashed model, version 1 at 32.
    assert table_sizes(100_000, 2, 64 << 20, 2)[0] < table_sizes(100_000, 2, 64 << 20, 1)[0] / 3


def test_cli_round_trip_and_bad_option(tmp_path: Path, run_cli: RunCli) -> None:
    """`pyarc pack --codec cm:level=1,memory=16` round-trips a tree; `cm:level=0` and
    `cm:memory=big` are usage errors."""
    assert_cli_codec(run_cli, tmp_path, "cm:level=1,memory=16",
                     {"cm:level=0": "level", "cm:memory=big": "memory"})


@pytest.mark.corpus
def test_corpus_default_size(corpus_dir: Path) -> None:
    """Default settings (level 2, 64 MiB): Calgary-14 in at most 1.78 bits per byte, the
    issue's target (zpaq -m5 1.736, PPMd o16 1.887, our ppm 1.889)."""
    assert calgary_bpc(corpus_dir, CmCodec()) <= 1.78


@pytest.mark.corpus
def test_corpus_round_trip_all_files(corpus_dir: Path) -> None:
    """Every file of the corpus (the papers too) round-trips at level 1."""
    codec = CmCodec(level=1)
    for path in sorted(corpus_dir.iterdir()):
        data = path.read_bytes()
        assert codec.decode(codec.encode(data), len(data)) == data, path.name
