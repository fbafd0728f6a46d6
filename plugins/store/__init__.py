"""`store`: no compression. The payload is the data itself.

The container also falls back to `store` for any block that no other codec makes smaller, so a
block's payload is never larger than its data. The payload is specified in spec/codecs/store.md.
"""

from __future__ import annotations

from collections.abc import Callable

from archiver import Codec, CodecError, hookimpl


class StoreCodec(Codec):
    name = "store"
    version = 1
    decode_rank = 0
    description = "no compression: the payload is the data"

    def encode(self, data: bytes) -> bytes:
        return bytes(data)

    def decode(self, payload: bytes, size: int) -> bytes:
        if len(payload) != size:
            raise CodecError(f"store: payload holds {len(payload)} bytes, expected {size}")
        return bytes(payload)


@hookimpl
def register_codecs(register: Callable[[type[Codec]], None]) -> None:
    register(StoreCodec)
