"""`delta`: a delta filter in front of another pyarc codec.

Encoding: d[i] = x[i] - x[i - distance] (mod 256), with x[i] = 0 before the start; the
differences are then coded by the codec named in `then`, at its default settings.

Payload, version 1: the `then` codec's payload version (2 bytes, little-endian), then its
payload of the differences. The decoder refuses a payload written by another version of that
codec, since it could not read it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from archiver import Codec, CodecError, Option, hookimpl
from archiver.plugins import registry

INNER_CODECS = ("arithmetic", "huffman", "lz77", "store")


def delta_encode(data: bytes, distance: int) -> bytes:
    x = np.frombuffer(data, dtype=np.uint8)
    d = x.copy()
    d[distance:] -= x[:-distance]  # uint8 arithmetic wraps: mod 256
    return d.tobytes()


def delta_decode(differences: bytes, distance: int) -> bytes:
    d = np.frombuffer(differences, dtype=np.uint8)
    x = np.empty_like(d)
    for lane in range(min(distance, len(d))):  # each lane is a running sum, mod 256
        x[lane::distance] = np.cumsum(d[lane::distance], dtype=np.uint8)
    return x.tobytes()


class DeltaCodec(Codec):
    name = "delta"
    version = 1
    decode_rank = 40
    description = "delta filter (byte differences at a stride), then another codec"
    option_specs = (
        Option("distance", 1, "stride in bytes: 1 for 8-bit samples, 2 for 16-bit, ...",
               minimum=1, maximum=16),
        Option("then", "arithmetic", "the codec that packs the differences",
               choices=INNER_CODECS),
    )

    def _inner(self) -> Codec:
        return registry().create(str(self.options["then"]))

    def encode(self, data: bytes) -> bytes:
        if not data:
            return b""
        inner = self._inner()
        differences = delta_encode(data, int(self.options["distance"]))
        return inner.version.to_bytes(2, "little") + inner.encode(differences)

    def decode(self, payload: bytes, size: int) -> bytes:
        if self.empty_block(payload, size):
            return b""
        inner = self._inner()
        if len(payload) < 2:
            raise CodecError("delta: the payload is too short")
        version = int.from_bytes(payload[:2], "little")
        if version != inner.version:
            raise CodecError(f"delta: the differences were coded by {inner.name} version "
                             f"{version}; this pyarc has version {inner.version}")
        differences = inner.decode(payload[2:], size)
        if len(differences) != size:
            raise CodecError(f"delta: {inner.name} decoded {len(differences)} bytes, not {size}")
        return delta_decode(differences, int(self.options["distance"]))


@hookimpl
def register_codecs(register: Callable[[type[Codec]], None]) -> None:
    register(DeltaCodec)
