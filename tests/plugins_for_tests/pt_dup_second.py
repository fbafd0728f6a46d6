"""One of two plugins that both register a codec named 'dupcodec'."""

from archiver import Codec, hookimpl


class Dup(Codec):
    name = "dupcodec"
    description = "from pt_dup_second"

    def encode(self, data: bytes) -> bytes:
        return bytes(data)

    def decode(self, payload: bytes, size: int) -> bytes:
        return bytes(payload)


@hookimpl
def register_codecs(register):  # type: ignore[no-untyped-def]
    register(Dup)
