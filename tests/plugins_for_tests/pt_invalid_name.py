"""A plugin registering a codec whose name cannot be written into an archive."""

from archiver import hookimpl
from pyarc_plugins.store import StoreCodec


class BadName(StoreCodec):  # a passthrough: only the registration matters
    name = "Bad Name"


class GoodName(BadName):
    name = "good-name"


@hookimpl
def register_codecs(register):  # type: ignore[no-untyped-def]
    register(BadName)
    register(GoodName)
