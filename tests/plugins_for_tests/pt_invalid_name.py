"""A plugin registering a codec whose name cannot be written into an archive."""

from archiver import Codec, hookimpl


class BadName(Codec):
    name = "Bad Name"

    def encode(self, data: bytes) -> bytes:
        return bytes(data)

    def decode(self, payload: bytes, size: int) -> bytes:
        return bytes(payload)


class GoodName(BadName):
    name = "good-name"


@hookimpl
def register_codecs(register):  # type: ignore[no-untyped-def]
    register(BadName)
    register(GoodName)
