"""The edge cases every context-model codec's round-trip tests run (ppm, cm), and the damaged
payloads their decoders must refuse."""

from __future__ import annotations

import random
from pathlib import Path

TEXT = (Path(__file__).resolve().parents[1] / "README.md").read_bytes()[:20000]


def edge_cases() -> dict[str, bytes]:
    rng = random.Random(5)
    return {
        "one byte": b"x",
        "two bytes": b"xy",
        "one repeated byte": b"a" * 100_000,
        "all bytes": bytes(range(256)) * 4,
        "all bytes backwards": bytes(range(255, -1, -1)) * 3,
        "random": rng.randbytes(50_000),
        "text": TEXT,
        "long runs": TEXT[:3000] + b"\0" * 30_000 + TEXT[:3000] + b" " * 70_000 + TEXT[:5000],
        "period 7": b"abcdefg" * 5000,
        "binary records": b"".join(i.to_bytes(4, "little") + b"\xff\x00" for i in range(5000)),
    }


def corrupt_variants(payload: bytes, rng: random.Random) -> list[bytes]:
    """Truncations, extensions, bit flips past the kind byte, and random streams of kind
    MODELLED, of a payload that opens with a kind byte (coding/kind_byte.py)."""
    variants = [payload[:cut] for cut in (1, 2, len(payload) // 2, len(payload) - 1)]
    variants += [payload + tail for tail in (b"\0", b"\xff", b"\0\0\0\0\0")]
    for _ in range(40):
        flipped = bytearray(payload)
        flipped[rng.randrange(1, len(flipped))] ^= 1 << rng.randrange(8)
        variants.append(bytes(flipped))
    variants += [b"\x00" + rng.randbytes(rng.randint(1, 400)) for _ in range(40)]
    return variants
