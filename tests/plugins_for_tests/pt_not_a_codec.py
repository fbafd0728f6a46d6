"""A plugin registering things that are not Codec subclasses, then one valid codec."""

from archiver import hookimpl
from pyarc_plugins.store import StoreCodec


class DuckCodec:  # looks like a codec, is not one
    name = "duck"
    version = 1

    def encode(self, data: bytes) -> bytes:
        return data

    def decode(self, payload: bytes, size: int) -> bytes:
        return payload


class Fine(StoreCodec):  # a passthrough: only the registration matters
    name = "fine-after-junk"


@hookimpl
def register_codecs(register):  # type: ignore[no-untyped-def]
    register(object())
    register(DuckCodec)
    register(Fine())  # an instance, not the class
    register(Fine)
