"""The conformance kit (archiver.testing): every built-in codec passes it, and it catches
each way a deliberately broken codec breaks the contract."""

from __future__ import annotations

import itertools
import random
import time

import pytest

import archiver.testing
from archiver import Codec, CodecError, Option
from archiver.plugins import registry
from archiver.testing import assert_conforms, check_codec


@pytest.mark.parametrize("name", [found.codec.name for found in registry()])
def test_builtin_codec_conforms(name: str) -> None:
    assert_conforms(registry().get(name).codec, fuzz_cases=120)


class Reverse(Codec):
    """A correct toy codec: the payload is the data reversed."""

    name = "reverse"
    description = "reverses the bytes"
    option_specs = (Option("pad", 0, "bytes of zeros after the data", minimum=0, maximum=3),)

    def encode(self, data: bytes) -> bytes:
        return data[::-1] + bytes(int(self.options["pad"])) if data else b""

    def decode(self, payload: bytes, size: int) -> bytes:
        pad = int(self.options["pad"]) if size else 0
        if len(payload) != size + pad or any(payload[size:]):
            raise CodecError("reverse: the payload is not size + pad bytes")
        return payload[:size][::-1]


def checks_failed(codec_class: type[Codec]) -> set[str]:
    return {failure.check for failure in check_codec(codec_class, fuzz_cases=60)}


def test_a_correct_toy_codec_conforms() -> None:
    assert_conforms(Reverse, fuzz_cases=60)


def test_kit_catches_a_decoder_that_crashes_on_garbage() -> None:
    class Crashy(Reverse):
        def decode(self, payload: bytes, size: int) -> bytes:
            return bytes(payload[i] for i in range(size))[::-1]  # IndexError when short

    assert "crash" in checks_failed(Crashy)


def test_kit_catches_a_decoder_that_returns_the_wrong_length() -> None:
    class Sloppy(Reverse):
        def decode(self, payload: bytes, size: int) -> bytes:
            return payload[::-1]

    assert "wrong length" in checks_failed(Sloppy)


def test_kit_catches_a_lossy_and_a_nondeterministic_encoder() -> None:
    class Lossy(Reverse):
        def encode(self, data: bytes) -> bytes:
            return data[:-1][::-1] + b"\0" if data else b""

    counter = itertools.count()

    class Moody(Reverse):
        def encode(self, data: bytes) -> bytes:
            return data[::-1] + bytes(next(counter) % 2) if data else b""

        def decode(self, payload: bytes, size: int) -> bytes:
            return payload[:size][::-1] if len(payload) >= size else b""

    assert "round trip" in checks_failed(Lossy)
    assert "determinism" in checks_failed(Moody)


def test_kit_catches_bad_names_and_option_handling() -> None:
    class BadName(Reverse):
        name = "Not A Name"

    class NoOptionChecks(Reverse):
        def __init__(self, **options: object) -> None:
            self.options = {"pad": 0}

    assert checks_failed(BadName) == {"name"}
    assert "options" in checks_failed(NoOptionChecks)
    with pytest.raises(AssertionError, match="breaks the codec contract"):
        assert_conforms(BadName)


def test_kit_catches_older_versions_without_their_decoder() -> None:
    class Promised(Reverse):
        version = 2
        reads_older = frozenset({1})

    class Kept(Promised):
        def decode_older(self, payload: bytes, size: int, version: int) -> bytes:
            return self.decode(payload, size)

    class Impossible(Kept):
        reads_older = frozenset({2})

    assert checks_failed(Promised) == {"version"}
    assert checks_failed(Kept) == set()
    assert checks_failed(Impossible) == {"version"}


def test_kit_catches_a_decoder_that_never_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decoding runs in a child with a deadline: a decoder stuck for ever is killed and named,
    and the payloads after it are still tried."""
    monkeypatch.setattr(archiver.testing, "HANG_SECONDS", 1.0)

    class Stuck(Reverse):
        def decode(self, payload: bytes, size: int) -> bytes:
            if len(payload) % 7 == 3:
                while True:  # never returns, never raises
                    pass
            return payload[::-1]  # and wrong lengths elsewhere, still found

    rng = random.Random(5)
    started = time.monotonic()
    failures = list(archiver.testing.fuzz_decoder(Stuck(), rng, 40))
    assert {"hang", "wrong length"} <= {failure.check for failure in failures}
    assert all("no result after 1 s" in failure.detail
               for failure in failures if failure.check == "hang")
    assert time.monotonic() - started < 30
