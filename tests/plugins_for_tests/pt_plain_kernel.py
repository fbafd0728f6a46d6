"""A codec 'kernel' that is a plain .py module: kernel_status() must call it uncompiled."""


def invert(data: bytes) -> bytes:
    return bytes(255 - b for b in data)
