"""The exceptions pyarc raises.

Every error a user can cause (a bad archive, a bad option, an unsafe path, a missing file) is a
`PyarcError`; the CLI turns it into one line on stderr and exit code 1 (2 for `UsageError`).
Anything else that escapes is a bug in pyarc.
"""

from __future__ import annotations


class PyarcError(Exception):
    """Base class: an error caused by input, reported to the user as one line."""


class UsageError(PyarcError):
    """The request itself is wrong: an unknown codec name, a bad option, a bad block size."""


class FormatError(PyarcError):
    """The archive is not a valid pyarc archive: bad magic, a field out of range, truncation."""


class UnsupportedVersionError(FormatError):
    """The archive was written by a newer, incompatible pyarc."""


class ChecksumError(FormatError):
    """A checksum stored in the archive does not match the bytes it covers."""


class AuthenticationError(FormatError):
    """A chunk of an encrypted archive fails to authenticate: it was modified, moved, cut off
    or damaged (archiver/encryption.py)."""


class WrongPasswordError(PyarcError):
    """The password does not open the encrypted archive (or its encryption record is
    damaged: the two cannot be told apart)."""


class PasswordNeededError(PyarcError):
    """The archive is encrypted and no password was given."""


class MissingCodecError(PyarcError):
    """The archive needs a codec (or codec version) that is not installed."""


class CodecError(PyarcError):
    """A codec was given a payload it cannot decode.

    Decoders raise this (never IndexError, ValueError or a hang) for any malformed payload.
    """


class UnsafePathError(PyarcError):
    """An entry would be written outside the destination, or through a symlink."""


class ExistsError(PyarcError):
    """The output already exists and --force was not given."""
