"""A plugin registering a codec whose kernel module is not installed."""

from archiver import Codec, hookimpl


class MissingKernel(Codec):
    name = "missingkernel"
    kernels = ("pt_no_such_kernel_module",)

    def encode(self, data: bytes) -> bytes:
        return bytes(data)

    def decode(self, payload: bytes, size: int) -> bytes:
        return bytes(payload)


@hookimpl
def register_codecs(register):  # type: ignore[no-untyped-def]
    register(MissingKernel)
