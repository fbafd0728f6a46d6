"""Encrypted archives (format 3.0: archiver/encryption.py, spec/FORMAT.md section 18).

Round trips through every reader (index, stream, standard input), no plaintext in the
ciphertext, wrong and missing passwords, known-answer tests of the primitives pyarc calls,
2,000 tampered archives all refused without a byte of unverified output, salvage through the
chunks that authenticate, and the command line: password file, PYARC_PASSWORD and the
terminal prompt (under a pseudo-terminal)."""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import json
import os
import random
import select
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import RunCli, assert_one_error_line, tree_snapshot
from vector_tables import Pipe

import archiver
from archiver import api
from archiver.encryption import (
    PREFIX_SIZE,
    TAG_SIZE,
    ChunkCipher,
    ScryptCost,
    SealedWriter,
    chunk_nonce,
    envelope_of,
    scrypt_key,
    unseal,
)
from archiver.errors import (
    AuthenticationError,
    FormatError,
    PasswordNeededError,
    PyarcError,
    UsageError,
    WrongPasswordError,
)
from archiver.format import FOOTER_SIZE, Kind, build_footer, parse_footer, xxh32
from archiver.reader import StreamReader
from archiver.restore import Copy

try:
    import pty
except ImportError:  # (not on Windows)
    pty = None  # type: ignore[assignment]

pytest.importorskip("cryptography", reason="encrypted archives need the 'cryptography' "
                                           "package: pip install 'pyarc[encrypt]'")

PASSWORD = "correct horse battery staple"
#: A cheap scrypt cost for the tests (the default, N=2^17, takes half a second a derivation).
LOW = ScryptCost(4, 8, 1)
CHUNK = 1 << 16  # what pack writes
SEALED = CHUNK + TAG_SIZE
#: Marks that a plain archive of the tree holds and an encrypted one must not.
DATA_MARK = b"ZEBRA-QUOKKA-PLAINTEXT-MARK-4417"
NAME_MARK = "platypus-secret-name"


def chunk_offset(number: int, sealed: int = SEALED) -> int:
    """Where chunk `number` begins in the archive file."""
    return PREFIX_SIZE + number * sealed


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """src/tree: files of several sizes (one of 230 KB of random bytes, so that an archive of
    the tree has four chunks and more), an empty file, nested and empty directories and a
    symlink."""
    root = tmp_path / "src" / "tree"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "emptydir").mkdir()
    (root / f"{NAME_MARK}.txt").write_bytes(DATA_MARK * 40 + b"\n")
    (root / "small.txt").write_bytes(b"alpha\n")
    (root / "medium.txt").write_bytes(b"".join(b"line %d of the medium file\n" % n
                                               for n in range(1200)))
    (root / "big.bin").write_bytes(random.Random(1).randbytes(230_000))
    (root / "empty").write_bytes(b"")
    (root / "sub" / "deeper" / "note.md").write_bytes(b"# a note\n" * 30)
    (root / "link").symlink_to("small.txt")
    return root


def originals(root: Path) -> dict[str, bytes]:
    """Every regular file below `root`, by its path in an archive of `root`."""
    return {path.relative_to(root.parent).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file() and not path.is_symlink()}


@pytest.fixture
def encrypted(tree: Path, tmp_path: Path) -> Path:
    path = tmp_path / "tree.pyarc"
    api.pack([tree], path, password=PASSWORD, kdf_cost=LOW)
    return path


def stdin_of(blob: bytes) -> io.TextIOWrapper:
    """A standard input that gives `blob` and cannot seek, as a pipe."""
    return io.TextIOWrapper(io.BufferedReader(Pipe(io.BytesIO(blob))))  # type: ignore[arg-type]


def streamed_files(reader: StreamReader) -> dict[str, bytes]:
    """The file contents a stream reader hands out, by path."""
    found: dict[str, bytes] = {}
    for job, chunks in reader.deliveries():
        found[job.entry.path] = (found[chunks.source.entry.path] if isinstance(chunks, Copy)
                                 else b"".join(chunks))
    assert reader.catalog is not None
    return found


def absent_or_empty(path: Path) -> bool:
    return not path.exists() or not any(path.iterdir())


# -- round trips -------------------------------------------------------------------------------


def test_round_trip_through_every_reader(tree: Path, encrypted: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    files = originals(tree)
    size = encrypted.stat().st_size
    assert size > chunk_offset(3), "the archive should span four chunks at least"
    envelope = envelope_of(encrypted)
    assert envelope is not None and envelope.cost == LOW and envelope.chunk_log == 16
    description = envelope.describe()
    assert "ChaCha20-Poly1305" in description and "scrypt" in description

    with archiver.open_archive(encrypted, password=PASSWORD) as opened:
        assert opened.info().encryption == description
        assert {entry.path: opened.read(entry) for entry in opened.entries
                if entry.kind == Kind.FILE} == files
        paths = {entry.path for entry in opened.entries}
    assert paths == {"tree", *(f"tree/{name}" for name in tree_snapshot(tree))}

    api.unpack(encrypted, tmp_path / "out", password=PASSWORD)
    assert tree_snapshot(tmp_path / "out" / "tree") == tree_snapshot(tree)

    for path in ("tree/big.bin", "tree/medium.txt", "tree/empty"):
        sink = io.BytesIO()
        api.unpack_to(encrypted, sink, path, password=PASSWORD)
        assert sink.getvalue() == files[path]

    assert api.test(encrypted, password=PASSWORD).files == len(files)
    listing = api.read_index(encrypted, password=PASSWORD)
    assert listing.encryption == description
    assert listing.archive_size == size
    assert {entry.path for entry in listing.catalog.entries} == paths

    # Front to back from a stream that cannot seek.
    with open(encrypted, "rb") as file:
        reader = StreamReader(Pipe(file), password=PASSWORD)  # type: ignore[arg-type]
        found = streamed_files(reader)
    assert reader.envelope is not None
    assert set(found) <= set(files)
    assert {path: found.get(path, b"") for path in files} == files

    # ... and as standard input ("-"), a pipe.
    blob = encrypted.read_bytes()
    monkeypatch.setattr(sys, "stdin", stdin_of(blob))
    assert api.test("-", password=PASSWORD).files == len(files)
    monkeypatch.setattr(sys, "stdin", stdin_of(blob))
    assert {entry.path for entry in api.read_index("-", password=PASSWORD).catalog.entries} \
        == paths
    monkeypatch.setattr(sys, "stdin", stdin_of(blob))
    api.unpack("-", tmp_path / "from-stdin", password=PASSWORD)
    assert tree_snapshot(tmp_path / "from-stdin" / "tree") == tree_snapshot(tree)
    monkeypatch.setattr(sys, "stdin", stdin_of(blob))
    sink = io.BytesIO()
    api.unpack_to("-", sink, "tree/big.bin", password=PASSWORD)
    assert sink.getvalue() == files["tree/big.bin"]


def test_passwords_as_text_bytes_and_callables(tree: Path, tmp_path: Path) -> None:
    """Text is its UTF-8 bytes; a callable is asked only when the archive is encrypted."""
    secret = "pässwörd ✓"
    archive = tmp_path / "bytes.pyarc"
    api.pack([tree], archive, password=secret.encode(), kdf_cost=LOW)
    asked: list[int] = []

    def ask() -> str:
        asked.append(1)
        return secret

    for password in (secret, secret.encode(), ask, lambda: secret.encode()):
        with archiver.open_archive(archive, password=password) as opened:
            assert opened.read("tree/small.txt") == b"alpha\n"
    assert asked
    with pytest.raises(WrongPasswordError):
        api.read_index(archive, password="pässwörd ✓".encode("utf-16"))

    # A callable for pack.
    archive = tmp_path / "callable.pyarc"
    api.pack([tree], archive, password=lambda: b"from a callable", kdf_cost=LOW)
    assert api.test(archive, password="from a callable").files == len(originals(tree))

    # A plain archive never asks.
    plain = tmp_path / "plain.pyarc"
    api.pack([tree], plain)
    never: list[int] = []

    def must_not_ask() -> str:
        never.append(1)
        return "unused"

    assert envelope_of(plain) is None
    with archiver.open_archive(plain, password=must_not_ask) as opened:
        assert opened.info().encryption is None
        assert opened.read("tree/big.bin") == (tree / "big.bin").read_bytes()
    assert api.read_index(plain, password=must_not_ask).encryption is None
    api.test(plain, password=must_not_ask)
    api.unpack(plain, tmp_path / "plain-out", password=must_not_ask)
    assert tree_snapshot(tmp_path / "plain-out" / "tree") == tree_snapshot(tree)
    api.unpack_to(plain, io.BytesIO(), "tree/small.txt", password=must_not_ask)
    api.salvage(plain, tmp_path / "plain-salvaged", password=must_not_ask)
    with open(plain, "rb") as file:
        reader = StreamReader(Pipe(file), password=must_not_ask)  # type: ignore[arg-type]
        assert streamed_files(reader)["tree/small.txt"] == b"alpha\n"
        assert reader.envelope is None
    assert never == []


def test_an_empty_password_is_refused(tree: Path, encrypted: Path, tmp_path: Path) -> None:
    archive = tmp_path / "empty-password.pyarc"
    for password in ("", b"", lambda: ""):
        with pytest.raises(UsageError, match="empty"):
            api.pack([tree], archive, password=password, kdf_cost=LOW)
        assert not archive.exists()
        with pytest.raises(UsageError, match="empty"):
            api.read_index(encrypted, password=password)


def test_packing_standard_input_with_a_password_is_a_usage_error(tmp_path: Path) -> None:
    archive = tmp_path / "stdin.pyarc"
    with pytest.raises(UsageError, match="standard input"):
        api.pack(["-"], archive, stdin=io.BytesIO(b"data"), password=PASSWORD, kdf_cost=LOW)
    assert not archive.exists()


@pytest.mark.parametrize("size", [1, 1023, 1024, 1025, 3 * 1024, 5000])
def test_chunking_does_not_depend_on_how_the_inner_archive_is_written(size: int) -> None:
    """SealedWriter at 1 KiB chunks, with a fixed salt: one write or many of random sizes
    (empty ones too) give the same bytes, 96 + L + 16 ceil(L / 1024) of them, that read back
    through a file and through a pipe. (The bytes are no archive: unseal reads the chunks
    only.)"""
    data = random.Random(size).randbytes(size)
    salt = bytes(range(32))

    def sealed(pieces: list[bytes]) -> bytes:
        out = io.BytesIO()
        writer = SealedWriter(out, PASSWORD, 4096, LOW, chunk_log=10, salt=salt)
        for piece in pieces:
            assert writer.write(piece) == len(piece)
        writer.finish()
        assert writer.sealed_bytes == len(out.getvalue())
        return out.getvalue()

    whole = sealed([data])
    rng = random.Random(size + 1)
    pieces = []
    position = 0
    while position < size:
        step = rng.choice([0, 1, 7, 1023, 1024, 1025, 3000])
        pieces.append(data[position:position + step])
        position += step
    assert sealed(pieces) == whole
    chunks = -(-size // 1024)
    assert len(whole) == PREFIX_SIZE + size + TAG_SIZE * chunks
    reader, envelope = unseal(io.BytesIO(whole), PASSWORD)
    assert envelope is not None and envelope.chunk_size == 1024
    assert reader.read() == data
    reader, _ = unseal(Pipe(io.BytesIO(whole)), PASSWORD)  # type: ignore[arg-type]
    assert reader.read() == data


def test_an_unfinished_archive_fails_at_its_end() -> None:
    out = io.BytesIO()
    writer = SealedWriter(out, PASSWORD, 4096, LOW, chunk_log=10)
    writer.write(random.Random(3).randbytes(5000))  # four chunks sealed, 904 bytes pending
    blob = out.getvalue()
    assert len(blob) == chunk_offset(4, 1040)
    for stream in (io.BytesIO(blob), Pipe(io.BytesIO(blob))):
        reader, _ = unseal(stream, PASSWORD)  # type: ignore[arg-type]
        with pytest.raises(AuthenticationError,
                           match=f"authentication failed at offset {chunk_offset(3, 1040)}"):
            reader.read()


def test_the_format_is_the_one_the_specification_describes(tree: Path, encrypted: Path,
                                                           tmp_path: Path) -> None:
    """Decrypted by hand, with `cryptography` and spec/FORMAT.md section 18 alone: the
    record's fields, the key check, the nonces, and an inner archive that is what pack writes
    without a password."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
    from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    blob = encrypted.read_bytes()
    assert blob[:8] == b"\x89PYARC\r\n" and blob[8:12] == b"\x03\x00\x00\x00"
    assert int.from_bytes(blob[16:20], "little") == xxh32(blob[:16])
    fields = (blob[20], blob[21], int.from_bytes(blob[22:24], "little"),
              int.from_bytes(blob[24:26], "little"), blob[58], blob[59])
    assert fields == (1, LOW.log_n, LOW.r, LOW.p, 1, 16)  # kdf, log_n, r, p, cipher, chunk_log
    assert int.from_bytes(blob[92:96], "little") == xxh32(blob[20:92])
    salt = blob[26:58]
    master = Scrypt(salt=salt, length=32, n=1 << LOW.log_n, r=LOW.r, p=LOW.p).derive(
        PASSWORD.encode())
    payload_key = HKDFExpand(hashes.SHA256(), 32, b"pyarc payload key").derive(master)
    check_key = HKDFExpand(hashes.SHA256(), 32, b"pyarc key check").derive(master)
    assert hmac.new(check_key, blob[:60], hashlib.sha256).digest() == blob[60:92]
    aead = ChaCha20Poly1305(payload_key)
    body = blob[PREFIX_SIZE:]
    count = -(-len(body) // SEALED)
    inner = b"".join(
        aead.decrypt(number.to_bytes(8, "little") + b"\0\0\0" + bytes([number == count - 1]),
                     body[number * SEALED:(number + 1) * SEALED], blob[:PREFIX_SIZE])
        for number in range(count))
    assert len(blob) == PREFIX_SIZE + len(inner) + TAG_SIZE * count
    plain = tmp_path / "plain.pyarc"
    api.pack([tree], plain)
    assert inner == plain.read_bytes()


# -- secrecy -------------------------------------------------------------------------------------


def test_the_ciphertext_holds_no_plaintext(tree: Path, encrypted: Path, tmp_path: Path) -> None:
    blob = encrypted.read_bytes()
    plain = tmp_path / "plain.pyarc"
    api.pack([tree], plain, codec="store")
    plain_blob = plain.read_bytes()
    for mark in (DATA_MARK, b"line 1000 of the medium file"):
        assert mark in plain_blob, mark  # (so that the check below can fail)
    # (The names are in the tables and the index, which pack compresses even with "store".)
    for mark in (DATA_MARK, b"line 1000 of the medium file", NAME_MARK.encode(),
                 b"medium.txt", b"note.md", b"deeper", b"big.bin"):
        assert mark not in blob, mark
    big = (tree / "big.bin").read_bytes()
    for offset in range(0, len(big) - 16, 4099):
        assert big[offset:offset + 16] not in blob

    again = tmp_path / "again.pyarc"
    api.pack([tree], again, password=PASSWORD, kdf_cost=LOW)
    second = again.read_bytes()
    first_envelope, second_envelope = envelope_of(encrypted), envelope_of(again)
    assert first_envelope is not None and second_envelope is not None
    assert first_envelope.salt != second_envelope.salt
    assert second != blob
    assert len(second) == len(blob)  # the same inner archive, under other keys
    for number in range(-(-(len(blob) - PREFIX_SIZE) // SEALED)):
        start = chunk_offset(number)
        assert blob[start:start + SEALED] != second[start:start + SEALED]
    same = sum(x == y for x, y in zip(blob[PREFIX_SIZE:], second[PREFIX_SIZE:], strict=True))
    assert same < len(blob) // 100  # about 1 in 256 by chance


# -- wrong and missing passwords -----------------------------------------------------------------


def every_reader(archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                 ) -> tuple[dict[str, Callable[[Any], object]], list[Path], io.BytesIO]:
    """Each way pyarc reads an archive, as a function of the password; the destinations they
    would write to; the sink unpack_to writes to."""
    blob = archive.read_bytes()
    sink = io.BytesIO()
    dests = [tmp_path / name for name in ("unpacked", "salvaged", "unpacked-from-stdin")]

    def from_stdin(action: Callable[[Any], object]) -> Callable[[Any], object]:
        def run(password: Any) -> object:
            monkeypatch.setattr(sys, "stdin", stdin_of(blob))
            return action(password)
        return run

    def stream_items(password: Any) -> object:
        stream = Pipe(io.BytesIO(blob))  # type: ignore[arg-type]
        return list(StreamReader(stream, password=password).items())

    readers: dict[str, Callable[[Any], object]] = {
        "open_archive": lambda pw: archiver.open_archive(archive, password=pw).close(),
        "read_index": lambda pw: api.read_index(archive, password=pw),
        "test": lambda pw: api.test(archive, password=pw),
        "unpack": lambda pw: api.unpack(archive, dests[0], password=pw),
        "unpack_to": lambda pw: api.unpack_to(archive, sink, "tree/big.bin", password=pw),
        "salvage": lambda pw: api.salvage(archive, dests[1], password=pw),
        "StreamReader": stream_items,
        "test -": from_stdin(lambda pw: api.test("-", password=pw)),
        "read_index -": from_stdin(lambda pw: api.read_index("-", password=pw)),
        "unpack -": from_stdin(lambda pw: api.unpack("-", dests[2], password=pw)),
        "unpack_to -": from_stdin(lambda pw: api.unpack_to("-", sink, "tree/big.bin",
                                                           password=pw)),
    }
    return readers, dests, sink


@pytest.mark.parametrize("wrong", ["not the password", b"correct horse battery stapl",
                                   "correct horse battery staple\n"], ids=repr)
def test_a_wrong_password_is_refused_by_every_reader_and_writes_nothing(
        wrong: str | bytes, encrypted: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    readers, dests, sink = every_reader(encrypted, tmp_path, monkeypatch)
    for name, read in readers.items():
        for password in (wrong, lambda: wrong):
            with pytest.raises(WrongPasswordError) as raised:
                read(password)
            assert str(raised.value) == "wrong password", name
    for dest in dests:
        assert absent_or_empty(dest), dest
    assert sink.getvalue() == b""


def test_no_password_is_refused_by_every_reader(encrypted: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    readers, dests, sink = every_reader(encrypted, tmp_path, monkeypatch)
    for read in readers.values():
        with pytest.raises(PasswordNeededError, match="encrypted"):
            read(None)
    for dest in dests:
        assert absent_or_empty(dest), dest
    assert sink.getvalue() == b""
    envelope = envelope_of(encrypted)  # needs no password
    assert envelope is not None and envelope.cost == LOW


# -- known answers of the primitives -----------------------------------------------------------

RFC8439_PLAINTEXT = (b"Ladies and Gentlemen of the class of '99: If I could offer you only "
                     b"one tip for the future, sunscreen would be it.")
RFC8439_CIPHERTEXT = bytes.fromhex(
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69"
    "da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad67594"
    "5585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116")
RFC8439_TAG = bytes.fromhex("1ae10b594f09e26a7e902ecbd0600691")


def test_chacha20_poly1305_known_answer() -> None:
    """RFC 8439 section 2.8.2, through pyarc's ChunkCipher."""
    key = bytes(range(0x80, 0xA0))
    nonce = bytes.fromhex("070000004041424344454647")
    associated = bytes.fromhex("50515253c0c1c2c3c4c5c6c7")
    cipher = ChunkCipher(key, associated)
    sealed = cipher.seal(nonce, RFC8439_PLAINTEXT)
    assert sealed == RFC8439_CIPHERTEXT + RFC8439_TAG
    assert cipher.open(nonce, sealed) == RFC8439_PLAINTEXT
    for bit in (0, 7, 8 * len(RFC8439_CIPHERTEXT) - 1, 8 * len(RFC8439_CIPHERTEXT),
                8 * len(sealed) - 1):
        damaged = bytearray(sealed)
        damaged[bit // 8] ^= 1 << bit % 8
        assert cipher.open(nonce, bytes(damaged)) is None, bit
    assert cipher.open(nonce, sealed[:-1]) is None
    assert cipher.open(bytes.fromhex("070000004041424344454646"), sealed) is None
    assert ChunkCipher(key, associated[:-1] + b"\xc6").open(nonce, sealed) is None
    assert ChunkCipher(key[:-1] + b"\x9e", associated).open(nonce, sealed) is None


@pytest.mark.parametrize("password, salt, cost, expected", [
    (b"password", b"NaCl", ScryptCost(10, 8, 16),
     "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff10927"
     "9d9830dac727afb94a83ee6d8360cbdfa2cc0640"),
    (b"pleaseletmein", b"SodiumChloride", ScryptCost(14, 8, 1),
     "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705"
     "242a9af9e61e85dc0d651e40dfcf017b45575887"),
    # (cryptography accepts the empty password and the empty salt)
    (b"", b"", ScryptCost(4, 1, 1),
     "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a"
     "0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"),
], ids=["NaCl", "SodiumChloride", "empty"])
def test_scrypt_known_answers(password: bytes, salt: bytes, cost: ScryptCost,
                              expected: str) -> None:
    """RFC 7914 section 12, through pyarc's scrypt_key."""
    assert scrypt_key(password, salt, cost, 64).hex() == expected


def test_chunk_nonces() -> None:
    """The chunk number (u64 LE), three zero bytes, and the last-chunk flag."""
    assert chunk_nonce(0, False) == bytes(12)
    assert chunk_nonce(0, True) == bytes(11) + b"\x01"
    assert chunk_nonce(0x0102, False) == b"\x02\x01" + bytes(10)
    assert chunk_nonce(2**64 - 1, True) == b"\xff" * 8 + b"\0\0\0\x01"


# -- the prefix is authenticated -------------------------------------------------------------


def with_checksums(blob: bytearray) -> bytes:
    """`blob` with the XXH32 of its header and of its encryption record recomputed."""
    blob[16:20] = xxh32(bytes(blob[:16])).to_bytes(4, "little")
    blob[92:96] = xxh32(bytes(blob[20:92])).to_bytes(4, "little")
    return bytes(blob)


@pytest.mark.parametrize("field, offset, value", [
    ("minor version", 9, b"\x01"),
    ("block size", 12, (1 << 20).to_bytes(4, "little")),
    ("log_n", 21, b"\x05"),
    ("r", 22, b"\x09\x00"),
    ("salt", 40, b"\xff"),
    ("chunk_log", 59, b"\x0f"),
    ("key check", 75, b"\x00\x00"),
])
def test_every_field_of_the_prefix_is_authenticated(field: str, offset: int, value: bytes,
                                                    encrypted: Path, tmp_path: Path) -> None:
    """A field of the header or of the record changed, with the XXH32s recomputed (as anyone
    can): the key check covers bytes 0 .. 59 and every chunk's associated data is the prefix
    (spec/FORMAT.md section 18), so every reader refuses it."""
    blob = bytearray(encrypted.read_bytes())
    assert blob[offset:offset + len(value)] != value
    blob[offset:offset + len(value)] = value
    mutant = tmp_path / "mutant.pyarc"
    mutant.write_bytes(with_checksums(blob))
    with pytest.raises((WrongPasswordError, AuthenticationError)):
        api.unpack(mutant, tmp_path / "out", password=PASSWORD)
    assert absent_or_empty(tmp_path / "out")
    with pytest.raises((WrongPasswordError, AuthenticationError)):
        api.test(mutant, password=PASSWORD)
    with pytest.raises((WrongPasswordError, AuthenticationError)):
        api.read_index(mutant, password=PASSWORD)


@pytest.mark.parametrize("log_n, r", [(16, 1), (20, 1), (17, 1)])
def test_costs_that_scrypt_cannot_take_are_refused_in_one_clear_error(
        log_n: int, r: int, encrypted: Path, tmp_path: Path) -> None:
    """scrypt needs N < 2^(16 r) (RFC 7914 section 6): a record naming N = 2^16 with r = 1,
    within pyarc's memory cap of 1 GiB, with its XXH32 recomputed, is refused by a PyarcError
    (the key check cannot pass, or the costs are out of range), never a MemoryError from the
    key derivation; and pack does not take such costs either."""
    blob = bytearray(encrypted.read_bytes())
    blob[21] = log_n
    blob[22:24] = r.to_bytes(2, "little")
    mutant = tmp_path / "costs.pyarc"
    mutant.write_bytes(with_checksums(blob))
    for read in (lambda: api.read_index(mutant, password=PASSWORD),
                 lambda: api.test(mutant, password=PASSWORD),
                 lambda: api.unpack(mutant, tmp_path / "out", password=PASSWORD)):
        with pytest.raises(PyarcError):
            read()
    assert absent_or_empty(tmp_path / "out")
    with pytest.raises(PyarcError):
        api.pack([tmp_path / "costs.pyarc"], tmp_path / "new.pyarc", password=PASSWORD,
                 kdf_cost=ScryptCost(log_n, r, 1))
    assert not (tmp_path / "new.pyarc").exists()


# -- 2,000 tampered archives ---------------------------------------------------------------------


def tampering_tree(root: Path) -> Path:
    """A tree whose archive (codec store, solid blocks of 16 KiB) is about 120 KB: 115 chunks of
    1 KiB once encrypted."""
    rng = random.Random(2024)
    tree = root / "mtree"
    (tree / "sub").mkdir(parents=True)
    (tree / "emptydir").mkdir()
    (tree / "a.txt").write_bytes(DATA_MARK + b" the first file\n" * 400)
    (tree / "r1.bin").write_bytes(rng.randbytes(60_000))
    (tree / "r2.bin").write_bytes(rng.randbytes(40_000))
    (tree / "sub" / "c.bin").write_bytes(rng.randbytes(9_000))
    (tree / "empty").write_bytes(b"")
    (tree / "link").symlink_to("a.txt")
    return tree


def sealed_copy(plain: bytes, block_size: int, chunk_log: int, path: Path) -> bytes:
    """`plain` (an archive) encrypted by SealedWriter into `path`, at a cost whose every
    one-bit change in the record is cheap to derive or refused (N=2^4, r=1, p=1)."""
    with open(path, "wb") as out:
        writer = SealedWriter(out, PASSWORD, block_size, ScryptCost(4, 1, 1),
                              chunk_log=chunk_log)
        writer.write(plain)
        writer.finish()
    return path.read_bytes()


class Tampering:
    """Mutants of archive `a` (and of `b`, the same inner archive under another salt): each
    chunk-level change of spec/FORMAT.md's table, drawn from a seeded generator, each mutant
    once, none identical to either archive."""

    def __init__(self, a: bytes, b: bytes, chunk_size: int, seed: int) -> None:
        self.a, self.b = a, b
        self.sealed = chunk_size + TAG_SIZE
        self.rng = random.Random(seed)
        self.chunks = {name: self.split(blob) for name, blob in (("a", a), ("b", b))}
        self.count = len(self.chunks["a"])
        assert len(self.chunks["b"]) == self.count
        self.seen = {hashlib.sha256(a).digest(), hashlib.sha256(b).digest()}
        self.kinds: Counter[str] = Counter()

    def split(self, blob: bytes) -> list[bytes]:
        body = blob[PREFIX_SIZE:]
        return [body[at:at + self.sealed] for at in range(0, len(body), self.sealed)]

    def join(self, name: str, chunks: list[bytes]) -> bytes:
        blob = self.a if name == "a" else self.b
        return blob[:PREFIX_SIZE] + b"".join(chunks)

    def fresh(self, kind: str, mutant: bytes) -> bool:
        digest = hashlib.sha256(mutant).digest()
        if digest in self.seen:
            return False
        self.seen.add(digest)
        self.kinds[kind] += 1
        return True

    def take(self, kind: str, wanted: int, make: Callable[[], tuple[str, bytes]]
             ) -> Iterator[tuple[str, str, bytes]]:
        """`wanted` new mutants from `make()` -> (label, mutant)."""
        made = 0
        for _ in range(wanted * 20):
            if made == wanted:
                return
            label, mutant = make()
            if self.fresh(kind, mutant):
                made += 1
                yield kind, label, mutant
        raise AssertionError(f"only {made} distinct {kind} mutants of {wanted}")

    # -- the kinds of change --

    def flip(self, blob: bytes, bit: int) -> bytes:
        mutant = bytearray(blob)
        mutant[bit // 8] ^= 1 << bit % 8
        return bytes(mutant)

    def flips_in_prefix(self) -> Iterator[tuple[str, str, bytes]]:
        for bit in range(8 * PREFIX_SIZE):
            mutant = self.flip(self.a, bit)
            if self.fresh("flip", mutant):
                yield "flip", f"prefix byte {bit // 8} bit {bit % 8}", mutant

    def rewrites_of_prefix(self) -> Iterator[tuple[str, str, bytes]]:
        """Every bit of the header and of the record flipped with their XXH32s recomputed (as
        anyone can): what the key check and the associated data must catch."""
        for bit in [*range(8 * 16), *range(8 * 20, 8 * 92)]:
            mutant = with_checksums(bytearray(self.flip(self.a, bit)))
            if self.fresh("rewrite", mutant):
                yield "rewrite", f"prefix byte {bit // 8} bit {bit % 8}, XXH32s recomputed", \
                    mutant

    def flips_in_chunks(self, wanted: int, in_tags: bool) -> Iterator[tuple[str, str, bytes]]:
        def make() -> tuple[str, bytes]:
            number = self.rng.randrange(self.count)
            size = len(self.chunks["a"][number])
            at = (self.rng.randrange(size - TAG_SIZE, size) if in_tags
                  else self.rng.randrange(size - TAG_SIZE))
            bit = 8 * (PREFIX_SIZE + number * self.sealed + at) + self.rng.randrange(8)
            return f"chunk {number} {'tag' if in_tags else 'body'} byte {at}", \
                self.flip(self.a, bit)
        return self.take("flip", wanted, make)

    def truncations(self, wanted: int, every_prefix_length: bool,
                    boundaries: int) -> Iterator[tuple[str, str, bytes]]:
        lengths = list(range(PREFIX_SIZE + 1)) if every_prefix_length else [0, 20, 95, 96]
        numbers = list(range(1, self.count))
        edges = self.rng.sample(numbers, min(boundaries, len(numbers)))
        lengths += [chunk_offset(number, self.sealed) for number in numbers]
        lengths += [chunk_offset(number, self.sealed) + extra for number in edges
                    for extra in (-1, 1, TAG_SIZE - 1, TAG_SIZE, TAG_SIZE + 1)]
        made = 0
        for length in lengths:
            if length < len(self.a) and self.fresh("truncate", self.a[:length]):
                made += 1
                yield "truncate", f"cut at {length}", self.a[:length]

        def make() -> tuple[str, bytes]:
            length = self.rng.randrange(PREFIX_SIZE + 1, len(self.a))
            return f"cut at {length}", self.a[:length]
        yield from self.take("truncate", max(0, wanted - made), make)

    def swaps(self, wanted: int) -> Iterator[tuple[str, str, bytes]]:
        def make() -> tuple[str, bytes]:
            name = self.rng.choice("ab")
            i, j = sorted(self.rng.sample(range(self.count), 2))
            chunks = list(self.chunks[name])
            chunks[i], chunks[j] = chunks[j], chunks[i]
            return f"{name}: chunks {i} and {j} swapped", self.join(name, chunks)
        return self.take("swap", wanted, make)

    def duplicates(self, wanted: int) -> Iterator[tuple[str, str, bytes]]:
        def make() -> tuple[str, bytes]:
            name = self.rng.choice("ab")
            i = self.rng.randrange(self.count)
            j = self.rng.choice([i, i + 1, self.count, self.rng.randrange(self.count + 1)])
            chunks = list(self.chunks[name])
            chunks.insert(j, chunks[i])
            return f"{name}: chunk {i} repeated at {j}", self.join(name, chunks)
        return self.take("duplicate", wanted, make)

    def drops(self, wanted: int) -> Iterator[tuple[str, str, bytes]]:
        def make() -> tuple[str, bytes]:
            name = self.rng.choice("ab")
            i = self.rng.randrange(self.count)
            chunks = list(self.chunks[name])
            del chunks[i]
            return f"{name}: chunk {i} dropped", self.join(name, chunks)
        return self.take("drop", wanted, make)

    def splices(self, wanted: int) -> Iterator[tuple[str, str, bytes]]:
        def make() -> tuple[str, bytes]:
            name, other = self.rng.choice(["ab", "ba"])
            i = self.rng.randrange(self.count)
            chunks = list(self.chunks[name])
            chunks[i] = self.chunks[other][i]
            return f"{name}: chunk {i} from {other}", self.join(name, chunks)
        return self.take("splice", wanted, make)

    def appends(self, wanted: int) -> Iterator[tuple[str, str, bytes]]:
        def make() -> tuple[str, bytes]:
            name, other = self.rng.choice(["ab", "ba"])
            i = self.rng.randrange(self.count)
            return f"{name}: chunk {i} of {other} appended", \
                self.join(name, [*self.chunks[name], self.chunks[other][i]])
        return self.take("append", wanted, make)


def unverified_output(dest: Path, tree: Path) -> list[str]:
    """What under `dest` is not as in `tree`: a regular file whose bytes differ (or that the
    tree lacks), a symlink to elsewhere, a temporary file, anything else."""
    wrong = []
    for path in sorted(dest.rglob("*")) if dest.exists() else []:
        relative = path.relative_to(dest)
        original = tree.parent / relative
        if "pyarc-tmp" in path.name or path.name.startswith("."):
            wrong.append(f"temporary file {relative}")
        elif path.is_symlink():
            if not original.is_symlink() or os.readlink(path) != os.readlink(original):
                wrong.append(f"symlink {relative}")
        elif stat.S_ISREG(path.lstat().st_mode):
            if (not original.is_file() or original.is_symlink()
                    or path.read_bytes() != original.read_bytes()):
                wrong.append(f"file {relative} differs from the original")
        elif not (path.is_dir() and original.is_dir() and not original.is_symlink()):
            wrong.append(f"unexpected {relative}")
    return wrong


def refused(mutants: Iterator[tuple[str, str, bytes]], tree: Path, work: Path,
            outcomes: Counter[tuple[str, str]]) -> list[str]:
    """Unpack and test each mutant; the problems found (an empty list when every mutant was
    refused with a PyarcError about the archive, AuthenticationError, WrongPasswordError,
    ChecksumError or another FormatError, and unpack wrote nothing unverified)."""
    problems = []
    archive = work / "mutant.pyarc"
    dest = work / "dest"
    for kind, label, mutant in mutants:
        archive.write_bytes(mutant)
        shutil.rmtree(dest, ignore_errors=True)
        for action, read in (("unpack", lambda: api.unpack(archive, dest, password=PASSWORD)),
                             ("test", lambda: api.test(archive, password=PASSWORD))):
            try:
                read()
            except (UsageError, PasswordNeededError) as error:  # (not about the archive)
                problems.append(f"{label}: {action} raised {type(error).__name__}: {error}")
            except PyarcError as error:
                if action == "unpack":
                    outcomes[kind, type(error).__name__] += 1
            except Exception as error:
                problems.append(f"{label}: {action} raised {type(error).__name__}: {error}")
            else:
                problems.append(f"{label}: {action} accepted it")
            if action == "unpack":
                problems += [f"{label}: {wrong}" for wrong in unverified_output(dest, tree)]
    return problems


@pytest.mark.slow
def test_two_thousand_tampered_archives_are_refused_without_unverified_output(
        tmp_path: Path) -> None:
    """An archive sealed in 1 KiB chunks (SealedWriter's smallest, so that a small archive has
    115), and another of the same inner archive under the same password (another salt):
    every bit of the prefix flipped (and again with its checksums recomputed), bits of chunks
    and tags, cuts (every length in the
    prefix, every chunk boundary, around boundaries, anywhere), chunks swapped, repeated,
    dropped, replaced by the other archive's chunk at the same place, the other's appended.
    Then a few of each for an archive pack wrote itself, in 64 KiB chunks. Unpack and test
    refuse every mutant; what unpack left is only verified, finished files."""
    tree = tampering_tree(tmp_path)
    plain_path = tmp_path / "plain.pyarc"
    api.pack([tree], plain_path, codec="store", block_size=16 << 10)
    plain = plain_path.read_bytes()
    block_size = api.read_index(plain_path).block_size
    a = sealed_copy(plain, block_size, 10, tmp_path / "a.pyarc")
    b = sealed_copy(plain, block_size, 10, tmp_path / "b.pyarc")
    api.unpack(tmp_path / "a.pyarc", tmp_path / "a-out", password=PASSWORD)
    assert tree_snapshot(tmp_path / "a-out" / "mtree") == tree_snapshot(tree)
    small = Tampering(a, b, 1 << 10, seed=1)
    assert small.count >= 100, small.count

    outcomes: Counter[tuple[str, str]] = Counter()
    work = tmp_path / "work"
    work.mkdir()
    problems = refused(itertools.chain(
        small.flips_in_prefix(),  # 768
        small.rewrites_of_prefix(),  # 704
        small.flips_in_chunks(66, in_tags=True),
        small.flips_in_chunks(66, in_tags=False),
        small.truncations(300, every_prefix_length=True, boundaries=10),
        small.swaps(200),
        small.duplicates(150),
        small.drops(150),
        small.splices(200),
        small.appends(100),
    ), tree, work, outcomes)

    # pack's own 64 KiB chunks: seven of them.
    big_tree = tmp_path / "big"
    big_tree.mkdir()
    (big_tree / "head.txt").write_bytes(DATA_MARK * 10)
    (big_tree / "random.bin").write_bytes(random.Random(7).randbytes(400_000))
    big_a, big_b = tmp_path / "big-a.pyarc", tmp_path / "big-b.pyarc"
    for path in (big_a, big_b):
        api.pack([big_tree], path, codec="store", password=PASSWORD,
                 kdf_cost=ScryptCost(4, 1, 1))
    large = Tampering(big_a.read_bytes(), big_b.read_bytes(), CHUNK, seed=2)
    assert large.count >= 6, large.count
    problems += refused(itertools.chain(
        large.flips_in_chunks(20, in_tags=True),
        large.flips_in_chunks(20, in_tags=False),
        large.truncations(50, every_prefix_length=False, boundaries=6),
        large.swaps(15),
        large.duplicates(10),
        large.drops(10),
        large.splices(10),
        large.appends(10),
    ), big_tree, work, outcomes)

    print(f"\n1 KiB chunks: {dict(small.kinds)}; 64 KiB chunks: {dict(large.kinds)}; "
          f"errors: {dict(outcomes)}")
    assert not problems, f"{len(problems)} problems, the first: " + "\n".join(problems[:20])
    assert sum(small.kinds.values()) >= 2000
    assert small.kinds["flip"] == 900 and small.kinds["truncate"] == 300
    assert small.kinds["rewrite"] == 704
    assert [small.kinds[kind] for kind in ("swap", "duplicate", "drop", "splice", "append")] \
        == [200, 150, 150, 200, 100]


# -- cuts just past a chunk boundary ---------------------------------------------------------

def sealed_tampering_archive(tmp_path: Path) -> tuple[Path, bytes]:
    """tampering_tree's tree, and its archive sealed in 1 KiB chunks."""
    tree = tampering_tree(tmp_path)
    plain_path = tmp_path / "plain.pyarc"
    api.pack([tree], plain_path, codec="store", block_size=16 << 10)
    return tree, sealed_copy(plain_path.read_bytes(), api.read_index(plain_path).block_size,
                             10, tmp_path / "a.pyarc")


@pytest.mark.parametrize("extra", [1, 8, 15, 16])
def test_a_cut_just_past_a_chunk_boundary_fails_to_authenticate(extra: int,
                                                                tmp_path: Path) -> None:
    """A last chunk of 1 .. 16 bytes cannot be (spec/FORMAT.md section 18: the last chunk is
    17 .. C + 16 bytes, a tag and at least a byte): an archive cut so is a cut archive, refused
    by AuthenticationError, as a cut anywhere else is."""
    tree, blob = sealed_tampering_archive(tmp_path)
    cut = tmp_path / "cut.pyarc"
    for number in (1, 50):
        cut.write_bytes(blob[:chunk_offset(number, 1040) + extra])
        with pytest.raises(AuthenticationError):
            api.unpack(cut, tmp_path / "out", password=PASSWORD)
        assert unverified_output(tmp_path / "out", tree) == []
        with pytest.raises(AuthenticationError):
            api.read_index(cut, password=PASSWORD)
        with pytest.raises(AuthenticationError):
            api.test(cut, password=PASSWORD)


@pytest.mark.parametrize("extra", [1, 8, 15, 16])
def test_salvage_of_an_archive_cut_just_past_a_chunk_boundary(extra: int,
                                                              tmp_path: Path) -> None:
    """Salvage reports the damage (or refuses with a PyarcError); it does not crash, and
    writes only verified files."""
    tree, blob = sealed_tampering_archive(tmp_path)
    cut = tmp_path / "cut.pyarc"
    for number in (0, 1, 50):
        cut.write_bytes(blob[:chunk_offset(number, 1040) + extra])
        dest = tmp_path / f"salvaged-{number}"
        try:
            _, found = api.salvage(cut, dest, password=PASSWORD)
        except PyarcError:
            pass
        else:
            assert found.damage
        assert unverified_output(dest, tree) == []


@pytest.mark.parametrize("extra", [1, 15, 16])
def test_a_cut_archive_cannot_pass_for_another(extra: int, tmp_path: Path) -> None:
    """The truncation attack the last-chunk flag exists to stop. Someone who chose one file
    of a tree (an attachment, stored as is) fills it with an index and a footer of their own,
    placed so that a cut of the encrypted archive 1 .. 16 bytes past a chunk boundary ends the
    inner archive as a reader that trusts the file's size sees it right after that footer.
    Every chunk the reader then reads authenticates (it was sealed as a middle chunk, and is
    read as one), so nothing but the cut chunk can tell: pyarc must refuse the cut archive,
    not extract the attacker's."""
    work = tmp_path / "work"
    work.mkdir()
    planted = work / "planted-by-the-attacker"
    planted.mkdir()
    foreign = work / "foreign.pyarc"
    api.pack([planted], foreign, codec="store")
    blob = foreign.read_bytes()
    index_offset, index_size = parse_footer(blob[-FOOTER_SIZE:], len(blob) - FOOTER_SIZE)
    index = blob[index_offset:index_offset + index_size]

    victim = work / "victim"
    victim.mkdir()
    (victim / "notes.txt").write_bytes(b"what the owner packed\n" * 100)
    size = 80_000  # the attachment spans the first chunk boundary

    def pack_with(attachment: bytes) -> bytes:
        (victim / "zz-attachment.bin").write_bytes(attachment)
        for path in (victim, *victim.iterdir()):
            os.utime(path, ns=(10**18, 10**18))
        api.pack([victim], work / "plain.pyarc", codec="store", force=True)
        return (work / "plain.pyarc").read_bytes()

    probe = random.Random(5).randbytes(size)
    start = pack_with(probe).index(probe)  # where the attachment lies in the inner archive
    chunks = start // CHUNK + 1
    end = chunks * CHUNK - TAG_SIZE + extra  # the inner archive a cut at this length shows
    assert start + len(index) + FOOTER_SIZE < end < start + size
    attachment = bytearray(random.Random(6).randbytes(size))
    at = end - FOOTER_SIZE - len(index) - start
    attachment[at:at + len(index) + FOOTER_SIZE] = index + build_footer(
        end - FOOTER_SIZE - len(index), len(index))
    inner = pack_with(bytes(attachment))
    assert inner.index(attachment) == start

    archive = work / "sealed.pyarc"
    api.pack([victim], archive, codec="store", force=True, password=PASSWORD, kdf_cost=LOW)
    assert api.read_index(archive, password=PASSWORD).catalog.entries[0].path == "victim"
    cut = work / "cut.pyarc"
    cut.write_bytes(archive.read_bytes()[:chunk_offset(chunks) + extra])
    dest = tmp_path / "out"
    with pytest.raises(FormatError):  # (AuthenticationError, by the specification)
        listing = api.read_index(cut, password=PASSWORD)
        print("the cut archive lists", [entry.path for entry in listing.catalog.entries])
    with pytest.raises(FormatError):
        api.unpack(cut, dest, password=PASSWORD)
    assert not (dest / "planted-by-the-attacker").exists()


# -- salvage -----------------------------------------------------------------------------------


@pytest.fixture
def separate_blocks(tmp_path: Path) -> tuple[Path, Path]:
    """An encrypted archive of five files of 100 KB, one block each (codec store, not solid):
    about eight chunks, each touching one file or two."""
    tree = tmp_path / "stree"
    tree.mkdir()
    for number in range(5):
        (tree / f"f{number}.bin").write_bytes(random.Random(number).randbytes(100_000))
    archive = tmp_path / "separate.pyarc"
    api.pack([tree], archive, codec="store", solid=False, password=PASSWORD, kdf_cost=LOW)
    return tree, archive


def frame_ranges(archive: Path) -> dict[str, tuple[int, int]]:
    """Each file's block frame in the inner archive: (start, end)."""
    with archiver.open_archive(archive, password=PASSWORD) as opened:
        catalog, index_offset = opened.catalog, opened.index_offset
    starts = sorted([ref.offset for ref in catalog.blocks]
                    + [segment.offset for segment in catalog.segments] + [index_offset])
    ranges = {}
    for number, entry in enumerate(catalog.entries):
        if entry.kind != Kind.FILE:
            continue
        start, end = catalog.data_range(number)
        [ref] = list(catalog.blocks_in(start, end))
        ranges[entry.path] = (ref.offset, starts[starts.index(ref.offset) + 1])
    return ranges


def test_salvage_keeps_the_files_outside_the_chunk_that_fails(
        separate_blocks: tuple[Path, Path], tmp_path: Path) -> None:
    tree, archive = separate_blocks
    files = originals(tree)
    ranges = frame_ranges(archive)
    bad = 4
    blob = bytearray(archive.read_bytes())
    assert len(blob) > chunk_offset(bad + 2)
    blob[chunk_offset(bad) + 1000] ^= 0x10
    damaged = tmp_path / "damaged.pyarc"
    damaged.write_bytes(bytes(blob))
    lost = {path for path, (start, end) in ranges.items()
            if start < (bad + 1) * CHUNK and end > bad * CHUNK}
    assert lost and len(lost) < len(files)

    dest = tmp_path / "out"
    stats, found = api.salvage(damaged, dest, password=PASSWORD)
    assert {scanned.entry.path for scanned in found.damaged} == lost
    assert any(f"authentication failed at offset {chunk_offset(bad)}" in damage.message
               for damage in found.damage)
    for path, data in files.items():
        if path in lost:
            assert not (dest / path).exists(), path
        else:
            assert (dest / path).read_bytes() == data, path
    assert stats.files == len(files) - len(lost)
    assert unverified_output(dest, tree) == []

    with pytest.raises(WrongPasswordError, match="wrong password"):
        api.salvage(damaged, tmp_path / "wrong", password="not it")
    assert absent_or_empty(tmp_path / "wrong")
    with pytest.raises(PasswordNeededError):
        api.salvage(damaged, tmp_path / "none")


@pytest.mark.parametrize("chunks", [3, 5])
def test_salvage_of_an_archive_cut_at_a_chunk_boundary(chunks: int,
                                                       separate_blocks: tuple[Path, Path],
                                                       tmp_path: Path) -> None:
    """The last chunk left is tried as a middle one too: every file whose frame ends before
    the cut is kept."""
    tree, archive = separate_blocks
    files = originals(tree)
    kept = {path for path, (_, end) in frame_ranges(archive).items() if end <= chunks * CHUNK}
    assert kept and len(kept) < len(files)
    cut = tmp_path / "cut.pyarc"
    cut.write_bytes(archive.read_bytes()[:chunk_offset(chunks)])
    with pytest.raises(AuthenticationError):
        api.unpack(cut, tmp_path / "plain", password=PASSWORD)
    dest = tmp_path / "out"
    stats, found = api.salvage(cut, dest, password=PASSWORD)
    assert {scanned.entry.path for scanned in found.intact
            if scanned.entry.kind == Kind.FILE} == kept
    assert found.damage
    for path, data in files.items():
        assert (dest / path).read_bytes() == data if path in kept \
            else not (dest / path).exists(), path
    assert stats.files == len(kept)
    assert unverified_output(dest, tree) == []


# -- the command line ------------------------------------------------------------------------


def flipped(archive: Path, offset: int, to: Path) -> Path:
    blob = bytearray(archive.read_bytes())
    blob[offset] ^= 0x01
    to.write_bytes(bytes(blob))
    return to


def test_cli_password_file(tree: Path, tmp_path: Path, run_cli: RunCli,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    """pack --encrypt --password-file, then list, test and unpack with the same file (its one
    final newline is not part of the password); the default scrypt cost."""
    monkeypatch.delenv("PYARC_PASSWORD", raising=False)
    password_file = tmp_path / "password"
    password_file.write_bytes(b"from a file\n")
    archive = tmp_path / "cli.pyarc"
    code, _, err = run_cli("pack", "--encrypt", "--password-file", password_file, archive, tree)
    assert code == 0, err
    envelope = envelope_of(archive)
    assert envelope is not None and envelope.cost == ScryptCost()
    code, out, err = run_cli("list", "--password-file", password_file, archive)
    assert code == 0, err
    assert f"tree/{NAME_MARK}.txt".encode() in out and b"tree/sub/deeper/note.md" in out
    code, _, err = run_cli("test", "--password-file", password_file, archive)
    assert code == 0, err
    code, _, err = run_cli("unpack", "--password-file", password_file, archive,
                           "-C", tmp_path / "out")
    assert code == 0, err
    assert tree_snapshot(tmp_path / "out" / "tree") == tree_snapshot(tree)


def test_cli_environment_wrong_password_and_tampering(tree: Path, encrypted: Path,
                                                      tmp_path: Path, run_cli: RunCli,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYARC_PASSWORD", raising=False)
    code, _, err = run_cli("unpack", encrypted, "-C", tmp_path / "env",
                           env={"PYARC_PASSWORD": PASSWORD})
    assert code == 0, err
    assert tree_snapshot(tmp_path / "env" / "tree") == tree_snapshot(tree)

    wrong = tmp_path / "wrong"
    wrong.write_text("not the password\n")
    code, _, err = run_cli("unpack", "--password-file", wrong, encrypted, "-C", tmp_path / "w")
    assert code == 1
    assert err.splitlines() == ["pyarc: error: wrong password"], err
    assert absent_or_empty(tmp_path / "w")

    right = tmp_path / "right"
    right.write_text(PASSWORD)
    tampered = flipped(encrypted, chunk_offset(1) + 500, tmp_path / "tampered.pyarc")
    code, _, err = run_cli("unpack", "--password-file", right, tampered, "-C", tmp_path / "t")
    assert code == 1
    line = assert_one_error_line(err)
    assert f"authentication failed at offset {chunk_offset(1)}" in line, line
    assert unverified_output(tmp_path / "t", tree) == []

    # --salvage extracts what authenticates (here the one solid block is lost, the entries
    # without data are not), says what was lost, and writes nothing unverified.
    code, out, err = run_cli("unpack", "--salvage", "--password-file", right, tampered,
                             "-C", tmp_path / "s")
    assert code == 1
    line = assert_one_error_line(err)
    assert line.startswith("pyarc: error: salvaged") and "damaged" in line, line
    assert b"authentication failed at offset" in out
    assert (tmp_path / "s" / "tree" / "emptydir").is_dir()
    assert unverified_output(tmp_path / "s", tree) == []


def test_cli_info_with_and_without_the_password(encrypted: Path, tmp_path: Path,
                                                run_cli: RunCli,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYARC_PASSWORD", raising=False)
    envelope = envelope_of(encrypted)
    assert envelope is not None
    code, out, err = run_cli("info", encrypted)
    assert code == 0, err
    text = out.decode()
    assert "ChaCha20-Poly1305" in text and "scrypt" in text and "encrypted" in text
    assert NAME_MARK not in text and "big.bin" not in text
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD)
    code, out, err = run_cli("info", "--json", "--password-file", password_file, encrypted)
    assert code == 0, err
    shown = json.loads(out)
    assert shown["encryption"] == envelope.describe()
    assert shown["entries"]["file"] == 6 and shown["archive_size"] == encrypted.stat().st_size


def test_cli_usage_errors_of_pack(tree: Path, tmp_path: Path) -> None:
    """pack --encrypt without a terminal, a password file or PYARC_PASSWORD (a new session has
    no controlling terminal); --password-file without --encrypt. Exit 2, one line, no
    archive."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYARC_PASSWORD", "PYARC_DEBUG")}
    archive = tmp_path / "never.pyarc"
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD)
    huge = tmp_path / "not-a-password"  # a file given by mistake: refused, not cut short
    huge.write_bytes(b"x" * (64 << 10) + b"y")
    empty = tmp_path / "empty"
    empty.write_bytes(b"\n")
    for args, word in ((["--encrypt"], "--password-file"),
                       (["--password-file", str(password_file)], "--encrypt"),
                       (["--encrypt", "--password-file", str(huge)], "larger than 64 KiB"),
                       (["--encrypt", "--password-file", str(empty)], "is empty")):
        done = subprocess.run([sys.executable, "-m", "archiver", "pack", *args, str(archive),
                               str(tree)], stdin=subprocess.DEVNULL, capture_output=True,
                              env=env, start_new_session=True, timeout=120)
        assert done.returncode == 2, done.stderr
        assert word in assert_one_error_line(done.stderr.decode())
        assert not archive.exists()


# -- the terminal prompt ----------------------------------------------------------------------

needs_pty = pytest.mark.skipif(pty is None or sys.platform == "win32",
                               reason="needs POSIX pseudo-terminals (the pty module)")


def on_terminal(args: list[str | os.PathLike[str]], answers: list[tuple[str, str]],
                timeout: float = 60) -> tuple[int, str]:
    """Run `python -m archiver ARGS` with a pseudo-terminal as its controlling terminal and
    standard streams, typing each answer once its prompt has appeared; (exit code, what it
    wrote to the terminal)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYARC_PASSWORD", "PYARC_DEBUG")}
    argv = [sys.executable, "-m", "archiver", *map(os.fspath, args)]
    pid, fd = pty.fork()
    if pid == 0:  # the child: nothing but exec
        try:
            os.execve(sys.executable, argv, env)
        finally:
            os._exit(127)
    output = b""
    seen = 0  # how much of the output the prompts answered so far were found in
    pending = list(answers)
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                pytest.fail(f"pyarc {args} still running after {timeout} s; it wrote "
                            f"{output!r}")
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the child has closed the terminal (Linux)
                break
            if not data:
                break
            output += data
            while pending and (found := output.find(pending[0][0].encode(), seen)) >= 0:
                seen = found + len(pending[0][0])
                os.write(fd, pending.pop(0)[1].encode() + b"\n")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert not pending, f"never asked {pending[0][0]!r}: {output!r}"
    return os.waitstatus_to_exitcode(status), output.decode("utf-8", "replace")


@needs_pty
def test_the_terminal_is_asked_for_the_password(tree: Path, tmp_path: Path) -> None:
    archive = tmp_path / "tty.pyarc"
    code, output = on_terminal(["pack", "--encrypt", archive, tree],
                               [("Password for the new archive:", "pw-from-tty"),
                                ("Repeat the password:", "pw-from-tty")])
    assert code == 0, output
    assert "pw-from-tty" not in output  # not echoed
    with archiver.open_archive(archive, password="pw-from-tty") as opened:
        assert opened.read("tree/small.txt") == b"alpha\n"
    code, output = on_terminal(["unpack", archive, "-C", tmp_path / "out"],
                               [("Password:", "pw-from-tty")])
    assert code == 0, output
    assert output.count("Password:") == 1, output
    assert tree_snapshot(tmp_path / "out" / "tree") == tree_snapshot(tree)


@needs_pty
def test_two_different_answers_on_the_terminal(tree: Path, tmp_path: Path) -> None:
    archive = tmp_path / "differ.pyarc"
    code, output = on_terminal(["pack", "--encrypt", archive, tree],
                               [("Password for the new archive:", "one"),
                                ("Repeat the password:", "two")])
    assert code == 2, output
    assert "the passwords differ" in output
    assert not archive.exists()
