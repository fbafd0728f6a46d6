"""spec/vectors/codecs: every golden payload of every codec version decodes, today's encoders
still write the payloads of their current versions, and bad payloads give their errors
(spec/make_codec_vectors.py --check, run here in-process); the checks themselves catch a
changed encoder, a dropped version and a changed error."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from archiver.plugins import RegisteredCodec, Registry, registry

SPEC = Path(__file__).resolve().parents[1] / "spec"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_codec_vectors",
                                                  SPEC / "make_codec_vectors.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_codec_vectors"] = module
    spec.loader.exec_module(module)
    return module


vectors = _load_generator()


def with_codec(codec_class: type) -> Registry:
    """The installed registry with one codec replaced by codec_class."""
    found = {entry.codec.name: entry for entry in registry()}
    old = found[codec_class.name]
    found[codec_class.name] = RegisteredCodec(codec_class, old.plugin, old.distribution)
    return Registry(found)


def test_every_vector_holds() -> None:
    assert vectors.check(registry()) == []


def test_every_builtin_codec_and_option_extreme_is_covered() -> None:
    manifest = vectors._load_manifest()
    for name in vectors.BUILTIN:
        codec_class = registry().get(name).codec
        cases = manifest["codecs"][name][f"v{codec_class.version}"]
        specs = {case["spec"] for case in cases["good"]}
        assert set(vectors._specs(codec_class)) <= specs
        assert {case["input"] for case in cases["good"]} == set(manifest["inputs"])
        assert name == "store" or len(cases["bad"]) >= 3


def test_a_changed_encoder_is_caught() -> None:
    lz77 = registry().get("lz77").codec

    class Changed(lz77):  # type: ignore[misc, valid-type]
        def encode(self, data: bytes) -> bytes:
            return super().encode(data) + (b"\0" if data else b"")

    problems = vectors.check(with_codec(Changed))
    assert problems and all("now writes other bytes" in problem for problem in problems)


def test_a_version_dropped_is_caught() -> None:
    arithmetic = registry().get("arithmetic").codec
    bumped = type("Bumped", (arithmetic,), {"version": arithmetic.version + 1})
    problems = vectors.check(with_codec(bumped))
    assert any("is no longer read" in problem for problem in problems)
    assert any("no vectors of payload version" in problem for problem in problems)


def test_a_changed_error_is_caught() -> None:
    lzw = registry().get("lzw").codec

    class Quiet(lzw):  # type: ignore[misc, valid-type]
        def decode(self, payload: bytes, size: int) -> bytes:
            return bytes(size) if not payload else super().decode(payload, size)

    assert any("expected CodecError" in problem for problem in vectors.check(with_codec(Quiet)))


def test_the_generator_never_rewrites_a_version(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "codecs"
    shutil.copytree(vectors.ROOT, root)
    monkeypatch.setattr(vectors, "ROOT", root)
    monkeypatch.setattr(vectors, "MANIFEST", root / "MANIFEST.json")
    before = {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}
    assert vectors.write(registry()) == []
    assert {path: path.read_bytes() for path in root.rglob("*") if path.is_file()} == before
