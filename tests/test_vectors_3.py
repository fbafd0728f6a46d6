"""The encrypted test archives of format 3.0 (spec/vectors/3.0/): the generator reproduces
them, and a small reader written from spec/FORMAT.md section 18 alone (hashlib's scrypt, hmac,
the AEAD of `cryptography`; nothing of pyarc) decrypts the good ones into the 2.0 vectors they
seal. Every pyarc reader runs on them in test_vector_readers.py, as their README says."""

from __future__ import annotations

import hashlib
import hmac
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import xxhash

import archiver
from archiver.errors import PasswordNeededError, WrongPasswordError

pytest.importorskip("cryptography", reason="encrypted archives need the cryptography package "
                                           "(pip install 'pyarc[encrypt]')")
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "spec" / "vectors"
PASSWORD = b"pyarc test vector"
GOOD = sorted((VECTORS / "3.0" / "good").glob("*.pyarc"))


def test_vectors_are_up_to_date() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "spec" / "make_encrypted_vectors.py"),
                             "--check"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def decrypt_by_the_spec(blob: bytes, password: bytes) -> bytes:
    """The inner archive, by FORMAT.md section 18 step by step."""
    header, record = blob[:20], blob[20:96]
    assert blob[:8] == b"\x89PYARC\r\n" and blob[8] == 3
    assert xxhash.xxh32_intdigest(header[:16]) == struct.unpack("<I", header[16:])[0]
    kdf, log_n, r, p = struct.unpack_from("<BBHH", record)
    salt, (cipher, chunk_log) = record[6:38], record[38:40]
    key_check, (checksum,) = record[40:72], struct.unpack("<I", record[72:])
    assert (kdf, cipher) == (1, 1)
    assert xxhash.xxh32_intdigest(record[:72]) == checksum
    master = hashlib.scrypt(password, salt=salt, n=1 << log_n, r=r, p=p, dklen=32)

    def expand(info: bytes) -> bytes:  # HKDF-Expand-SHA256 of 32 bytes: T(1) alone
        return hmac.new(master, info + b"\x01", hashlib.sha256).digest()

    check = hmac.new(expand(b"pyarc key check"), header + record[:40], hashlib.sha256)
    assert hmac.compare_digest(check.digest(), key_check)
    aead = ChaCha20Poly1305(expand(b"pyarc payload key"))
    size = (1 << chunk_log) + 16
    body = blob[96:]
    chunks = [body[at:at + size] for at in range(0, len(body), size)]
    return b"".join(
        aead.decrypt(number.to_bytes(8, "little") + b"\0\0\0" + bytes([number == len(chunks) - 1]),
                     chunk, blob[:96])
        for number, chunk in enumerate(chunks))


@pytest.mark.parametrize("path", GOOD, ids=lambda path: path.name)
def test_good_vectors_hold_their_2_0_archives(path: Path) -> None:
    inner = decrypt_by_the_spec(path.read_bytes(), PASSWORD)
    original = VECTORS / "2.0" / "good" / path.name
    if original.exists():
        assert inner == original.read_bytes()
    else:  # exact-chunks: an archive of its own, two full 1 KiB chunks
        assert len(inner) == 2048 and inner[8] == 2
    with archiver.open_archive(path, password=PASSWORD) as opened:
        assert opened.info().encryption is not None
        assert "scrypt (N=2^10, r=8, p=1)" in opened.info().encryption


@pytest.mark.parametrize("path", GOOD, ids=lambda path: path.name)
def test_good_vectors_refuse_other_passwords(path: Path) -> None:
    with pytest.raises(WrongPasswordError, match="^wrong password$"):
        archiver.open_archive(path, password=b"pyarc test vectoR")
    with pytest.raises(PasswordNeededError):
        archiver.open_archive(path)
