"""A plugin whose hook takes an argument the hook spec does not have (pluggy refuses it)."""

from archiver import hookimpl


@hookimpl
def register_codecs(registrar):  # type: ignore[no-untyped-def]
    raise AssertionError("never called")
