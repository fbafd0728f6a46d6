"""The codec contract (archiver.codec) and how the block pipeline holds codecs to it.

Spec syntax, option parsing and canonical values; options travel in the block header to the
decoder; a block no codec shrinks is stored; a misbehaving decoder becomes a CodecError.
Fixture codecs live in tests/plugins_for_tests/pt_codecs.py.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

import archiver
from archiver import ChecksumError, Codec, CodecError, Option, PyarcError, UsageError
from archiver.codec import format_codec_spec, parse_codec_spec
from archiver.plugins import RegisteredCodec, Registry, load_registry

FIXTURES = Path(__file__).parent / "plugins_for_tests"
DATA = b"aaaaaaaabbbbbbbbbbbbcccc" * 100 + b"tail"


@pytest.fixture
def reg(monkeypatch: pytest.MonkeyPatch) -> Registry:
    monkeypatch.syspath_prepend(str(FIXTURES))
    group = "pyarc.codecs"
    return load_registry(entry_points=[
        importlib.metadata.EntryPoint("store", "pyarc_plugins.store", group),
        importlib.metadata.EntryPoint("testcodecs", "pt_codecs", group),
    ])


@pytest.fixture
def level_log(reg: Registry) -> list[dict]:
    log = reg.get("levelcodec").codec.decoded_with
    log.clear()
    yield log
    log.clear()


# -- spec syntax --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "name", "options"), [
    ("store", "store", {}),
    ("lz77:level=9", "lz77", {"level": "9"}),
    ("x:a=1,b=two", "x", {"a": "1", "b": "two"}),
    ("my-codec_2:window_bits=16", "my-codec_2", {"window_bits": "16"}),
])
def test_parse_codec_spec_accepts(text: str, name: str, options: dict[str, str]) -> None:
    assert parse_codec_spec(text) == (name, options)
    assert format_codec_spec(name, options) == text
    assert parse_codec_spec(format_codec_spec(name, options)) == (name, options)


@pytest.mark.parametrize("text", [
    "Bad", "x:level", "x:=3", "x:a=1,a=2", "", "x:a=", "1abc", "x y", "x:A=1",
])
def test_parse_codec_spec_rejects(text: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_codec_spec(text)
    assert str(raised.value) and "\n" not in str(raised.value)


def test_format_codec_spec_writes_canonical_values() -> None:
    assert format_codec_spec("lz77", {"level": 9, "mode": "fast"}) == "lz77:level=9,mode=fast"
    assert format_codec_spec("store", {}) == "store"


# -- options ------------------------------------------------------------------------------------

LEVEL = Option("level", 5, "compression level", minimum=1, maximum=9)
MODE = Option("mode", "fast", "speed", choices=("fast", "small"))


def test_option_parse_integers() -> None:
    assert LEVEL.parse("9") == 9
    assert LEVEL.parse(1) == 1
    with pytest.raises(UsageError, match="integer"):
        LEVEL.parse("nine")
    with pytest.raises(UsageError, match="minimum 1"):
        LEVEL.parse("0")
    with pytest.raises(UsageError, match="maximum 9"):
        LEVEL.parse(10)


def test_option_parse_choices() -> None:
    assert MODE.parse("small") == "small"
    with pytest.raises(UsageError) as raised:
        MODE.parse("medium")
    assert "fast" in str(raised.value) and "small" in str(raised.value)


def test_unknown_option_names_the_known_ones(reg: Registry) -> None:
    with pytest.raises(UsageError) as raised:
        reg.create("levelcodec:lvl=3")
    message = str(raised.value)
    assert "lvl" in message and "level" in message and "flavor" in message
    with pytest.raises(UsageError, match="none"):
        reg.create("store:level=3")


def test_options_hold_canonical_values(reg: Registry) -> None:
    codec = reg.create("levelcodec:level=9")
    assert codec.options == {"level": 9, "flavor": "plain"}
    assert codec.spec == "levelcodec:level=9,flavor=plain"
    assert reg.create("levelcodec").options == {"level": 5, "flavor": "plain"}


def test_options_are_checked_on_compress(reg: Registry) -> None:
    with pytest.raises(UsageError):
        archiver.compress(DATA, "levelcodec:level=10", registry=reg)
    with pytest.raises(UsageError):
        archiver.compress(DATA, "levelcodec:flavor=odd", registry=reg)
    with pytest.raises(UsageError, match="twice"):
        archiver.compress(DATA, "levelcodec:level=3", registry=reg, level=4)


@pytest.mark.parametrize("value", ["x" * 65, "caf\u00e9", "a\tb"],
                         ids=["too-long", "non-ascii", "tab"])
def test_option_values_a_block_header_cannot_hold_are_usage_errors(value: str) -> None:
    class Tagged(Codec):
        name = "tagged"
        option_specs = (Option("tag", "abc", "a free-text option"),)

        def encode(self, data: bytes) -> bytes:
            return bytes(data[:1])

        def decode(self, payload: bytes, size: int) -> bytes:
            return payload * size

    store = load_registry(entry_points=[
        importlib.metadata.EntryPoint("store", "pyarc_plugins.store", "pyarc.codecs")])
    registry = Registry({"store": store.get("store"),
                         "tagged": RegisteredCodec(Tagged, "test", "test 1")})
    with pytest.raises(UsageError):
        archiver.compress(b"a" * 100, "tagged", registry=registry, tag=value)


# -- options travel in the block header -------------------------------------------------------

def test_block_header_carries_the_options_to_the_decoder(
    reg: Registry, level_log: list[dict], tmp_path: Path
) -> None:
    blob = archiver.compress(DATA, "levelcodec:level=3", registry=reg)
    assert archiver.decompress(blob, registry=reg) == DATA
    assert level_log == [{"level": 3, "flavor": "plain"}]
    path = tmp_path / "x.pyarc"
    path.write_bytes(blob)
    with archiver.open_archive(path, registry=reg) as opened:
        [entry] = opened.entries
        [ref] = opened.blocks_of(entry)
        assert ref.codec == "levelcodec"
        assert opened.read(entry) == DATA
    # keyword options are the same as options in the spec
    assert archiver.compress(DATA, "levelcodec", registry=reg, level=3) == blob
    # and the option changes the payload
    assert archiver.compress(DATA, "levelcodec:level=4", registry=reg) != blob


def test_every_block_records_its_options(reg: Registry, level_log: list[dict]) -> None:
    blob = archiver.compress(DATA * 3, "levelcodec:level=7,flavor=fancy", block_size=1024,
                             registry=reg)
    assert archiver.decompress(blob, registry=reg) == DATA * 3
    assert len(level_log) == 8 and all(o == {"level": 7, "flavor": "fancy"} for o in level_log)


# -- the block pipeline keeps codecs honest -------------------------------------------------


def test_expanding_codec_falls_back_to_store(reg: Registry, tmp_path: Path) -> None:
    data = bytes(range(256)) * 8
    blob = archiver.compress(data, "expander", registry=reg)
    path = tmp_path / "e.pyarc"
    path.write_bytes(blob)
    with archiver.open_archive(path, registry=reg) as opened:
        [entry] = opened.entries
        refs = opened.blocks_of(entry)
        assert [ref.codec for ref in refs] == ["store"]
        assert refs[0].stored_size == refs[0].raw_size == len(data)
        assert opened.read(entry) == data
    assert archiver.decompress(blob, registry=reg) == data


@pytest.mark.parametrize(("codec", "error", "words"), [
    ("crasher", CodecError, ("crasher", "ZeroDivisionError")),
    ("shortdec", CodecError, ("shortdec", "bytes")),
    ("longdec", CodecError, ("longdec", "bytes")),
    ("liar", ChecksumError, ("checksum",)),
    ("nonedec", CodecError, ("nonedec",)),
])
def test_misbehaving_decoder_is_a_one_line_error(
    reg: Registry, tmp_path: Path, codec: str, error: type[PyarcError], words: tuple[str, ...]
) -> None:
    blob = archiver.compress(DATA, codec, registry=reg)
    path = tmp_path / "bad.pyarc"
    path.write_bytes(blob)
    with archiver.open_archive(path, registry=reg) as opened:
        [entry] = opened.entries
        assert opened.blocks_of(entry)[0].codec == codec  # the codec was really used
        readers = [
            lambda: archiver.decompress(blob, registry=reg),
            lambda: opened.read(entry),
            lambda: archiver.api.test(path, registry=reg),
        ]
        for read in readers:
            with pytest.raises(error) as raised:
                read()
            message = str(raised.value)
            assert "\n" not in message
            assert all(word in message for word in words), message
            assert "offset" in message  # names the block
