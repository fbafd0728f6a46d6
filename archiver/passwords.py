"""Where the CLI gets a password: a file (`--password-file`), the environment variable
PYARC_PASSWORD, or the terminal. The file and the variable are for scripts; the variable is the
less safe of the two (a process's environment is passed to its children, can be read by
processes of the same user and, through shells' histories and crash reports, ends up on disk).

A new archive's password is asked twice; an archive being read asks once, and only when it
turns out to be encrypted. The terminal is /dev/tty, never standard input (which may be the
archive), and nothing typed is echoed.
"""

from __future__ import annotations

import getpass
import os

from archiver.encryption import Password
from archiver.errors import PyarcError, UsageError

ENVIRONMENT_VARIABLE = "PYARC_PASSWORD"
MAX_PASSWORD_FILE = 64 << 10


def from_file(path: str) -> bytes:
    """The password in a file: its bytes without one final line ending."""
    try:
        with open(path, "rb") as file:
            secret = file.read(MAX_PASSWORD_FILE + 1)
    except OSError as error:
        raise PyarcError(f"cannot read the password file {path!r}: {error.strerror}") from None
    if len(secret) > MAX_PASSWORD_FILE:  # (not cut short: a wrong file, more likely)
        raise UsageError(f"the password file {path!r} is larger than "
                         f"{MAX_PASSWORD_FILE >> 10} KiB: is it the right file?")
    secret = secret.removesuffix(b"\n").removesuffix(b"\r")
    if not secret:
        raise UsageError(f"the password file {path!r} is empty")
    return secret


def given(password_file: str | None) -> bytes | None:
    """The password the command line or the environment gives, None if neither does."""
    if password_file is not None:
        return from_file(password_file)
    secret = os.environb.get(ENVIRONMENT_VARIABLE.encode())
    if secret is not None and not secret:
        raise UsageError(f"{ENVIRONMENT_VARIABLE} is set but empty")
    return secret


def _ask(prompt: str) -> str:
    try:
        with open("/dev/tty", "rb"):
            pass
    except OSError:
        raise UsageError(f"no terminal to ask for the password on: give --password-file FILE "
                         f"or set {ENVIRONMENT_VARIABLE}") from None
    try:
        return getpass.getpass(prompt)
    except EOFError:
        raise UsageError("no password given") from None


def for_reading(password_file: str | None) -> Password:
    """The password of an archive to read: given, or asked for on the terminal when needed."""
    secret = given(password_file)
    if secret is not None:
        return secret
    asked: list[bytes] = []  # asked once, however often the archive is opened

    def ask() -> bytes:
        if not asked:
            asked.append(_ask("Password: ").encode("utf-8"))
        return asked[0]

    return ask


def for_new_archive(password_file: str | None) -> bytes:
    """The password of an archive to write: given, or asked for twice on the terminal."""
    secret = given(password_file)
    if secret is not None:
        return secret
    first = _ask("Password for the new archive: ")
    if not first:
        raise UsageError("the password is empty")
    if _ask("Repeat the password: ") != first:
        raise UsageError("the passwords differ")
    return first.encode("utf-8")
