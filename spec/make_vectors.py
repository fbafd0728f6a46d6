#!/usr/bin/env python3
"""Generate the test archives in spec/vectors/ (good/ and bad/), deterministically.

    python spec/make_vectors.py           # (re)write every vector
    python spec/make_vectors.py --check   # compare instead of writing; exit 1 if any differs

The good vectors are written by pyarc's real writer (`archiver.writer.write_archive`,
`archiver.api.compress`). The bad ones are built with the real `construct` definitions of
`archiver.format` (`FrameHead`, `Header`, `Footer`), with the validators switched off where a
field must hold a value a writer may not write (see `unchecked`), or by patching bytes of a good
archive and recomputing the checksums that cover them, so that each bad vector has exactly ONE
defect. The index frame is built from its columns (`index_fields`, checked against
`build_index_frame`), so that a vector can make one column disagree with the others. This
script is test tooling: it may construct bytes by hand; pyarc's reader never does.

Everything is fixed: mtimes, modes, data (no randomness), and only the `store` codec is used, so
the vectors do not change when other codecs change their payload format. spec/vectors/README.md
describes every vector and what a reader must do with it; tests/test_vectors.py reads that table.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import construct as c

from archiver.api import compress, make_encoder
from archiver.format import (
    DEFAULT_BLOCK_SIZE,
    FORMAT_MAJOR,
    FORMAT_MINOR,
    FRAME_BLOCK,
    FRAME_INDEX,
    BlockHeader,
    BlockRef,
    Entry,
    Footer,
    FrameHead,
    Header,
    Index,
    Kind,
    build_block_head,
    build_entry_frame,
    build_index_frame,
    xxh3,
    xxh32,
)
from archiver.writer import write_archive

HERE = Path(__file__).resolve().parent
VECTORS = HERE / "vectors"

MTIME = 1_700_000_000_123_456_789  # 2023-11-14T22:13:20.123456789Z, in ns
FILE_MODE, DIR_MODE, LINK_MODE = 0o644, 0o755, 0o777
SMALL_BLOCK = 1024  # MIN_BLOCK_SIZE: the smallest block size a writer may choose


def text(n: int, seed: int = 0) -> bytes:
    """`n` bytes of deterministic, readable filler."""
    line = b"pyarc test vector line %05d: the quick brown fox jumps over the lazy dog\n"
    out = bytearray()
    i = seed
    while len(out) < n:
        out += line % i
        i += 1
    return bytes(out[:n])


def binary(n: int, seed: int = 1) -> bytes:
    """`n` bytes of deterministic, incompressible-looking data (a 32-bit LCG, high bytes)."""
    out = bytearray()
    x = seed
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        out.append(x >> 24)
    return bytes(out)


def file_entry(path: str, data: bytes, mode: int = FILE_MODE) -> Entry:
    return Entry(path, Kind.FILE, mode, MTIME, len(data))


def dir_entry(path: str) -> Entry:
    return Entry(path, Kind.DIRECTORY, DIR_MODE, MTIME)


def link_entry(path: str, target: str) -> Entry:
    return Entry(path, Kind.SYMLINK, LINK_MODE, MTIME, target=target)


# -- good archives: the real writer ------------------------------------------------------------


def chunks(data: bytes, block_size: int) -> list[bytes]:
    return [data[i:i + block_size] for i in range(0, len(data), block_size)]


def write(items: Iterable[tuple[Entry, bytes | None]], block_size: int = SMALL_BLOCK) -> bytes:
    """An archive of `items` ((entry, data or None)) by pyarc's own writer, `store` codec."""
    out = io.BytesIO()
    sources = [(entry, chunks(data, block_size) if data is not None else None)
               for entry, data in items]
    write_archive(out, sources, make_encoder("store"), block_size)
    return out.getvalue()


TREE = [
    (dir_entry("tree"), None),
    (file_entry("tree/hello.txt", b"Hello, pyarc!\n"), b"Hello, pyarc!\n"),
    (link_entry("tree/link-to-hello", "hello.txt"), None),
    (dir_entry("tree/sub"), None),
    (file_entry("tree/sub/empty", b""), b""),
    (file_entry("tree/sub/\u00fcnic\u00f8d\u00e9-\u00df-\u65e5\u672c.txt", "gr\u00fc\u00df dich\n"
                .encode()), "gr\u00fc\u00df dich\n".encode()),
    (link_entry("tree/sub/up", "../hello.txt"), None),
]

STORE_DATA = bytes(range(256)) * 2
STORE_RANDOM = binary(1500)


def good_vectors() -> dict[str, bytes]:
    hello = write([(file_entry("hello.txt", b"Hello, pyarc!\n"), b"Hello, pyarc!\n")])
    return {
        "empty-archive": write([]),
        "empty-file": write([(file_entry("empty", b""), b"")]),
        "unnamed": compress(b"Hello, pyarc!\n", "store"),
        "unnamed-empty": compress(b"", "store"),
        "tree": write(TREE),
        "multi-block": write([(file_entry("three-blocks.txt", text(3000)), text(3000))]),
        "store-binary": write([
            (file_entry("all-bytes.bin", STORE_DATA), STORE_DATA),
            (file_entry("lcg.bin", STORE_RANDOM, mode=0o600), STORE_RANDOM),
        ]),
        # A later minor version of format 1 (here 1.7): a 1.x reader must accept it.
        "future-minor": bytes(Builder(minor=7).out) + hello[20:],
    }


# -- bad archives: the format's own construct definitions, validators off where needed ------------


@contextlib.contextmanager
def unchecked() -> Iterator[None]:
    """Build with every `construct` validator and Check switched off (ExprValidator builds
    through Validator._decode), so a field can hold a value that pyarc's writer refuses to write.
    Checksums are still computed by construct over the bytes actually built."""
    validate, check = c.Validator._decode, c.Check._build
    c.Validator._decode = lambda self, obj, context, path: obj  # type: ignore[method-assign]
    c.Check._build = lambda self, obj, stream, context, path: obj  # type: ignore[method-assign]
    try:
        yield
    finally:
        c.Validator._decode, c.Check._build = validate, check  # type: ignore[method-assign]


def frame_head(frame_type: bytes, fields: dict[str, Any]) -> bytes:
    """A frame header built by the format's own `FrameHead`, validators off."""
    with unchecked():
        return FrameHead.build(dict(header=dict(value=dict(type=frame_type, fields=fields))))


def block_fields(header: BlockHeader, options: list[tuple[str, str]] | None = None
                 ) -> dict[str, Any]:
    """The fields of a block frame; `options` (pairs, so a key may repeat) replaces the
    header's option dict."""
    pairs = list(header.options.items()) if options is None else options
    return dict(codec=header.codec, version=header.version,
                options=[dict(key=key, value=value) for key, value in pairs],
                raw_size=header.raw_size, stored_size=header.stored_size,
                raw_hash=header.raw_hash, stored_hash=header.stored_hash)


def index_fields(index: Index) -> dict[str, Any]:
    """The columns of an index frame (FORMAT.md section 8), so that a vector can make them
    disagree with each other, which `build_index_frame` cannot."""
    codecs: dict[tuple[str, int], int] = {}
    refs = [ref for refs in index.blocks for ref in refs]
    codec_refs = [codecs.setdefault((ref.codec, ref.version), len(codecs)) for ref in refs]
    paths = [os.fsencode(entry.path) for entry in index.entries]
    targets = [os.fsencode(entry.target) for entry in index.entries]
    return dict(
        codecs=[dict(name=name, version=version) for name, version in codecs],
        kinds=[int(entry.kind) for entry in index.entries],
        modes=[entry.mode for entry in index.entries],
        mtimes=[entry.mtime_ns for entry in index.entries],
        sizes=[entry.size for entry in index.entries],
        block_counts=[len(refs) for refs in index.blocks],
        path_lengths=[len(path) for path in paths],
        target_lengths=[len(target) for target in targets],
        paths=b"".join(paths),
        targets=b"".join(targets),
        offsets=[ref.offset for ref in refs],
        raw_sizes=[ref.raw_size for ref in refs],
        stored_sizes=[ref.stored_size for ref in refs],
        codec_refs=codec_refs,
    )


@dataclass
class Span:
    """Where one structure lies in an archive: [start, end); its XXH32 is at [check, check+4)."""

    kind: str
    start: int
    end: int
    check: int


@dataclass
class Builder:
    """A minimal archive writer over the real build functions, which records where every
    structure lies so that a vector can be patched afterwards. Anything can be overridden."""

    block_size: int = SMALL_BLOCK
    major: int = FORMAT_MAJOR
    minor: int = FORMAT_MINOR
    flags: int = 0
    out: bytearray = field(default_factory=bytearray)
    spans: list[Span] = field(default_factory=list)
    index: Index = field(default_factory=Index)

    def __post_init__(self) -> None:
        with unchecked():
            head = Header.build(dict(header=dict(value=dict(
                major=self.major, minor=self.minor, flags=self.flags,
                block_size=self.block_size))))
        self._emit("header", head, len(head) - 4)

    def _emit(self, kind: str, data: bytes, check: int) -> Span:
        span = Span(kind, len(self.out), len(self.out) + len(data), len(self.out) + check)
        self.out += data
        self.spans.append(span)
        return span

    def entry(self, entry: Entry, in_index: bool = True) -> Span:
        with unchecked():
            frame = build_entry_frame(entry)
        if in_index:
            self.index.entries.append(entry)
            self.index.blocks.append([])
        return self._emit("entry", frame, len(frame) - 4)

    def block(self, data: bytes, payload: bytes | None = None, in_index: bool = True,
              option_list: list[tuple[str, str]] | None = None, **overrides: object) -> Span:
        """A block of `data`; by default a valid `store` block. `overrides` replace fields of
        the block header (codec, version, options, raw_size, stored_size, raw_hash,
        stored_hash), `option_list` its options (a list, so that a key can repeat); the index
        records the header as written."""
        payload = data if payload is None else payload
        header = BlockHeader(codec="store", version=1, options={}, raw_size=len(data),
                             stored_size=len(payload), raw_hash=xxh3(data),
                             stored_hash=xxh3(payload))
        header = replace(header, **overrides)  # type: ignore[arg-type]
        head = frame_head(FRAME_BLOCK, block_fields(header, option_list))
        if option_list is None:
            with unchecked():
                assert head == build_block_head(header), "block_fields != build_block_head"
        if in_index:
            self.index.blocks[-1].append(BlockRef(len(self.out), header.raw_size,
                                                  header.stored_size, header.codec,
                                                  header.version))
        return self._emit("block", head + payload, len(head) - 4)

    def file(self, entry: Entry, data: bytes) -> None:
        self.entry(entry)
        for piece in chunks(data, self.block_size):
            self.block(piece)

    def finish(self, index: Index | None = None, index_offset: int | None = None,
               index_size: int | None = None, **columns: object) -> bytes:
        """The index (this builder's, or `index`) and the footer; `columns` replace columns
        of the index frame (block_counts=[2], say)."""
        offset = len(self.out)
        fields = index_fields(index or self.index)
        frame = frame_head(FRAME_INDEX, {**fields, **columns})
        if not columns:
            with unchecked():
                assert frame == build_index_frame(index or self.index), \
                    "index_fields != build_index_frame"
        self._emit("index", frame, len(frame) - 4)
        size = len(frame)
        with unchecked():
            footer = Footer.build(dict(header=dict(value=dict(
                index_offset=offset if index_offset is None else index_offset,
                index_size=size if index_size is None else index_size))))
        self._emit("footer", footer, len(footer) - 8)
        return bytes(self.out)

    def first(self, kind: str, number: int = 0) -> Span:
        return [span for span in self.spans if span.kind == kind][number]


def reseal(data: bytearray, span: Span) -> None:
    """Recompute the XXH32 of the structure at `span` over its (patched) bytes."""
    check = xxh32(bytes(data[span.start:span.check]))
    data[span.check:span.check + 4] = check.to_bytes(4, "little")


def patched(archive: bytes, span: Span, offset: int, new: bytes, seal: bool = True) -> bytes:
    """`archive` with `new` written at `offset` within the structure at `span`."""
    data = bytearray(archive)
    data[span.start + offset:span.start + offset + len(new)] = new
    if seal:
        reseal(data, span)
    return bytes(data)


def flip(archive: bytes, position: int) -> bytes:
    data = bytearray(archive)
    data[position] ^= 0x01
    return bytes(data)


HELLO = b"Hello, pyarc!\n"


def one_file(entry: Entry | None = None, data: bytes = HELLO, **block: Any) -> Builder:
    """A builder holding one file `hello.txt` (or `entry`) with one block (overridable)."""
    arc = Builder()
    arc.entry(entry or file_entry("hello.txt", data))
    arc.block(data, **block)
    return arc


def bad_vectors() -> dict[str, bytes]:
    vectors: dict[str, bytes] = {}

    def add(name: str, data: bytes) -> None:
        assert name not in vectors, name
        vectors[name] = data

    base = one_file()
    good = base.finish()
    assert good == write([(file_entry("hello.txt", HELLO), HELLO)]), "Builder != writer"
    header, entry, blk = base.first("header"), base.first("entry"), base.first("block")
    index, footer = base.first("index"), base.first("footer")
    # Header: magic 0..8, major 8, minor 9, flags 10..12, block_size 12..16, XXH32 16..20.
    add("header-bad-magic", patched(good, header, 0, b"\x89PYARX"))
    add("header-major-2", bytes(Builder(major=2).out) + good[20:])
    add("header-major-0", bytes(Builder(major=0).out) + good[20:])
    add("header-checksum", flip(good, header.check))
    add("header-flags", bytes(Builder(flags=1).out) + good[20:])
    add("header-block-size-0", bytes(Builder(block_size=0).out) + good[20:])

    # Truncations (the footer, and so the index reader's view, is gone in all but the first).
    add("truncated-header", good[:10])
    add("truncated-entry", good[:entry.start + 10])
    add("truncated-payload", good[:blk.end - 5])
    add("truncated-index", good[:index.start + 12])
    add("truncated-footer", good[:footer.end - 4])

    # Frames.
    add("entry-checksum", flip(good, entry.check))
    add("frame-type", patched(good, entry, 0, b"X"))
    add("payload-flipped", flip(good, blk.end - 3))
    add("raw-hash", one_file(raw_hash=xxh3(HELLO) ^ 1).finish())
    add("stored-larger-than-raw", one_file(payload=HELLO + b"!", stored_hash=xxh3(HELLO + b"!"))
        .finish())
    arc = Builder()
    arc.entry(file_entry("zero", b"x"))
    arc.block(b"", raw_size=0, stored_size=0)
    add("raw-size-0", arc.finish())
    huge = 1 << 31
    arc = Builder()
    arc.entry(Entry("huge", Kind.FILE, FILE_MODE, MTIME, huge))
    arc.block(HELLO, raw_size=huge)
    add("raw-size-huge", arc.finish())
    add("codec-unknown", one_file(codec="nosuchcodec").finish())
    add("codec-version", one_file(version=2).finish())
    add("codec-option-unknown", one_file(options={"level": "9"}).finish())
    add("option-duplicate", one_file(option_list=[("level", "9"), ("level", "9")]).finish())

    # Entries.
    add("path-absolute", one_file(file_entry("/etc/passwd", HELLO)).finish())
    add("path-dotdot", one_file(file_entry("../escape.txt", HELLO)).finish())
    arc = one_file()
    arc.entry(file_entry("hello.txt", HELLO))
    arc.block(HELLO)
    add("duplicate-entry", arc.finish())
    arc = Builder()
    arc.entry(Entry("", Kind.FILE, FILE_MODE, MTIME, len(HELLO)))
    arc.block(HELLO)
    arc.entry(file_entry("second.txt", HELLO))
    arc.block(HELLO)
    add("unnamed-not-alone", arc.finish())
    arc = Builder()
    arc.entry(file_entry("short.txt", HELLO + b"more"))
    arc.block(HELLO)
    add("entry-size-mismatch", arc.finish())
    # The bug of the first entry rules: a NUL in the target made a file's target acceptable.
    add("entry-target-on-file", one_file(replace(file_entry("hello.txt", HELLO),
                                                 target="x\0")).finish())

    # Index and footer.
    arc = one_file()
    listed = Index([file_entry("hello.txt", HELLO[:-1])],
                   [[replace(arc.index.blocks[0][0], raw_size=len(HELLO) - 1,
                             stored_size=len(HELLO) - 1)]])
    add("index-mismatch", arc.finish(listed))
    arc = one_file()
    listed = Index([replace(arc.index.entries[0], mtime_ns=MTIME + 1)], arc.index.blocks)
    add("index-mtime-mismatch", arc.finish(listed))
    arc = Builder()
    arc.file(file_entry("a.txt", HELLO), HELLO)
    arc.file(file_entry("b.txt", HELLO), HELLO)
    first_block = arc.index.blocks[0][0]
    listed = Index(arc.index.entries,
                   [arc.index.blocks[0], [replace(arc.index.blocks[1][0],
                                                  offset=first_block.offset + 10)]])
    add("index-overlap", arc.finish(listed))
    # The columns disagree: the entry claims 2 blocks, the block columns hold 1.
    add("index-block-count-sum", one_file().finish(block_counts=[2]))
    # The path_lengths column claims 4000 bytes of paths (within MAX_PATH), more than the whole
    # rest of the archive: refused before the paths are read. Patched into the good archive:
    # type 1, codec_count 2, codec table 3 + 5, entry_count 4, block_count 4, then kinds 1,
    # modes 2, mtimes 8, sizes 8, block_counts 4 for its one entry: path_lengths at 42.
    add("index-path-lengths", patched(good, index, 1 + 2 + 8 + 4 + 4 + 1 + 2 + 8 + 8 + 4,
                                      (4000).to_bytes(2, "little")))
    add("footer-past-end", one_file().finish(index_offset=len(good) + 1000))
    add("trailing-garbage", good + b"garbage\n")

    # Valid for the format layer; refused at extraction.
    add("symlink-escape", write([(link_entry("evil", "../../outside"), None)]))
    add("symlink-then-file", write([
        (dir_entry("sub"), None),
        (link_entry("link", "sub"), None),
        (file_entry("link/x", HELLO), HELLO),
    ]))
    return vectors


def example_archive() -> bytes:
    """The archive dumped in spec/FORMAT.md, section "Example": one 3-byte file, `store`,
    the default block size."""
    out = io.BytesIO()
    write_archive(out, [(file_entry("hi.txt", b"hi\n"), [b"hi\n"])], make_encoder("store"),
                  DEFAULT_BLOCK_SIZE)
    return out.getvalue()


# -- main ---------------------------------------------------------------------------------------


def all_vectors() -> dict[str, bytes]:
    files = {f"good/{name}.pyarc": data for name, data in good_vectors().items()}
    files.update({f"bad/{name}.pyarc": data for name, data in bad_vectors().items()})
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare the vectors on disk instead of writing them")
    parser.add_argument("--dir", type=Path, default=VECTORS, help="default: spec/vectors")
    args = parser.parse_args(argv)
    files = all_vectors()
    problems = []
    on_disk = {str(p.relative_to(args.dir)) for p in args.dir.glob("*/*.pyarc")}
    for name, data in files.items():
        path = args.dir / name
        if args.check:
            if not path.exists():
                problems.append(f"missing: {name}")
            elif path.read_bytes() != data:
                problems.append(f"differs: {name}")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    for name in sorted(on_disk - set(files)):
        problems.append(f"not made by this script: {name}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if not args.check:
        print(f"wrote {len(files)} vectors to {args.dir}")
    return 1 if problems and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
