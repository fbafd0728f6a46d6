"""A plugin whose hook raises."""

from archiver import hookimpl


@hookimpl
def register_codecs(register):  # type: ignore[no-untyped-def]
    raise RuntimeError("pt_hook_raises cannot register")
