"""Property tests (hypothesis): every installed codec round-trips arbitrary bytes, and so does
the container at arbitrary block sizes."""

from __future__ import annotations

import pytest
from fuzzing import codec_specs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archiver
from archiver.format import MIN_BLOCK_SIZE
from archiver.plugins import registry

#: Arbitrary bytes, and bytes with structure (repeats of a short piece), which reach the
#: match and model paths that random bytes never do.
DATA = st.one_of(
    st.binary(max_size=3000),
    st.builds(lambda piece, times, tail: piece * times + tail,
              st.binary(min_size=1, max_size=40), st.integers(1, 200), st.binary(max_size=50)),
)
QUICK = settings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("spec", codec_specs())
@QUICK
@given(data=DATA)
def test_codec_round_trips_anything(spec: str, data: bytes) -> None:
    codec = registry().create(spec)
    assert codec.decode(codec.encode(data), len(data)) == data


@QUICK
@given(data=DATA, block_size=st.integers(MIN_BLOCK_SIZE, 4 * MIN_BLOCK_SIZE),
       codec=st.sampled_from(["auto", *codec_specs()]))
def test_container_round_trips_any_block_size(data: bytes, block_size: int, codec: str) -> None:
    blob = archiver.compress(data, codec, block_size=block_size)
    assert archiver.decompress(blob) == data
