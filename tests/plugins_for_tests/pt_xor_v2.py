"""A newer release of the xorcodec plugin: payload version 2 XORs with another key, and the
plugin still reads the version 1 payloads that the older release wrote."""

from pt_codecs import XorCodec, unrle

from archiver import hookimpl


class XorCodecV2(XorCodec):
    version = 2
    reads_older = frozenset({1})
    key = 0xA5

    def decode_older(self, payload: bytes, size: int, version: int) -> bytes:
        assert version == 1  # the registry passes only versions of reads_older
        return unrle(bytes(b ^ XorCodec.key for b in payload), size)


@hookimpl
def register_codecs(register):  # type: ignore[no-untyped-def]
    register(XorCodecV2)
