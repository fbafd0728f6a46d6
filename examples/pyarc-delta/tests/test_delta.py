"""The delta plugin passes pyarc's conformance kit, and its filter inverts."""

import random

from pyarc_delta import DeltaCodec, delta_decode, delta_encode

from archiver.testing import assert_conforms


def test_conforms() -> None:
    assert_conforms(DeltaCodec, fuzz_cases=100)


def test_filter_inverts_at_every_distance() -> None:
    data = random.Random(1).randbytes(1000)
    for distance in range(1, 17):
        assert delta_decode(delta_encode(data, distance), distance) == data


def test_slowly_changing_samples_shrink() -> None:
    ramp = bytes((i // 3) % 256 for i in range(30_000))
    assert len(DeltaCodec(then="huffman").encode(ramp)) < len(ramp) // 6
