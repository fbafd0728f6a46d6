"""The ppm codec: losslessness on edge cases, orders and memory limits (with restarts), the
stored fallback for incompressible data, corrupt payloads, compiled and pure kernels agreeing,
the CLI, and the size targets on the Calgary corpus."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import RunCli, assert_cli_codec, calgary_bpc
from edge_inputs import TEXT, corrupt_variants, edge_cases
from pure_kernels import pure

from archiver import CodecError, UsageError
from pyarc_plugins.coding.kind_byte import MODELLED, STORED
from pyarc_plugins.ppm import PpmCodec

KERNEL = "pyarc_plugins.ppm.model_kernel"

@pytest.mark.parametrize("name", list(edge_cases()))
@pytest.mark.parametrize("options", [{}, {"order": 1}, {"order": 2}, {"order": 16},
                                     {"order": 64}, {"order": 4, "memory": 1}])
def test_round_trip(name: str, options: dict[str, int]) -> None:
    """decode(encode(x)) == x for orders 1 to 64 and a 1 MiB memory limit."""
    data = edge_cases()[name]
    codec = PpmCodec(**options)
    assert codec.decode(codec.encode(data), len(data)) == data


def test_empty_block() -> None:
    """An empty block has an empty payload, and only an empty payload decodes to it."""
    codec = PpmCodec()
    assert codec.encode(b"") == b""
    assert codec.decode(b"", 0) == b""
    with pytest.raises(CodecError):
        codec.decode(b"\x00", 0)
    with pytest.raises(CodecError):
        codec.decode(b"", 10)


def test_incompressible_data_grows_by_one_byte() -> None:
    """Random bytes are stored (one byte of payload kind), far below the 1% allowed; text and
    runs are modelled and shrink."""
    data = random.Random(3).randbytes(50_000)
    payload = PpmCodec().encode(data)
    assert payload[0] == STORED and len(payload) == len(data) + 1
    assert len(payload) < 1.01 * len(data)
    assert PpmCodec().encode(TEXT)[0] == MODELLED
    assert len(PpmCodec().encode(TEXT)) < 0.4 * len(TEXT)
    assert len(PpmCodec().encode(b"a" * 100_000)) < 100


def test_long_runs_reach_the_most_confident_estimates() -> None:
    """Megabytes of one byte or of a period of two drive every estimate to its floor, where
    decisions skip the mixer: they still decode, and cost almost nothing (a tenth of that
    when the model runs as plain Python, which is enough to reach the floor)."""
    import pyarc_plugins.ppm as ppm_module

    size = 200_000 if ppm_module.model_kernel.__file__.endswith(".py") else 2 << 20
    codec = PpmCodec()
    for data in (b"a" * size, b"ab" * (size // 2)):
        payload = codec.encode(data)
        assert payload[0] == MODELLED and len(payload) < 100
        assert codec.decode(payload, len(data)) == data


def test_higher_orders_help_on_text() -> None:
    """On text order 1 < order 2 < order 6 in size (more context, better predictions)."""
    sizes = [len(PpmCodec(order=order).encode(TEXT)) for order in (1, 2, 6)]
    assert sizes[0] > sizes[1] > sizes[2]


def test_memory_limit_restarts_the_model() -> None:
    """With a 1 MiB limit, 400 kB of varied text fills the model: it restarts (several times),
    stays within its arrays' budget, and the data still round-trips."""
    from pyarc_plugins.ppm import model_kernel

    rng = random.Random(9)
    words = TEXT.split()
    data = b" ".join(rng.choice(words) + bytes([rng.randrange(97, 123)])
                     for _ in range(70_000))[:400_000]
    small = model_kernel.statistics(data, 6, 1 << 20)
    assert small["restarts"] >= 1
    assert small["array_bytes"] <= 1 << 20
    large = model_kernel.statistics(data, 6, 256 << 20)
    assert large["restarts"] == 0
    codec = PpmCodec(memory=1)
    assert codec.decode(codec.encode(data), len(data)) == data


def test_options_are_checked() -> None:
    """Orders 1..64 and memory 1..1024 MiB; anything else is a usage error."""
    for bad in ({"order": 0}, {"order": 65}, {"memory": 0}, {"memory": 2048},
                {"order": "six"}, {"window": 3}):
        with pytest.raises(UsageError):
            PpmCodec(**bad)


@pytest.mark.parametrize("order", [2, 6, 16])
def test_corrupt_payloads_give_codec_error(order: int) -> None:
    """Truncated, extended, bit-flipped and random payloads raise CodecError or decode to
    exactly `size` bytes; never another exception, never a hang."""
    rng = random.Random(order)
    data = TEXT[:4000] + b"a" * 500 + TEXT[:2000]
    codec = PpmCodec(order=order)
    payload = codec.encode(data)
    for variant in corrupt_variants(payload, rng):
        try:
            out = codec.decode(variant, len(data))
        except CodecError:
            continue
        assert len(out) == len(data)
    with pytest.raises(CodecError):
        codec.decode(payload + b"\0", len(data))  # the range coder ends exactly
    with pytest.raises(CodecError):
        codec.decode(payload[:-3], len(data))
    with pytest.raises(CodecError):
        codec.decode(payload, len(data) + 1)


def test_bad_payload_kind_and_stored_size() -> None:
    """A first byte that is neither kind, or a stored payload of the wrong size, is refused."""
    codec = PpmCodec()
    with pytest.raises(CodecError, match="kind"):
        codec.decode(b"\x02abc", 3)
    with pytest.raises(CodecError, match="stored"):
        codec.decode(b"\x01abc", 4)
    assert codec.decode(b"\x01abc", 3) == b"abc"


def test_garbage_declared_as_a_huge_block_fails_fast() -> None:
    """Random bytes declared as a 64 MiB block end in CodecError soon after the payload runs
    out, not after decoding 64 MiB."""
    rng = random.Random(4)
    codec = PpmCodec()
    for _ in range(5):
        with pytest.raises(CodecError):
            codec.decode(b"\x00" + rng.randbytes(rng.randint(1, 2000)), 64 << 20)


def test_compiled_and_pure_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """The model run as plain Python writes byte-identical payloads, and decodes them."""
    import pyarc_plugins.ppm as ppm_module

    if ppm_module.model_kernel.__file__.endswith(".py"):
        pytest.skip(f"{KERNEL} is not compiled: nothing to compare with")
    inputs = [b"x", b"abc" * 300, TEXT[:3000], bytes(range(256)) * 2, b"\0" * 2000,
              random.Random(2).randbytes(600) * 2]
    settings = [{"order": 1}, {"order": 2}, {}, {"order": 16}]
    expected = [PpmCodec(**options).encode(data) for data in inputs for options in settings]
    monkeypatch.setattr(PpmCodec, "model_kernel", pure(KERNEL))
    assert [PpmCodec(**options).encode(data) for data in inputs
            for options in settings] == expected
    defaults = expected[2::len(settings)]
    for data, payload in zip(inputs, defaults, strict=True):
        assert PpmCodec().decode(payload, len(data)) == data


def test_shared_tables_match_the_spec() -> None:
    """The mixer's tables (spec/codecs/coding.md, "Mixer", B = 22) give the spec's check values,
    and the counters' rates are ppm's 1/(n + 8) (spec/codecs/ppm.md, section 3.4)."""
    from pyarc_plugins.coding.counters_inline import counter_rates
    from pyarc_plugins.coding.mixer_inline import squash_table, stretch_table

    squash = squash_table(22)
    stretch = stretch_table(squash, 22)
    assert (squash[1], squash[4095], squash[2048]) == (1412, 4192890, 2097152)
    assert (stretch[2730], stretch[0], stretch[2048]) == (178, -2047, 0)
    assert list(counter_rates(16, 255)) == [65536 // (n + 8) for n in range(256)]


def test_cli_round_trip_and_bad_option(tmp_path: Path, run_cli: RunCli) -> None:
    """`pyarc pack --codec ppm:order=4,memory=16` round-trips a tree; `ppm:order=0` and
    `ppm:memory=big` are usage errors."""
    assert_cli_codec(run_cli, tmp_path, "ppm:order=4,memory=16",
                     {"ppm:order=0": "order", "ppm:memory=big": "memory"})


@pytest.mark.corpus
def test_corpus_default_size(corpus_dir: Path) -> None:
    """Default settings (order 6): Calgary-14 in at most 1.895 bits per byte (1.8885 measured;
    PPMd var.I at order 6 reaches 1.907, at order 16 1.887; bzip2 -9 2.109)."""
    assert calgary_bpc(corpus_dir, PpmCodec()) <= 1.895


@pytest.mark.corpus
def test_corpus_best_size(corpus_dir: Path) -> None:
    """The best settings measured (order 64, see docs/ppm.md): at most 1.885 bits per byte,
    under the issue's target of 1.89 (1.8804 measured; PPMd var.I at order 16: 1.887)."""
    assert calgary_bpc(corpus_dir, PpmCodec(order=64)) <= 1.885


@pytest.mark.corpus
def test_corpus_round_trip_all_files(corpus_dir: Path) -> None:
    """Every file of the corpus (the papers too) round-trips at the default settings."""
    codec = PpmCodec()
    for path in sorted(corpus_dir.iterdir()):
        data = path.read_bytes()
        assert codec.decode(codec.encode(data), len(data)) == data, path.name
