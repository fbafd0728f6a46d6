"""A bounded run of the fuzzers in fuzzing.py (`make fuzz` runs them as long as asked): every
codec's decoder, the block pipeline and whole archives, with a fixed seed so that a failure is
reproducible."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from fuzzing import codec_specs, fuzz_archives, fuzz_blocks, fuzz_decoders

PAYLOADS = 150
ARCHIVES = 300


@pytest.mark.parametrize("spec", codec_specs())
def test_decoders_refuse_or_rebuild(spec: str) -> None:
    """Mutated and random payloads: CodecError or exactly `size` bytes, quickly."""
    rng = random.Random(f"decoders {spec}")
    failures = list(fuzz_decoders(spec, rng, PAYLOADS))
    failures += fuzz_decoders(spec, rng, PAYLOADS, only_random=True)
    assert not failures, "\n".join(map(str, failures[:10]))


@pytest.mark.parametrize("spec", codec_specs())
def test_blocks_with_forged_checksums_never_decode_wrongly(spec: str) -> None:
    """A mutant payload that passes its checksum still ends as the data or a PyarcError."""
    failures = list(fuzz_blocks(spec, random.Random(f"blocks {spec}"), PAYLOADS // 3))
    assert not failures, "\n".join(map(str, failures[:10]))


def test_mutated_archives_are_refused_or_exact(tmp_path: Path) -> None:
    """Archives of every codec, mutated: decompress, the stream reader and `pyarc test` give
    the original data or one clear error."""
    failures = list(fuzz_archives(random.Random("archives"), ARCHIVES, tmp_path))
    assert not failures, "\n".join(map(str, failures[:10]))
