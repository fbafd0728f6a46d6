"""A plugin registering a codec whose option default is outside the option's own range."""

from archiver import Option, hookimpl
from pyarc_plugins.store import StoreCodec


class BadDefault(StoreCodec):  # a passthrough: only the registration matters
    name = "baddefault"
    option_specs = (Option("level", 99, "compression level", minimum=1, maximum=9),)


@hookimpl
def register_codecs(register):  # type: ignore[no-untyped-def]
    register(BadDefault)
