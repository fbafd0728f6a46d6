"""Payloads that open with a kind byte: the model's coded stream, or the block as it is (STORED)
when modelling would not shrink it. ppm's, rep's and cm's payloads are so made
(spec/codecs/ppm.md, rep.md, cm.md); an empty block has the empty payload.
"""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

from archiver import Codec, CodecError

#: The kind of a payload whose model's stream follows (rep names its own: REPEATS, also 0).
MODELLED = 0
#: The kind of a payload whose block follows as it is.
STORED = 1


def with_kind(kind: int, coded: bytes | bytearray, data: bytes) -> bytes:
    """`coded` after its kind byte, or the data STORED when that would be no shorter."""
    if len(coded) < len(data):
        return bytes([kind]) + coded
    return bytes([STORED]) + bytes(data)


def stored_block(name: str, payload: bytes, size: int, coded: int) -> bytes | None:
    """The block of a payload of kind STORED, None for one of kind `coded` (the stream
    follows), CodecError for any other."""
    if not payload:
        raise CodecError(f"{name}: empty payload for a non-empty block")
    if payload[0] == STORED:
        if len(payload) != size + 1:
            raise CodecError(f"{name}: stored block of {len(payload) - 1} bytes, expected {size}")
        return bytes(payload[1:])
    if payload[0] != coded:
        raise CodecError(f"{name}: unknown payload kind {payload[0]}")
    return None


class ModelledCodec(Codec):
    """A codec whose `model_kernel` codes a whole block, `encode(data, *settings)` and
    `decode(stream, size, *settings)`, under the settings its options give, behind a kind
    byte (MODELLED or STORED)."""

    model_kernel: ClassVar[ModuleType]

    def settings(self, version: int) -> tuple[int, ...]:
        """The kernel's arguments after the data, from the options, for payload `version`."""
        raise NotImplementedError

    def encode(self, data: bytes) -> bytes:
        if not data:
            return b""
        coded = self.model_kernel.encode(data, *self.settings(self.version))
        return with_kind(MODELLED, coded, data)

    def decode(self, payload: bytes, size: int) -> bytes:
        return self.decode_older(payload, size, self.version)

    def decode_older(self, payload: bytes, size: int, version: int) -> bytes:
        """The payload of `version` (the current one, or one the codec's `reads_older`
        names: the kernel tells them apart by its settings)."""
        if self.empty_block(payload, size):
            return b""
        stored = stored_block(self.name, payload, size, MODELLED)
        if stored is not None:
            return stored
        return self.model_kernel.decode(memoryview(payload)[1:], size, *self.settings(version))
