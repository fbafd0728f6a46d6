"""A plugin registering a codec whose option default is outside the option's own range."""

from archiver import Codec, Option, hookimpl


class BadDefault(Codec):
    name = "baddefault"
    option_specs = (Option("level", 99, "compression level", minimum=1, maximum=9),)

    def encode(self, data: bytes) -> bytes:
        return bytes(data)

    def decode(self, payload: bytes, size: int) -> bytes:
        return bytes(payload)


@hookimpl
def register_codecs(register):  # type: ignore[no-untyped-def]
    register(BadDefault)
