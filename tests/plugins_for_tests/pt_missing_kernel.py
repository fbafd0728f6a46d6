"""A plugin registering a codec whose kernel module is not installed."""

from archiver import hookimpl
from pyarc_plugins.store import StoreCodec


class MissingKernel(StoreCodec):  # a passthrough: only the registration matters
    name = "missingkernel"
    kernels = ("pt_no_such_kernel_module",)


@hookimpl
def register_codecs(register):  # type: ignore[no-untyped-def]
    register(MissingKernel)
