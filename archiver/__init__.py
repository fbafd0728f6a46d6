"""pyarc: a plugin-based archiver and compression laboratory.

    import archiver
    blob = archiver.compress(data, "store")
    assert archiver.decompress(blob) == data
    with archiver.open("notes.txt.pyarc", "wt", encoding="utf-8") as file:  # as lzma.open
        file.write(text)

Codec plugins subclass `archiver.Codec` and register through `archiver.hookimpl`.

`archiver.ArchiveFile` reads and writes archives as zipfile.ZipFile does, and importing
archiver registers the "pyarc" format of shutil.make_archive and shutil.unpack_archive
(archiver/shutil_formats.py).

The names below are imported when first used (PEP 562), so that importing one part of pyarc
(a codec plugin, the CLI's reading commands) does not import all of it.
"""

from __future__ import annotations

import importlib
import shutil
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archiver.api import compress, decompress, open_archive, pack, test, unpack, unpack_to
    from archiver.archivefile import ArchiveFile, MemberInfo
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
    **dict.fromkeys(("ArchiveFile", "MemberInfo"), "archiver.archivefile"),
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
    "ArchiveFile", "AuthenticationError", "ChecksumError", "Codec", "CodecError", "Compressor",
    "Decompressor", "ExistsError", "FormatError", "MemberInfo", "MissingCodecError", "Option",
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


def _make_archive(base_name: str, base_dir: str, **options: Any) -> str:
    from archiver.shutil_formats import make_archive

    return make_archive(base_name, base_dir, **options)


def _unpack_archive(filename: str, extract_dir: str, **options: Any) -> None:
    from archiver.shutil_formats import unpack_archive

    unpack_archive(filename, extract_dir, **options)


# Python 3.12 and later then pass root_dir instead of changing the working directory into it.
_make_archive.supports_root_dir = True  # type: ignore[attr-defined]


def _register_shutil_formats() -> None:
    """The "pyarc" format of shutil, unless one of that name (or for .pyarc files) is there
    already: a user's own, or ours from an earlier import (importlib.reload)."""
    if "pyarc" not in dict(shutil.get_archive_formats()):
        shutil.register_archive_format("pyarc", _make_archive, description="pyarc archive")
    if not any(name == "pyarc" or ".pyarc" in extensions
               for name, extensions, _ in shutil.get_unpack_formats()):
        shutil.register_unpack_format("pyarc", [".pyarc"], _unpack_archive,
                                      description="pyarc archive")


_register_shutil_formats()
