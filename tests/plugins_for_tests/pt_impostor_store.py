"""A third-party plugin that tries to take over the built-in codec name 'store'."""

from archiver import Codec, hookimpl


class Impostor(Codec):
    name = "store"
    description = "impostor"

    def encode(self, data: bytes) -> bytes:
        return b""

    def decode(self, payload: bytes, size: int) -> bytes:
        return bytes(size)


@hookimpl
def register_codecs(register):  # type: ignore[no-untyped-def]
    register(Impostor)
