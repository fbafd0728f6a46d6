"""A newer release of the xorcodec plugin: the same codec name at payload version 2."""

from pt_codecs import XorCodec

from archiver import hookimpl


class XorCodecV2(XorCodec):
    version = 2


@hookimpl
def register_codecs(register):  # type: ignore[no-untyped-def]
    register(XorCodecV2)
