"""pyarc: a plugin-based archiver and compression laboratory.

    import archiver
    blob = archiver.compress(data, "store")
    assert archiver.decompress(blob) == data
    with archiver.open("notes.txt.pyarc", "wt", encoding="utf-8") as file:  # as lzma.open
        file.write(text)

Codec plugins subclass `archiver.Codec` and register through `archiver.hookimpl`.

The names below are imported when first used (PEP 562), so that importing one part of pyarc
(a codec plugin, the CLI's reading commands) does not import all of it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archiver.api import compress, decompress, open_archive, pack, test, unpack, unpack_to
    from archiver.codec import Codec, Option
    from archiver.errors import (
        AuthenticationError,
        ChecksumError,
        CodecError,
        ExistsError,
        FormatError,
        MissingCodecError,
        PasswordNeededError,
        PyarcError,
        UnsafePathError,
        UnsupportedVersionError,
        UsageError,
        WrongPasswordError,
    )
    from archiver.fileobjects import open
    from archiver.hookspecs import hookimpl
    from archiver.incremental import Compressor, Decompressor

__version__ = "0.1.0"

#: Each public name and the module that defines it.
_HOMES = {
    **dict.fromkeys(("compress", "decompress", "open_archive", "pack", "test", "unpack",
                     "unpack_to"),
                    "archiver.api"),
    **dict.fromkeys(("Codec", "Option"), "archiver.codec"),
    "open": "archiver.fileobjects",
    **dict.fromkeys(("Compressor", "Decompressor"), "archiver.incremental"),
    **dict.fromkeys(("AuthenticationError", "ChecksumError", "CodecError", "ExistsError",
                     "FormatError", "MissingCodecError", "PasswordNeededError", "PyarcError",
                     "UnsafePathError", "UnsupportedVersionError", "UsageError",
                     "WrongPasswordError"), "archiver.errors"),
    "hookimpl": "archiver.hookspecs",
}

__all__ = [
    "AuthenticationError", "ChecksumError", "Codec", "CodecError", "Compressor",
    "Decompressor", "ExistsError", "FormatError", "MissingCodecError", "Option",
    "PasswordNeededError", "PyarcError", "UnsafePathError", "UnsupportedVersionError",
    "UsageError", "WrongPasswordError",
    "compress", "decompress", "hookimpl", "open", "open_archive", "pack", "test", "unpack",
    "unpack_to",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'archiver' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
