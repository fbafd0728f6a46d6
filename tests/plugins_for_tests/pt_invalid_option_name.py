"""A plugin registering a codec whose option name a block header cannot hold ([a-z][a-z0-9_]*)."""

from archiver import Codec, Option, hookimpl


class BadOptionName(Codec):
    name = "badoptname"
    option_specs = (Option("Level", 1, "upper case: not a valid option name"),)

    def encode(self, data: bytes) -> bytes:
        return bytes(data[: len(data) // 2])

    def decode(self, payload: bytes, size: int) -> bytes:
        return bytes(size)


@hookimpl
def register_codecs(register):  # type: ignore[no-untyped-def]
    register(BadOptionName)
