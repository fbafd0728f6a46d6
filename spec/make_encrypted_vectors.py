#!/usr/bin/env python3
"""Generate the test archives of format 3.0 (encrypted archives) in spec/vectors/3.0/,
deterministically.

    python spec/make_encrypted_vectors.py           # (re)write every vector
    python spec/make_encrypted_vectors.py --check   # compare instead; exit 1 if any differs

Every vector is sealed with the password "pyarc test vector", scrypt at the low costs
N=2^10, r=8, p=1 (for the vectors only: pyarc writes N=2^17) and a fixed salt, so that the
bytes never change; a writer MUST NOT fix its salt (it would reuse its keys and nonces). The
inner archives are format 2.0 vectors made by spec/make_vectors.py (or, for one bad vector,
a frozen 1.0 one). Most vectors use 1 KiB chunks (the smallest size allowed; pyarc writes
64 KiB), so that a small archive has several.

The good vectors are written by pyarc's own SealedWriter. The bad ones break one rule each:
a record field with its XXH32 recomputed, or chunks cut, moved, copied or replaced, or sealed
by hand (ChunkCipher) with a wrong last-chunk flag. spec/vectors/3.0/README.md says what a
reader must do with each; tests/test_encrypted_vectors.py reads that table.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import make_vectors
from make_vectors import HELLO, SOLID, TREE, binary, file_entry, flipped, write

from archiver.encryption import (
    PREFIX_SIZE,
    TAG_SIZE,
    ChunkCipher,
    RecordParams,
    ScryptCost,
    SealedWriter,
    chunk_nonce,
    derive_keys,
)
from archiver.format import HEADER_SIZE, xxh32

HERE = Path(__file__).resolve().parent
VECTORS = HERE / "vectors" / "3.0"
PASSWORD = b"pyarc test vector"
COST = ScryptCost(10, 8, 1)
SALT = bytes(range(32))
OTHER_SALT = bytes(range(32, 64))
SMALL_CHUNKS = 10  # 1 KiB


def sealed(inner: bytes, chunk_log: int = SMALL_CHUNKS, salt: bytes = SALT,
           block_size: int = make_vectors.SMALL_BLOCK) -> bytes:
    """`inner` encrypted by pyarc's writer."""
    out = io.BytesIO()
    writer = SealedWriter(out, PASSWORD, block_size, COST, chunk_log=chunk_log, salt=salt)
    writer.write(inner)
    writer.finish()
    return out.getvalue()


def pieces(blob: bytes, chunk_log: int = SMALL_CHUNKS) -> tuple[bytes, list[bytes]]:
    """An encrypted archive's prefix and its sealed chunks."""
    size = (1 << chunk_log) + TAG_SIZE
    body = blob[PREFIX_SIZE:]
    return blob[:PREFIX_SIZE], [body[i:i + size] for i in range(0, len(body), size)]


def resealed(inner: bytes, last_flags: list[bool]) -> bytes:
    """`inner` sealed by hand, chunk i with the last-chunk flag `last_flags[i]`."""
    prefix, _ = pieces(sealed(b"\0"))
    cipher = ChunkCipher(derive_keys(PASSWORD, SALT, COST).payload, prefix)
    size = 1 << SMALL_CHUNKS
    parts = [inner[i:i + size] for i in range(0, len(inner), size)]
    return prefix + b"".join(
        cipher.seal(chunk_nonce(number, last), part)
        for number, (part, last) in enumerate(zip(parts, last_flags, strict=True)))


def with_record(blob: bytes, **fields: object) -> bytes:
    """The archive with record fields changed and the record's XXH32 recomputed (built field
    by field, bypassing the record's rules: what it builds is meant to break them)."""
    at = HEADER_SIZE
    params = RecordParams.parse(blob[at:])
    names = [field.name for field in RecordParams.subcons]
    changed = RecordParams.build({**{name: params[name] for name in names}, **fields})
    key_check = blob[at + len(changed):at + len(changed) + 32]
    record = changed + key_check
    return blob[:at] + record + xxh32(record).to_bytes(4, "little") + blob[PREFIX_SIZE:]


def with_header_minor(blob: bytes, minor: int) -> bytes:
    """The archive with another minor version in its header, the header's XXH32 recomputed."""
    header = blob[:8] + bytes([blob[8], minor]) + blob[10:16]
    return header + xxh32(header).to_bytes(4, "little") + blob[HEADER_SIZE:]


def exact_chunks_inner() -> bytes:
    """A 2.0 archive of exactly two 1 KiB chunks, so its last chunk is a full one."""
    size = 1000
    while True:
        data = binary(size, seed=5)
        inner = write([(file_entry("two-chunks.bin", data), data)])
        if len(inner) == 2 << SMALL_CHUNKS:
            return inner
        size += (2 << SMALL_CHUNKS) - len(inner)


def good_vectors() -> dict[str, bytes]:
    hello = write([(file_entry("hello.txt", HELLO), HELLO)])
    return {
        "hello": sealed(hello, chunk_log=16),
        "tree": sealed(write(TREE)),
        "solid": sealed(write(SOLID)),
        "exact-chunks": sealed(exact_chunks_inner()),
    }


def bad_vectors() -> dict[str, bytes]:
    inner = write(SOLID)
    good = sealed(inner)
    prefix, chunks = pieces(good)
    _, other = pieces(sealed(inner, salt=OTHER_SALT))
    assert len(chunks) >= 4
    salt_at = HEADER_SIZE + 6
    key_check_at = HEADER_SIZE + RecordParams.sizeof()
    return {
        # the header and the encryption record
        "header-minor-changed": with_header_minor(good, 1),
        "record-checksum": flipped(good, salt_at),
        "key-check": with_record(flipped(good, key_check_at)),
        "salt-changed": with_record(flipped(good, salt_at)),
        "unknown-kdf": with_record(good, kdf=2),
        "unknown-cipher": with_record(good, cipher=2),
        "costs-too-high": with_record(good, log_n=24),
        "chunk-size-too-small": with_record(good, chunk_log=9),
        "no-chunks": good[:PREFIX_SIZE],
        # the chunks
        "chunk-flipped": flipped(good, PREFIX_SIZE + 2 * len(chunks[0]) + 100),
        "tag-flipped": flipped(good, PREFIX_SIZE + 2 * len(chunks[0]) - 1),
        "chunks-swapped": prefix + b"".join([chunks[0], chunks[2], chunks[1], *chunks[3:]]),
        "chunk-dropped": prefix + b"".join(chunks[:2] + chunks[3:]),
        "chunk-duplicated": prefix + b"".join(chunks[:3] + chunks[2:]),
        "chunk-spliced": prefix + b"".join([chunks[0], other[1], *chunks[2:]]),
        "cut-at-a-chunk": prefix + b"".join(chunks[:-1]),
        "cut-in-a-tag": good[:-5],
        "cut-past-a-chunk": prefix + b"".join(chunks[:-1]) + chunks[-1][:16],
        "last-not-final": resealed(inner, [False] * len(chunks)),
        "final-too-early": resealed(inner, [i == len(chunks) - 2 for i in range(len(chunks))]),
        # what the chunks hold
        "inner-format-1": sealed((HERE / "vectors/1.0/good/unnamed.pyarc").read_bytes()),
        "inner-damaged": sealed((HERE / "vectors/2.0/bad/index-checksum.pyarc").read_bytes()),
    }


def all_vectors() -> dict[str, bytes]:
    files = {f"good/{name}.pyarc": data for name, data in good_vectors().items()}
    files.update({f"bad/{name}.pyarc": data for name, data in bad_vectors().items()})
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare the vectors on disk instead of writing them")
    parser.add_argument("--dir", type=Path, default=VECTORS, help="default: spec/vectors/3.0")
    args = parser.parse_args(argv)
    files = all_vectors()
    return make_vectors.report(make_vectors.sync(files, args.dir, args.check), args.check,
                               len(files), args.dir)


if __name__ == "__main__":
    sys.exit(main())
