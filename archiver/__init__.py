"""pyarc: a plugin-based archiver and compression laboratory.

    import archiver
    blob = archiver.compress(data, "store")
    assert archiver.decompress(blob) == data

Codec plugins subclass `archiver.Codec` and register through `archiver.hookimpl`.
"""

from archiver.api import compress, decompress, open_archive, pack, test, unpack
from archiver.codec import Codec, Option
from archiver.errors import (
    ChecksumError,
    CodecError,
    ExistsError,
    FormatError,
    MissingCodecError,
    PyarcError,
    UnsafePathError,
    UnsupportedVersionError,
    UsageError,
)
from archiver.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = [
    "ChecksumError", "Codec", "CodecError", "ExistsError", "FormatError", "MissingCodecError",
    "Option", "PyarcError", "UnsafePathError", "UnsupportedVersionError", "UsageError",
    "compress", "decompress", "hookimpl", "open_archive", "pack", "test", "unpack",
]


