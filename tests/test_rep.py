"""The rep codec: long repeats found however far back (exactly, compiled and pure Python alike),
taken out before PPM, decoded back; a frozen payload pins format version 1; and a payload
that lies about its repeats is refused."""

from __future__ import annotations

import random

import pytest
from pure_kernels import pure

from archiver import CodecError
from archiver.plugins import registry
from archiver.testing import assert_conforms
from pyarc_plugins import rep as rep_module
from pyarc_plugins.rep import RepCodec, repeats_kernel, write_varints

KERNEL = "pyarc_plugins.rep.repeats_kernel"
RNG = random.Random(18)
A = RNG.randbytes(1000)
B = RNG.randbytes(500)
C = RNG.randbytes(77)


def undo(runs, lengths, distances, literals) -> bytes:
    """What the kernel's output stands for, executed byte by byte."""
    out = bytearray()
    taken = 0
    for run, length, distance in zip(runs, lengths, distances, strict=True):
        out += literals[taken:taken + run]
        taken += run
        for _ in range(length):
            out.append(out[-distance])
    return bytes(out + literals[taken:])


@pytest.mark.parametrize("kernel", [repeats_kernel, pure(KERNEL)], ids=["compiled", "pure"])
def test_a_far_repeat_is_found_exactly(kernel) -> None:
    runs, lengths, distances, literals = kernel.find(A + B + A, 128)
    assert (list(runs), list(lengths), list(distances)) == ([1500], [1000], [1500])
    assert literals == A + B


@pytest.mark.parametrize("kernel", [repeats_kernel, pure(KERNEL)], ids=["compiled", "pure"])
def test_a_repeat_is_extended_backwards_up_to_the_last_one(kernel) -> None:
    """A copy that starts between two entered windows is found from the later one and grown
    back to its true start."""
    data = C + A + B + A[5:]  # the copy of A[5:] starts 14 bytes before an entered window
    runs, lengths, distances, _ = kernel.find(data, 64)
    assert (list(runs), list(lengths), list(distances)) == ([1577], [995], [1495])


@pytest.mark.parametrize("kernel", [repeats_kernel, pure(KERNEL)], ids=["compiled", "pure"])
def test_runs_and_short_repeats(kernel) -> None:
    """A run of one byte is one overlapping repeat; a repeat shorter than min is left alone."""
    runs, lengths, distances, literals = kernel.find(b"x" * 1000, 16)
    assert (list(runs), list(lengths), list(distances), literals) == ([1], [999], [1], b"x")
    data = A[:100] + B + A[:100]
    assert kernel.find(data, 128)[3] == data


def test_compiled_and_pure_kernels_agree() -> None:
    slow = pure(KERNEL)
    rng = random.Random(3)
    for _ in range(30):
        parts = [rng.randbytes(rng.randrange(1, 400)) for _ in range(4)]
        data = b"".join(rng.choice(parts) for _ in range(rng.randrange(0, 10)))
        minimum = rng.choice([16, 32, 128])
        found = repeats_kernel.find(data, minimum)
        assert found == slow.find(data, minimum)
        assert undo(*found) == data
        assert all(length >= minimum for length in found[1])


@pytest.mark.parametrize("data", [
    b"", b"a", A, A + B + A + B[:100] + A, b"ab" * 5000, RNG.randbytes(20_000),
    b"".join(RNG.choice([A[:300], B[:200], b"\n"]) for _ in range(200)),
])
def test_round_trip(data: bytes) -> None:
    codec = registry().create("rep:min=32,order=4")
    payload = codec.encode(data)
    assert codec.decode(payload, len(data)) == data
    assert len(payload) <= len(data) + 1


def test_far_repeats_cost_little() -> None:
    """A copy of 200 KB of text after 1 MB of other text costs a few bytes with rep, where
    ppm alone, with a model too small to remember it, pays for it again."""
    text = b"".join(RNG.choice([b"alpha ", b"beta ", b"gamma ", b"delta\n", b"%d " % i])
                    for i in range(40_000))[:200_000]
    other = bytes(RNG.choice(b"abcdefghijklmnopqrstuvwxyz \n") for _ in range(1_000_000))
    data = text + other + text
    with_rep = len(registry().create("rep:order=4,memory=1").encode(data))
    without = len(registry().create("ppm:order=4,memory=1").encode(data))
    alone = len(registry().create("rep:order=4,memory=1").encode(text + other))
    assert with_rep < alone + 100
    assert with_rep < without


def test_conforms() -> None:
    assert_conforms(RepCodec, fuzz_cases=200)


#: Version 1, pinned: this payload must decode to GOLDEN_DATA in every release.
GOLDEN_DATA = b"pyarc rep golden vector: " + bytes(range(40)) * 4 + b" end"
GOLDEN_SPEC = "rep:min=16,order=3,memory=1"
GOLDEN_PAYLOAD = bytes.fromhex(
    "00014503040b4144e91e2b827e34510efd0a028ca08f56539f9a2c0771276db90f37cc612c00000000000000"
    "000000000000000000000000000000000000000000000033bd87ca00000000c10398")


def test_golden_payload() -> None:
    codec = registry().create(GOLDEN_SPEC)
    assert codec.encode(GOLDEN_DATA) == GOLDEN_PAYLOAD
    assert codec.decode(GOLDEN_PAYLOAD, len(GOLDEN_DATA)) == GOLDEN_DATA


def payload_with(count: int, literal_count: int, references: list[int],
                 literals: bytes) -> bytes:
    """A rep payload built from its fields, the references and literals coded with ppm."""
    model = rep_module.model_kernel
    out = bytearray([rep_module.REPEATS])
    write_varints((count, literal_count), out)
    if count:
        raw = bytearray()
        write_varints(references, raw)
        coded = model.encode(bytes(raw), rep_module.REF_ORDER, rep_module.REF_MEMORY)
        write_varints((len(raw), len(coded)), out)
        out += coded
    if literal_count:
        out += model.encode(literals, 3, 1 << 20)
    return bytes(out)


@pytest.mark.parametrize(("fields", "size", "message"), [
    ((1, 4, [4, 0, 9], b"abcd"), 20, "before the start"),  # distance 10 > 4 bytes written
    ((1, 4, [5, 0, 0], b"abcd"), 20, "do not make"),  # a run longer than the literals
    ((1, 4, [4, 1, 0], b"abcd"), 20, "do not make"),  # 4 + 17 bytes, not 20
    ((9, 4, [0] * 27, b"abcd"), 20, "cannot make"),  # more repeats than 20 bytes can hold
    ((0, 30, [], b"a" * 30), 20, "cannot make"),  # more literals than the block
    ((1, 4, [1 << 33, 0, 0], b"abcd"), 20, "a reference of"),  # past 32 bits: was OverflowError
    ((1, 4, [4, (1 << 35) - 17, 0], b"abcd"), 20, "a reference of"),  # the largest varint
])
def test_lying_payloads_are_refused(fields: tuple, size: int, message: str) -> None:
    codec = registry().create("rep:min=16,order=3,memory=1")
    with pytest.raises(CodecError, match=message):
        codec.decode(payload_with(*fields), size)


def test_a_well_formed_payload_built_by_hand_decodes() -> None:
    """The helper above builds what the encoder does: 4 literals, then 16 bytes from 1 back."""
    codec = registry().create("rep:min=16,order=3,memory=1")
    assert codec.decode(payload_with(1, 4, [4, 0, 0], b"abcd"), 20) == b"abcd" + b"d" * 16
