"""An output file that appears at its path only once it is complete: written under a temporary
name beside it, and renamed into place by `commit()`; `discard()` leaves nothing behind (and
an existing file at the path untouched). `pack` and `ArchiveFile` write archives so."""

from __future__ import annotations

import contextlib
import os

from archiver.errors import ExistsError, PyarcError


class AtomicOutput:
    """A file written under a temporary name and renamed into place only when complete."""

    def __init__(self, path: str, force: bool) -> None:
        if os.path.lexists(path) and not force:
            raise ExistsError(f"refusing to overwrite existing {path!r} (use --force)")
        self.path = path
        folder, name = os.path.split(os.path.abspath(path))
        self.temporary = os.path.join(folder, f".{name}.{os.urandom(4).hex()}.pyarc-tmp")
        try:
            # 0o666 so the umask decides the final mode, as for any new file.
            descriptor = os.open(self.temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as error:
            raise PyarcError(f"cannot create {path!r}: {error.strerror}") from None
        self.file = os.fdopen(descriptor, "wb", buffering=1 << 20)

    def identity(self) -> tuple[int, int]:
        info = os.fstat(self.file.fileno())
        return info.st_dev, info.st_ino

    def commit(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.temporary, self.path)

    def discard(self) -> None:
        # Closing flushes the buffer, which fails again on a full disk: the file goes anyway.
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temporary)
