"""The bwt codec: the transform against a naive rotation sort, losslessness on edge cases,
inputs that defeat naive suffix sorting, several BWT blocks per container block, corrupt
payloads (a wrong primary index included), compiled and pure kernels agreeing, the CLI, and
the size targets on the Calgary corpus. All randomness is seeded: the tests are deterministic.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pydivsufsort
import pytest
from conftest import RunCli, assert_cli_codec, calgary_bpc
from pure_kernels import pure  # type: ignore[import-not-found]

from archiver import CodecError, UsageError
from pyarc_plugins.bwt import CHAINS, BwtCodec, transform_kernel

STAGES = ["runs", "cm"]
TEXT = (b"It was the best of times, it was the worst of times, it was the age of wisdom, "
        b"it was the age of foolishness, it was the epoch of belief, it was the epoch of "
        b"incredulity, it was the season of Light, it was the season of Darkness. ") * 20
MiB = 1 << 20


def naive_bwt(data: bytes) -> tuple[bytes, int]:
    """The transform by sorting every rotation of data + $ ($ = -1 sorts first): O(n^2 log n)."""
    symbols = [*data, -1]
    rotations = sorted(range(len(symbols)), key=lambda i: symbols[i:] + symbols[:i])
    column = [symbols[i - 1] for i in rotations]
    primary = column.index(-1)
    return bytes(c for c in column if c != -1), primary


def naive_rows(data: bytes) -> tuple[int, ...]:
    """The row of the suffix at each t * (n // CHAINS), by sorting the suffixes of data + $."""
    symbols = [*data, -1]
    order = sorted(range(len(symbols)), key=lambda i: symbols[i:])
    segment = len(data) // CHAINS
    return tuple(order.index(t * segment) for t in range(CHAINS))


def forward(data: bytes) -> tuple[bytes, tuple[int, ...]]:
    return transform_kernel.forward(data, pydivsufsort.divsufsort(data))


def test_banana() -> None:
    """The worked example of docs/bwt.md; the rows are those of the suffixes at 0 (the
    primary index), 1, 2 and 3."""
    assert naive_bwt(b"banana") == (b"annbaa", 4)
    assert forward(b"banana") == (b"annbaa", (4, 3, 6, 2))
    assert transform_kernel.inverse(b"annbaa", (4, 3, 6, 2)) == b"banana"


def test_codec_constant_matches_the_kernel() -> None:
    assert pure("pyarc_plugins.bwt.transform_kernel").CHAINS == CHAINS


def test_transform_matches_the_rotation_sort() -> None:
    rng = random.Random(1)
    cases = [b"a", b"ab", b"ba", b"aaaa", b"abab", b"mississippi", bytes(range(256)),
             bytes(range(255, -1, -1))]
    cases += [bytes(rng.choice(b"ab") for _ in range(rng.randint(1, 60))) for _ in range(100)]
    cases += [rng.randbytes(rng.randint(1, 200)) for _ in range(30)]
    for data in cases:
        last, rows = forward(data)
        assert (last, rows[0]) == naive_bwt(data), data
        assert rows == naive_rows(data), data
        assert transform_kernel.inverse(last, rows) == data


def test_every_wrong_primary_index_or_row_is_refused_or_caught() -> None:
    """inverse() refuses rows out of 1..n and any whose walks end elsewhere; the codec's CRC
    catches the rest (wrong rows whose walks still end where they should)."""
    data = b"abracadabra, abracadabra"
    last, rows = forward(data)
    for t in range(CHAINS):
        for wrong in (-1, 0, len(data) + 1, 2**40):
            bad = rows[:t] + (wrong,) + rows[t + 1:]
            with pytest.raises(CodecError, match="outside"):
                transform_kernel.inverse(last, bad)
    with pytest.raises(CodecError):
        transform_kernel.inverse(last, rows[:3])
    walked = 0
    for t in range(CHAINS):
        for wrong in range(1, len(data) + 1):
            if wrong == rows[t]:
                continue
            try:
                assert transform_kernel.inverse(last, rows[:t] + (wrong,) + rows[t + 1:]) != data
                walked += 1
            except CodecError:
                pass
    assert walked == 0  # here every wrong row ends a walk elsewhere
    codec = BwtCodec()
    payload = codec.encode(data)
    for t in range(CHAINS):
        for wrong in range(0, len(data) + 2):
            if wrong != rows[t]:
                bad = bytearray(payload)
                struct.pack_into("<I", bad, 4 + 4 * t, wrong)
                with pytest.raises(CodecError):
                    codec.decode(bytes(bad), len(data))


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("data", [
    b"", b"x", b"\0", b"ab", b"banana", bytes(range(256)), bytes(range(256)) * 40,
    TEXT, random.Random(3).randbytes(20000), b"\xff" * 5000 + b"\0" + b"\xff" * 5000,
], ids=["empty", "x", "nul", "ab", "banana", "all-256", "all-256x40", "text", "random",
        "runs"])
def test_round_trip(stage: str, data: bytes) -> None:
    codec = BwtCodec(stage=stage)
    payload = codec.encode(data)
    assert codec.decode(payload, len(data)) == data
    assert payload == codec.encode(data)  # deterministic
    if not data:
        assert payload == b""


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("name", ["one-byte", "period-2", "period-1000"])
def test_inputs_that_defeat_naive_suffix_sorting(stage: str, name: str) -> None:
    """1 MiB of one byte, of a period-2 and of a period-1000 pattern: round trip (they finish
    quickly; the bench, not this test, times them) and compress to almost nothing."""
    rng = random.Random(4)
    period = {"one-byte": b"z", "period-2": b"ab", "period-1000": rng.randbytes(1000)}[name]
    data = (period * (MiB // len(period) + 1))[:MiB]
    codec = BwtCodec(stage=stage)
    payload = codec.encode(data)
    assert codec.decode(payload, len(data)) == data
    assert len(payload) < len(data) // 100


@pytest.mark.parametrize("stage", STAGES)
def test_several_bwt_blocks_per_container_block(stage: str) -> None:
    """With block=1 (KiB) a block of 5000 bytes is 5 BWT blocks, the last of 904 bytes; each
    gets its own rows; a larger BWT block compresses better."""
    data = TEXT[:5000]
    small = BwtCodec(block=1, stage=stage)
    payload = small.encode(data)
    assert small.decode(payload, len(data)) == data
    rows = struct.unpack_from(f"<{5 * CHAINS}I", payload, 4)
    assert [row for i in range(0, 5000, 1024) for row in forward(data[i:i + 1024])[1]
            ] == list(rows)
    assert len(BwtCodec(stage=stage).encode(data)) < len(payload)
    with pytest.raises(CodecError):  # the decoder must be given the encoder's block option
        BwtCodec(block=2, stage=stage).decode(payload, len(data))


def test_options() -> None:
    assert BwtCodec().options == {"block": 16384, "stage": "runs"}
    for bad in ({"block": 0}, {"block": 16385}, {"stage": "huffman"}):
        with pytest.raises(UsageError):
            BwtCodec(**bad)


def corrupt_variants(payload: bytes, rng: random.Random) -> list[bytes]:
    variants = [b"", payload[:1], payload[:7], payload[:-1], payload[:-4], payload + b"\0",
                payload + b"\xff"]
    for _ in range(40):
        damaged = bytearray(payload)
        damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        variants.append(bytes(damaged))
    variants += [payload[:8] + rng.randbytes(rng.randint(0, 300)) for _ in range(20)]
    variants += [rng.randbytes(rng.randint(1, 300)) for _ in range(20)]
    return variants


@pytest.mark.parametrize("stage", STAGES)
def test_corrupt_payloads_give_codec_error(stage: str) -> None:
    """Truncated, extended, bit-flipped and random payloads all raise CodecError (the range
    coder's canonical ending, the LF walk and the CRC-32 leave nothing through)."""
    rng = random.Random(5)
    data = TEXT[:3000] + b"q" * 400 + rng.randbytes(300)
    codec = BwtCodec(stage=stage)
    payload = codec.encode(data)
    for variant in corrupt_variants(payload, rng):
        with pytest.raises(CodecError):
            codec.decode(variant, len(data))
    for size in (0, len(data) - 1, len(data) + 1):
        with pytest.raises(CodecError):
            codec.decode(payload, size)


@pytest.mark.parametrize("stage", STAGES)
def test_garbage_declared_as_a_huge_block_fails(stage: str) -> None:
    """Random bytes declared as a 64 MiB block end in CodecError (the decoder stops at the
    first impossible code or FLUSH_BYTES past the end), not in a long decode."""
    rng = random.Random(6)
    codec = BwtCodec(stage=stage)
    for _ in range(5):
        with pytest.raises(CodecError):
            codec.decode(rng.randbytes(rng.randint(20, 2000)), 64 << 20)


KERNELS = ["pyarc_plugins.bwt.transform_kernel", "pyarc_plugins.bwt.runs_kernel",
           "pyarc_plugins.bwt.context_model_kernel", "pyarc_plugins.coding.rangecoder_kernel"]


def run_pure(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make BwtCodec run every kernel it uses (and the primitives they cimport) as plain
    Python, for the rest of the test."""
    import pyarc_plugins.bwt as bwt_module

    sources = {name: pure(name) for name in KERNELS}  # (pure() resets the package's modules)
    for name, source in sources.items():
        monkeypatch.setattr(bwt_module, name.rpartition(".")[2], source)
    assert bwt_module.transform_kernel.__file__.endswith(".py")


def test_compiled_and_pure_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """With every kernel (and the primitives they cimport: the range coder, counters_inline,
    apm_inline) run as plain Python, payloads are byte-identical to the compiled ones and
    decode back, on small inputs."""
    import pyarc_plugins.bwt as bwt_module

    if all(getattr(bwt_module, name.rpartition(".")[2]).__file__.endswith(".py")
           for name in KERNELS):
        pytest.skip("the bwt kernels are not compiled: nothing to compare with")
    inputs = [b"x", b"banana", TEXT[:1500], bytes(range(256)) * 2, random.Random(7).randbytes(700),
              b"ab" * 600, b"q" * 40 + b"ab" * 30 + b"q" * 300]  # (the last: counted runs)
    settings = [{}, {"stage": "cm"}, {"block": 1}]
    expected = [BwtCodec(**options).encode(data) for data in inputs for options in settings]
    run_pure(monkeypatch)
    assert [BwtCodec(**options).encode(data) for data in inputs
            for options in settings] == expected
    payloads = iter(expected)
    for data in inputs:
        for options in settings:
            assert BwtCodec(**options).decode(next(payloads), len(data)) == data


def test_cli_round_trip_and_bad_option(tmp_path: Path, run_cli: RunCli) -> None:
    """`pyarc pack --codec bwt:...` round-trips a tree, also with a 2M container block; a bad
    option is one line and exit 2."""
    assert_cli_codec(run_cli, tmp_path, "bwt:block=4,stage=cm",
                     {"bwt:block=0": "block", "bwt:stage=zip": "stage"})
    code, _, err = run_cli("pack", "-b", "2M", "--codec", "bwt", tmp_path / "c.pyarc",
                           tmp_path / "tree")
    assert code == 0, err


@pytest.mark.corpus
def test_corpus_default_size(corpus_dir: Path) -> None:
    """Default settings (the runs stage): at most 2.05 bits per byte (bzip2 -9: 2.109);
    measured 2.005."""
    assert calgary_bpc(corpus_dir, BwtCodec()) <= 2.05


@pytest.mark.corpus
def test_corpus_best_setting_size(corpus_dir: Path) -> None:
    """The best setting, stage=cm: at most 1.98 (measured 1.968). A larger block cannot help:
    each file is one block."""
    assert calgary_bpc(corpus_dir, BwtCodec(stage="cm")) <= 1.98


def test_a_run_count_longer_than_any_block_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A count whose unary length part is 31 ones (a length of 32 bits: no block is that long)
    must be refused before its low bits are read: the table of their models has no row for it,
    and the compiled decoder used to read and write past its end (found writing
    spec/codecs/bwt.md). The header: CRC 0, then the four rows 1, 1, 1, 1."""
    payload = bytes.fromhex("0000000001000000010000000100000001000000" "03fc03eff800000050")
    with pytest.raises(CodecError, match="corrupt"):
        BwtCodec(stage="runs").decode(payload, 100)
    run_pure(monkeypatch)  # the plain-Python kernel, with bounds checks, too
    with pytest.raises(CodecError, match="corrupt"):
        BwtCodec(stage="runs").decode(payload, 100)
