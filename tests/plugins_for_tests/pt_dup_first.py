"""One of two plugins that both register a codec named 'dupcodec'."""

from archiver import hookimpl
from pyarc_plugins.store import StoreCodec


class Dup(StoreCodec):  # a passthrough: only the registration matters
    name = "dupcodec"
    description = "from pt_dup_first"


@hookimpl
def register_codecs(register):  # type: ignore[no-untyped-def]
    register(Dup)
