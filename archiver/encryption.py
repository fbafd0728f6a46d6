"""Encrypted archives (format 3.0): a whole format 2 archive sealed in chunks with an AEAD,
under a key derived from a password, in the manner of age's STREAM and libsodium's
secretstream. spec/FORMAT.md section 18 is the normative description.

    header (20 bytes, major 3)  encryption record (76 bytes)  chunk 0  chunk 1  ...  chunk n-1

The *inner* archive, an ordinary format 2 archive, is cut into chunks of 2^chunk_log bytes
(the last one 1 .. 2^chunk_log), and chunk i is sealed with ChaCha20-Poly1305:

    nonce(i) = i (u64 LE) || 00 00 00 || 01 if chunk i is the last, else 00
    chunk i  = ChaCha20-Poly1305(payload key, nonce(i), plaintext i, AD = header || record)

Why this shape:
- everything is sealed, frame headers, tables, index and footer: names, sizes, times, codecs
  and where blocks begin are secret (as with 7-Zip's -mhe); the total size is not;
- the counter and the last-chunk flag in the nonce authenticate each chunk's place: a chunk
  moved, dropped or duplicated, or an archive cut at any byte, fails to authenticate;
- the salt is random per archive, so every archive has keys of its own: a nonce never
  repeats under a key, and a chunk spliced from another archive with the same password fails;
- chunks of a fixed size keep the inner archive seekable: `list` and extracting one file
  decrypt only the chunks they read, as a plain archive is read only where needed;
- the key check, an HMAC of the header and record under a key of its own, tells a wrong
  password from a modified archive before anything is decrypted;
- compress first, then encrypt: the inner archive is what pack writes without a password.

Keys: master = scrypt(password, salt, N, r, p) (32 bytes); then HKDF-Expand-SHA256 of the
master gives the payload key (info "pyarc payload key") and the key check's key (info "pyarc
key check"). Keys and plaintext live in memory only; no error message holds either.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, cast

import construct as c

from archiver.errors import (
    AuthenticationError,
    FormatError,
    PasswordNeededError,
    PyarcError,
    UsageError,
    WrongPasswordError,
)
from archiver.format import (
    ENCRYPTED_MAJOR,
    HEADER_SIZE,
    RuleBroken,
    build_header,
    checked,
    parse_header,
    parse_with,
)

KDF_SCRYPT = 1
CIPHER_CHACHA20_POLY1305 = 1
SALT_SIZE = 32
KEY_SIZE = 32
TAG_SIZE = 16
CHECK_SIZE = 32
RECORD_SIZE = 76
PREFIX_SIZE = HEADER_SIZE + RECORD_SIZE  # the bytes before chunk 0, every chunk's AD
CHUNK_LOG = 16  # pyarc writes 64 KiB chunks
MIN_CHUNK_LOG, MAX_CHUNK_LOG = 10, 22
#: What a reader accepts of the scrypt costs an archive names: its memory (128 r N bytes) at
#: most 1 GiB, p at most 16, so a crafted archive cannot make it allocate more or run for hours.
MAX_KDF_MEMORY = 1 << 30
MAX_KDF_P = 16

#: A password given to the API: the text (UTF-8 encoded), its bytes, or a function asked for
#: it only when an archive turns out to be encrypted (the CLI's prompt).
Password = str | bytes | Callable[[], str | bytes]


@dataclass(frozen=True)
class ScryptCost:
    """scrypt's parameters: N = 2^log_n, r, p. The default takes about 0.5 s and 128 MiB
    (measured: 0.46 s here); they are recorded per archive, so later writers can raise them."""

    log_n: int = 17
    r: int = 8
    p: int = 1

    @property
    def memory(self) -> int:
        return 128 * self.r << self.log_n

    def __str__(self) -> str:
        return f"scrypt (N=2^{self.log_n}, r={self.r}, p={self.p})"


def cost_problem(cost: ScryptCost) -> str | None:
    """Why pyarc will not derive a key at these costs, or None: scrypt's own rule (RFC 7914:
    N < 2^(16 r)) and pyarc's caps."""
    if not (1 <= cost.log_n < 16 * cost.r and 1 <= cost.p <= MAX_KDF_P
            and cost.memory <= MAX_KDF_MEMORY):
        return (f"key derivation costs {cost} beyond what pyarc accepts (N < 2^(16 r), at most "
                f"{MAX_KDF_MEMORY >> 20} MiB and p={MAX_KDF_P})")
    return None


def _record_rules(ctx: Any) -> bool:
    params = ctx.header.value.params.value
    if params.kdf != KDF_SCRYPT:
        raise RuleBroken(f"unknown key derivation function {params.kdf} (a newer pyarc?)")
    if params.cipher != CIPHER_CHACHA20_POLY1305:
        raise RuleBroken(f"unknown cipher {params.cipher} (a newer pyarc?)")
    if not MIN_CHUNK_LOG <= params.chunk_log <= MAX_CHUNK_LOG:
        raise RuleBroken(f"chunk size 2^{params.chunk_log} out of range")
    problem = cost_problem(ScryptCost(params.log_n, params.r, params.p))
    if problem is not None:
        raise RuleBroken(problem)
    return True


#: The encryption record, after the header: what the key derivation and the cipher need,
#: then the key check over the header and these parameters.
RecordParams = c.Struct(
    "kdf" / c.Int8ul,
    "log_n" / c.Int8ul,
    "r" / c.Int16ul,
    "p" / c.Int16ul,
    "salt" / c.Bytes(SALT_SIZE),
    "cipher" / c.Int8ul,
    "chunk_log" / c.Int8ul,
)
EncryptionRecord = checked(
    c.Struct(
        "params" / c.RawCopy(RecordParams),
        "key_check" / c.Bytes(CHECK_SIZE),
    ),
    c.Check(_record_rules),
)
assert EncryptionRecord.sizeof() == RECORD_SIZE


@dataclass(frozen=True)
class Envelope:
    """What an encrypted archive says of itself before any key: `pyarc info` shows it."""

    cost: ScryptCost
    salt: bytes
    chunk_log: int
    block_size: int  # the inner archive's, copied into the outer header (informative)
    prefix: bytes  # header and record: the associated data of every chunk
    params: bytes  # the record's bytes before the key check, which it covers
    key_check: bytes

    @property
    def chunk_size(self) -> int:
        return 1 << self.chunk_log

    def describe(self) -> str:
        return f"ChaCha20-Poly1305 in {self.chunk_size >> 10} KiB chunks, key by {self.cost}"


# -- the primitives, each a thin call into `cryptography` (the known-answer tests use these) --


def _cryptography() -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers import aead
    except ImportError:
        raise UsageError("encryption needs the 'cryptography' package: pip install "
                         "'pyarc[encrypt]'") from None
    return aead


def scrypt_key(password: bytes, salt: bytes, cost: ScryptCost, length: int = KEY_SIZE) -> bytes:
    """scrypt (RFC 7914) of the password."""
    _cryptography()
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    try:
        return Scrypt(salt=salt, length=length, n=1 << cost.log_n, r=cost.r,
                      p=cost.p).derive(password)
    except MemoryError:  # (OpenSSL's own cap on scrypt's memory, or this machine's)
        raise PyarcError(f"not enough memory for the key derivation, {cost}") from None


def expand_key(master: bytes, info: bytes) -> bytes:
    """HKDF-Expand-SHA256 (RFC 5869) of a key that is uniform already."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

    return HKDFExpand(hashes.SHA256(), KEY_SIZE, info).derive(master)


def chunk_nonce(number: int, last: bool) -> bytes:
    return number.to_bytes(8, "little") + b"\0\0\0" + (b"\1" if last else b"\0")


class ChunkCipher:
    """ChaCha20-Poly1305 under one archive's payload key, with its associated data."""

    def __init__(self, key: bytes, associated: bytes) -> None:
        self._aead = _cryptography().ChaCha20Poly1305(key)
        self._associated = associated

    def seal(self, nonce: bytes, plaintext: bytes | bytearray | memoryview) -> bytes:
        return self._aead.encrypt(nonce, plaintext, self._associated)

    def open(self, nonce: bytes, sealed: bytes) -> bytes | None:
        """The plaintext, or None when the chunk does not authenticate."""
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(nonce, sealed, self._associated)
        except InvalidTag:
            return None


@dataclass(frozen=True)
class Keys:
    """An archive's two keys: the chunks' and the key check's."""

    payload: bytes
    check: bytes


def derive_keys(password: bytes, salt: bytes, cost: ScryptCost) -> Keys:
    master = scrypt_key(password, salt, cost)
    return Keys(expand_key(master, b"pyarc payload key"), expand_key(master, b"pyarc key check"))


def key_check(keys: Keys, header: bytes, params: bytes) -> bytes:
    return hmac.new(keys.check, header + params, hashlib.sha256).digest()


def password_bytes(password: Password) -> bytes:
    """The password as bytes; an empty one is refused (it would protect nothing)."""
    given = password() if callable(password) else password
    secret = given.encode("utf-8") if isinstance(given, str) else bytes(given)
    if not secret:
        raise UsageError("the password is empty")
    return secret


# -- writing -----------------------------------------------------------------------------------


class SealedWriter(io.RawIOBase):
    """Writes an encrypted archive to `out`: the header and record at once, then whatever is
    written to it (the inner archive) sealed chunk by chunk. `finish()` seals the last chunk;
    an unfinished archive fails to authenticate at its end. `salt` is for the test vectors
    only: a writer that reuses a salt with a password reuses its keys and nonces."""

    def __init__(self, out: IO[bytes], password: Password, block_size: int,
                 cost: ScryptCost | None = None, *, chunk_log: int = CHUNK_LOG,
                 salt: bytes | None = None) -> None:
        super().__init__()
        cost = cost or ScryptCost()
        problem = cost_problem(cost)
        if problem is not None:
            raise UsageError(problem)
        salt = os.urandom(SALT_SIZE) if salt is None else salt
        header = build_header(block_size, ENCRYPTED_MAJOR)
        fields = dict(kdf=KDF_SCRYPT, log_n=cost.log_n, r=cost.r, p=cost.p, salt=salt,
                      cipher=CIPHER_CHACHA20_POLY1305, chunk_log=chunk_log)
        params = RecordParams.build(fields)
        keys = derive_keys(password_bytes(password), salt, cost)
        record = EncryptionRecord.build(dict(header=dict(value=dict(
            params=dict(value=fields), key_check=key_check(keys, header, params)))))
        self._out = out
        self._chunk_size = 1 << chunk_log
        self._cipher = ChunkCipher(keys.payload, header + record)
        self._pending = bytearray()  # at most a chunk, not sealed until more follows or finish
        self._number = 0
        self._written = 0
        self.sealed_bytes = PREFIX_SIZE  # what went to `out`
        out.write(header + record)

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._written

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        size = self._chunk_size
        position = 0
        if self._pending:
            position = min(size - len(self._pending), len(view))
            self._pending += view[:position]
            if len(self._pending) < size or position == len(view):
                self._written += len(view)
                return len(view)
            self._seal(self._pending, last=False)
        while len(view) - position > size:  # a chunk is sealed only once a byte follows it
            self._seal(view[position:position + size], last=False)
            position += size
        self._pending = bytearray(view[position:])
        self._written += len(view)
        return len(view)

    def _seal(self, plaintext: bytes | bytearray | memoryview, last: bool) -> None:
        sealed = self._cipher.seal(chunk_nonce(self._number, last), plaintext)
        self._out.write(sealed)
        self.sealed_bytes += len(sealed)
        self._number += 1

    def finish(self) -> None:
        """Seal the last chunk (the inner archive is complete)."""
        self._seal(self._pending, last=True)
        self._pending = bytearray()


# -- reading -----------------------------------------------------------------------------------


def read_envelope(stream: IO[bytes]) -> tuple[bytes, Envelope | None]:
    """The header at the stream's position (its bytes, as read) and, when it is of major 3,
    the encryption record after it (None for an archive that is not encrypted). Read by
    exact counts, not by construct, which would seek in a pipe; the prefix is kept as read,
    every byte of it covered by the key check and by each chunk's associated data."""
    head = _read_full(stream, HEADER_SIZE)
    major, _, block_size = parse_header(io.BytesIO(head))
    if major != ENCRYPTED_MAJOR:
        return head, None
    record = _read_full(stream, RECORD_SIZE)
    parsed = parse_with(EncryptionRecord, io.BytesIO(record), "encryption record").header.value
    params = parsed.params.value
    return head, Envelope(ScryptCost(params.log_n, params.r, params.p), bytes(params.salt),
                          params.chunk_log, block_size, head + record, bytes(parsed.params.data),
                          bytes(parsed.key_check))


def _unlock(envelope: Envelope, password: Password | None) -> ChunkCipher:
    if password is None:
        raise PasswordNeededError("the archive is encrypted: give its password")
    keys = derive_keys(password_bytes(password), envelope.salt, envelope.cost)
    header = envelope.prefix[:HEADER_SIZE]
    if not hmac.compare_digest(key_check(keys, header, envelope.params), envelope.key_check):
        raise WrongPasswordError("wrong password")
    return ChunkCipher(keys.payload, envelope.prefix)


def _read_full(stream: IO[bytes], size: int) -> bytes:
    """`size` bytes, or fewer only at the end of the stream (a pipe gives what it has)."""
    data = stream.read(size)
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size and (more := stream.read(size - got)):
        parts.append(more)
        got += len(more)
    return b"".join(parts)


class SealedReader(io.RawIOBase):
    """The inner archive of an encrypted one, read from `raw` (positioned after the record),
    each chunk authenticated before a byte of it is given out. When `raw` can seek, the reader
    can too: the number of chunks follows from the file's size, and any byte is reached by
    decrypting its chunk alone. A stream is read front to back, a chunk ahead, to know which
    chunk is the last."""

    def __init__(self, raw: IO[bytes], envelope: Envelope, cipher: ChunkCipher,
                 *, salvage: bool = False) -> None:
        super().__init__()
        self.envelope = envelope
        self._raw = raw
        self._cipher = cipher
        self._chunk = envelope.chunk_size
        self._sealed_chunk = envelope.chunk_size + TAG_SIZE
        self._salvage = salvage
        self._position = 0
        self._cached: tuple[int, bytes] | None = None
        self._seekable = raw.seekable()
        if self._seekable:
            sealed = raw.seek(0, os.SEEK_END) - PREFIX_SIZE
            self._count = -(-sealed // self._sealed_chunk)
            self._last_size = sealed - (self._count - 1) * self._sealed_chunk
            if self._count and self._last_size <= TAG_SIZE:  # no chunk is that short: cut
                if not salvage:
                    raise self._failure(self._count - 1)
                self._count -= 1  # (salvage: the chunk before it may be whole)
                self._last_size = self._sealed_chunk
            self.size = ((self._count - 1) * self._chunk + self._last_size - TAG_SIZE
                         if self._count else 0)
        else:
            self._next = 0  # the number of the chunk in _ahead
            self._ahead = _read_full(raw, self._sealed_chunk)
            self._count = 1 if self._ahead else 0  # (at least)
        if self._count == 0:
            raise FormatError("the encrypted archive is truncated: it holds no data")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if not self._seekable:
            if whence == os.SEEK_SET and offset == self._position:
                return offset
            raise io.UnsupportedOperation("an encrypted stream is read front to back")
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def offset_of(self, number: int) -> int:
        """Where chunk `number` lies in the archive file."""
        return PREFIX_SIZE + number * self._sealed_chunk

    def chunk(self, number: int) -> bytes | None:
        """Chunk `number`'s plaintext; None past the end. Raises AuthenticationError when it
        fails to authenticate (with salvage, the last chunk is also tried as a middle one: an
        archive cut at a chunk boundary keeps its chunks)."""
        if self._cached is not None and self._cached[0] == number:
            return self._cached[1]
        if self._seekable:
            if number >= self._count:
                return None
            self._raw.seek(self.offset_of(number))
            last = number == self._count - 1
            sealed = _read_full(self._raw, self._last_size if last else self._sealed_chunk)
        else:
            if number != self._next or not self._ahead:
                return None
            sealed = self._ahead
            self._ahead = (_read_full(self._raw, self._sealed_chunk)
                           if len(sealed) == self._sealed_chunk else b"")
            self._next += 1
            last = not self._ahead
        plaintext = self._cipher.open(chunk_nonce(number, last), sealed)
        if plaintext is None and self._salvage and last:
            plaintext = self._cipher.open(chunk_nonce(number, False), sealed)
        if plaintext is None:
            raise self._failure(number)
        self._cached = (number, plaintext)
        return plaintext

    def _failure(self, number: int) -> AuthenticationError:
        return AuthenticationError(f"authentication failed at offset {self.offset_of(number)}: "
                                   f"the archive was modified or damaged")

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            number, start = divmod(self._position, self._chunk)
            plaintext = self.chunk(number)
            if plaintext is None or start >= len(plaintext):
                break
            take = min(len(plaintext) - start, len(view) - filled)
            view[filled:filled + take] = memoryview(plaintext)[start:start + take]
            filled += take
            self._position += take
        return filled

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(self._chunk), b""))
        number, start = divmod(self._position, self._chunk)
        plaintext = self.chunk(number)
        if plaintext is not None and start + size <= len(plaintext):  # one chunk: one copy
            self._position += size
            return plaintext[start:start + size]
        buffer = bytearray(size)
        del buffer[self.readinto(buffer):]
        return bytes(buffer)


def unseal(stream: IO[bytes], password: Password | None, *, salvage: bool = False
           ) -> tuple[IO[bytes], Envelope | None]:
    """The archive in `stream` as pyarc reads it: `stream` itself, back at its start, when it
    is not encrypted; else its inner archive, once the password passes the key check. A stream
    that cannot seek comes back as a stream that replays the header it read."""
    start = stream.tell() if stream.seekable() else 0
    head, envelope = read_envelope(stream)
    if envelope is None:
        if stream.seekable():
            stream.seek(start)
            return stream, None
        return _as_file(_Rejoined(head, stream)), None
    return _as_file(SealedReader(stream, envelope, _unlock(envelope, password),
                                 salvage=salvage)), envelope


def _as_file(raw: io.RawIOBase) -> IO[bytes]:
    """A RawIOBase as the binary file it is (typeshed keeps the two types apart)."""
    return cast(IO[bytes], raw)


def envelope_of(path: str | os.PathLike[str]) -> Envelope | None:
    """The encryption record of the archive at `path`, None when it is not encrypted."""
    with open(path, "rb") as file:
        return read_envelope(file)[1]


class _Rejoined(io.RawIOBase):
    """A stream whose first bytes were read already: those bytes, then the rest of it."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        super().__init__()
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            head, self._head = self._head, b""
            return head + self._rest.read()
        head, self._head = self._head[:size], self._head[size:]
        return head + _read_full(self._rest, size - len(head))
