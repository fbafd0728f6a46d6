#!/usr/bin/env python3
"""Generate the test archives of format 2.0 in spec/vectors/2.0/ (good/ and bad/),
deterministically.

    python spec/make_vectors.py           # (re)write every vector
    python spec/make_vectors.py --check   # compare instead of writing; exit 1 if any differs

The good vectors are written by pyarc's real writer (`archiver.writer.write_archive`,
`archiver.api.compress`). The bad ones are *assembled* here from a list of frames (a table, a
block, ...) by `assemble`, which computes every offset, size, hash and checksum and builds the
index from what it placed, so that each bad vector breaks exactly ONE rule: the frame or field
under test is given a wrong value and every checksum is valid unless the checksum is what is
under test. Bodies are built with the real `construct` definitions of archiver.format2. This
script is test tooling: it may build bytes that pyarc's writer never would; pyarc's reader
never builds or parses bytes by hand.

Everything is fixed: mtimes, modes, owners, data (no randomness), and only the `store` codec is
used for blocks, tables and the index, so the vectors do not change when other codecs change
their payload formats. spec/vectors/2.0/README.md describes every vector and what a reader
must do with it; tests/test_vectors.py reads that table. The vectors of format 1.0
(spec/vectors/1.0/) are frozen: this script no longer makes them.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from archiver.api import make_encoder
from archiver.format import BlockHeader as Coded
from archiver.format import (
    BlockRef,
    Entry,
    Header,
    Kind,
    build_footer,
    build_header,
    xxh3,
    xxh32,
)
from archiver.format2 import (
    FRAME_BLOCK,
    FRAME_INDEX,
    FRAME_TABLE,
    IndexRecords,
    Records,
    Segment,
    build_frame_head,
    build_index_body,
    build_table_body,
)
from archiver.writer import Source, write_archive

HERE = Path(__file__).resolve().parent
VECTORS = HERE / "vectors" / "2.0"

MTIME = 1_700_000_000_123_456_789  # 2023-11-14T22:13:20.123456789Z, in ns
FILE_MODE, DIR_MODE, LINK_MODE = 0o644, 0o755, 0o777
SMALL_BLOCK = 1024  # MIN_BLOCK_SIZE: the smallest block size a writer may choose
OWNER = dict(uid=1000, gid=1000, user="alice", group="staff")


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


def file_entry(path: str, data: bytes, mode: int = FILE_MODE, **fields: object) -> Entry:
    return Entry(path, Kind.FILE, mode, MTIME, len(data), **fields)  # type: ignore[arg-type]


def dir_entry(path: str, **fields: object) -> Entry:
    return Entry(path, Kind.DIRECTORY, DIR_MODE, MTIME, **fields)  # type: ignore[arg-type]


def link_entry(path: str, target: str) -> Entry:
    return Entry(path, Kind.SYMLINK, LINK_MODE, MTIME, target=target)


# -- good archives: the real writer ------------------------------------------------------------


def chunks(data: bytes, block_size: int) -> list[bytes]:
    return [data[i:i + block_size] for i in range(0, len(data), block_size)]


def write(items: Iterable[tuple[Entry, bytes | str | None]], block_size: int = SMALL_BLOCK,
          solid: bool = True) -> bytes:
    """An archive by pyarc's own writer, `store` everywhere. `items` are (entry, data) in the
    order of their data: data None for an entry without, a path for a copy of that file."""
    out = io.BytesIO()
    orders = {entry.path: order for order, (entry, _) in enumerate(items)}
    sources = [Source(order, entry, same_as=orders[data]) if isinstance(data, str) else
               Source(order, entry, chunks(data, block_size) if data is not None else None)
               for order, (entry, data) in enumerate(items)]
    store = make_encoder("store")
    write_archive(out, sources, store, block_size, solid=solid, metadata=store)
    return out.getvalue()


HELLO = b"Hello, pyarc!\n"
UNICODE_NAME = "tree/sub/\u00fcnic\u00f8d\u00e9-\u00df-\u65e5\u672c.txt"
GRUSS = "gr\u00fc\u00df dich\n".encode()

#: The tree vector: every kind of entry, owners, an attribute, a shared range (the copy).
TREE: list[tuple[Entry, bytes | str | None]] = [
    (dir_entry("tree", **OWNER), None),
    (file_entry("tree/hello.txt", HELLO, xattrs=(("user.note", b"first"),), **OWNER), HELLO),
    (file_entry("tree/hello-copy.txt", HELLO), "tree/hello.txt"),
    (Entry("tree/hard", Kind.HARDLINK, FILE_MODE, MTIME, target="tree/hello.txt"), None),
    (link_entry("tree/link-to-hello", "hello.txt"), None),
    (Entry("tree/pipe", Kind.FIFO, 0o600, MTIME), None),
    (dir_entry("tree/sub"), None),
    (file_entry("tree/sub/empty", b""), b""),
    (file_entry(UNICODE_NAME, GRUSS), GRUSS),
    (link_entry("tree/sub/up", "../hello.txt"), None),
]

#: Several files in solid blocks of 1 KiB: one spans three blocks, and two share a block.
SOLID = [
    (file_entry("a.txt", text(700)), text(700)),
    (file_entry("b.bin", binary(2500)), binary(2500)),
    (file_entry("c.txt", text(300, seed=9)), text(300, seed=9)),
]

#: A copy of a file that spans blocks: the writer meets it after the original's last block, so
#: a later table than the original's lists it.
COPY_AFTER_BLOCKS = [
    (file_entry("big.bin", binary(2500)), binary(2500)),
    (file_entry("big-copy.bin", binary(2500)), "big.bin"),
]

SPARSE_DATA = b"sparse start" + b"sparse end"
SPARSE = [(file_entry("disk.img", bytes(10_000), extents=((0, 12), (9990, 10))),
           SPARSE_DATA)]


def good_vectors() -> dict[str, bytes]:
    hello = write([(file_entry("hello.txt", HELLO), HELLO)])
    future = bytearray(hello)
    future[9] = 7  # minor version 7: a 2.x reader accepts any minor version
    future[16:20] = xxh32(bytes(future[:16])).to_bytes(4, "little")
    return {
        "copy-after-blocks": write(COPY_AFTER_BLOCKS),
        "empty-archive": write([]),
        "empty-file": write([(file_entry("empty", b""), b"")]),
        "hello": hello,
        "unnamed": write([(Entry("", Kind.FILE, FILE_MODE, 0, len(HELLO)), HELLO)]),
        "unnamed-empty": write([(Entry("", Kind.FILE, FILE_MODE, 0, 0), b"")]),
        "tree": write(TREE),
        "solid": write(SOLID),
        "unsolid": write(SOLID, solid=False),
        "sparse": write(SPARSE),
        "future-minor": bytes(future),
    }


# -- bad archives: assembled frame by frame ------------------------------------------------------


def stored(payload: bytes) -> Coded:
    """The header of a payload kept as it is (`store`)."""
    return Coded("store", 1, {}, len(payload), len(payload), xxh3(payload), xxh3(payload))


@dataclass
class Frame:
    """One frame to assemble: a table (its records), a block (its data) or anything else
    given as raw bytes. `coded` overrides the coded header (a wrong hash, say), `data_offset`
    what a block frame says (None: where it lies), `payload` the stored payload."""

    type: bytes
    records: Records | None = None
    data: bytes = b""
    coded: Coded | None = None
    data_offset: int | None = None
    payload: bytes | None = None
    raw: bytes | None = None  # bytes placed as they are


def assemble(frames: list[Frame], entries: list[tuple[Entry, int]], *,
             header: bytes | None = None, index_body: Callable[[bytes], bytes] = lambda b: b,
             index: Callable[[IndexRecords], None] = lambda index: None,
             tail: bytes = b"", block_size: int = SMALL_BLOCK) -> bytes:
    """An archive of `frames`, with an index of `entries` ((entry, data_offset), archive order)
    and of the blocks and segments placed. `index` may change the index records before they
    are built, `index_body` the built body; `tail` is appended after the footer."""
    out = bytearray(header if header is not None else build_header(block_size))
    records = IndexRecords([entry for entry, _ in entries], [start for _, start in entries])
    data_position = 0
    for frame in frames:
        if frame.raw is not None:
            out += frame.raw
            continue
        body = build_table_body(frame.records) if frame.records is not None else frame.data
        coded = frame.coded or stored(body)
        payload = body if frame.payload is None else frame.payload
        if frame.type == FRAME_TABLE:
            records.segments.append(Segment(len(out), 0))
            out += build_frame_head(FRAME_TABLE, coded) + payload
            continue
        said = data_position if frame.data_offset is None else frame.data_offset
        if records.segments:
            last = records.segments[-1]
            records.segments[-1] = Segment(last.offset, last.blocks + 1)
        records.blocks.append(BlockRef.at(len(out), coded, data_position, "data"))
        out += build_frame_head(FRAME_BLOCK, coded, said) + payload
        data_position += coded.raw_size
    index(records)
    body = index_body(build_index_body(records))
    index_offset = len(out)
    out += build_frame_head(FRAME_INDEX, stored(body)) + body
    out += build_footer(index_offset, len(out) - index_offset)
    return bytes(out + tail)


HELLO_ENTRY = file_entry("hello.txt", HELLO)


def hello_frames(**block: object) -> list[Frame]:
    """The frames of the one-file archive: a table of hello.txt and its block."""
    return [Frame(FRAME_TABLE, records=Records([HELLO_ENTRY], [0])),
            Frame(FRAME_BLOCK, data=HELLO, **block)]  # type: ignore[arg-type]


def hello(**changes: object) -> bytes:
    """The one-file archive, assembled, with `changes` passed to assemble."""
    return assemble(hello_frames(), [(HELLO_ENTRY, 0)], **changes)  # type: ignore[arg-type]


def with_header(**fields: int) -> bytes:
    """A header with other field values, its checksum valid (built with the header's own
    fields, without the rules a writer must obey)."""
    value = {**dict(major=2, minor=0, flags=0, block_size=SMALL_BLOCK), **fields}
    data = Header.subcons[0].subcon.subcon.build(value)  # the fields inside RawCopy
    return data + xxh32(data).to_bytes(4, "little")


def flipped(blob: bytes, offset: int, mask: int = 0x01) -> bytes:
    mutant = bytearray(blob)
    mutant[offset] ^= mask
    return bytes(mutant)


def both(entry: Entry, start: int = 0) -> tuple[list[Frame], list[tuple[Entry, int]]]:
    """A one-file archive whose table and index both hold `entry` (a defect in both)."""
    return ([Frame(FRAME_TABLE, records=Records([entry], [start])),
             Frame(FRAME_BLOCK, data=HELLO)], [(entry, start)])


def bad_vectors() -> dict[str, bytes]:
    good = hello()
    body_start = len(build_header(SMALL_BLOCK))  # where the table frame begins
    table_body = build_table_body(Records([HELLO_ENTRY], [0]))
    table_head = len(build_frame_head(FRAME_TABLE, stored(table_body)))
    block_start = body_start + table_head + len(table_body)
    index_start = block_start + len(build_frame_head(FRAME_BLOCK, stored(HELLO))) + len(HELLO)
    index_body = build_index_body(IndexRecords([HELLO_ENTRY], [0]))
    index_head = len(build_frame_head(FRAME_INDEX, stored(index_body)))
    two = [Frame(FRAME_TABLE, records=Records([HELLO_ENTRY, file_entry("b", HELLO)], [0, 14])),
           Frame(FRAME_BLOCK, data=HELLO + HELLO)]
    return {
        # the header
        "header-bad-magic": flipped(good, 5, 0x0A),  # "\x89PYARC" -> "\x89PYAXC"
        "header-major-4": hello(header=with_header(major=4)),
        "header-major-0": hello(header=with_header(major=0)),
        "header-checksum": flipped(good, 16),
        "header-flags": hello(header=with_header(flags=1)),
        "header-block-size-0": hello(header=with_header(block_size=0)),
        # truncation and trailing data
        "truncated-in-table": good[:body_start + 10],
        "truncated-in-block": good[:block_start + 30],
        "truncated-in-index": good[:index_start + index_head + 5],
        "truncated-footer": good[:-1],
        "trailing-data": good + b"\0",
        # frames
        "frame-type-entry": _with_type(good, body_start, b"E"),  # format 1.0's entry frame
        "block-before-table": assemble([Frame(FRAME_BLOCK, data=HELLO)], [(HELLO_ENTRY, 0)]),
        "table-checksum": flipped(good, body_start + table_head - 1),
        "table-payload-hash": flipped(good, body_start + table_head + 2),
        "table-disagrees": assemble(
            [Frame(FRAME_TABLE, records=Records([replace(HELLO_ENTRY, mode=0o600)], [0])),
             Frame(FRAME_BLOCK, data=HELLO)], [(HELLO_ENTRY, 0)]),
        "table-misses-a-file": assemble(
            [Frame(FRAME_TABLE, records=Records([HELLO_ENTRY], [0])),
             Frame(FRAME_BLOCK, data=HELLO + HELLO)],
            [(HELLO_ENTRY, 0), (file_entry("b", HELLO), 14)]),
        "block-data-offset": assemble(hello_frames(data_offset=5), [(HELLO_ENTRY, 0)]),
        "block-payload-hash": assemble(hello_frames(payload=b"Hello, pyarc?\n"),
                                       [(HELLO_ENTRY, 0)]),
        "block-data-hash": assemble(hello_frames(
            coded=replace(stored(HELLO), raw_hash=xxh3(b"something else"))), [(HELLO_ENTRY, 0)]),
        "codec-unknown": assemble(hello_frames(coded=replace(stored(HELLO), codec="nope")),
                                  [(HELLO_ENTRY, 0)]),
        "codec-version": assemble(hello_frames(coded=replace(stored(HELLO), version=9)),
                                  [(HELLO_ENTRY, 0)]),
        "codec-option-unknown": assemble(
            hello_frames(coded=replace(stored(HELLO), options={"level": "3"})),
            [(HELLO_ENTRY, 0)]),
        # the index
        "index-checksum": flipped(good, index_start + index_head - 1),
        "index-payload-hash": flipped(good, len(good) - 24 - 1),
        "index-trailing-bytes": hello(index_body=lambda body: body + b"\0"),
        "index-path-absolute": assemble(*both(replace(HELLO_ENTRY, path="/etc/passwd"))),
        "index-path-dotdot": assemble(*both(replace(HELLO_ENTRY, path="../hello.txt"))),
        "index-duplicate-entry": assemble(two, [(HELLO_ENTRY, 0), (HELLO_ENTRY, 14)]),
        "index-overlap": assemble(
            [Frame(FRAME_TABLE, records=Records([HELLO_ENTRY, file_entry("b", HELLO)], [0, 7])),
             Frame(FRAME_BLOCK, data=HELLO + HELLO)],
            [(HELLO_ENTRY, 0), (file_entry("b", HELLO), 7)]),
        "index-gap": assemble([Frame(FRAME_TABLE, records=Records([HELLO_ENTRY], [0])),
                               Frame(FRAME_BLOCK, data=HELLO + b"hidden")], [(HELLO_ENTRY, 0)]),
        "index-past-the-data": assemble(*both(replace(HELLO_ENTRY, size=20))),
        "index-hard-link-to-nothing": assemble(hello_frames(), [
            (HELLO_ENTRY, 0),
            (Entry("link", Kind.HARDLINK, FILE_MODE, MTIME, target="nowhere"), 0)]),
        "index-segments": hello(index=lambda records: records.segments.append(
            Segment(records.segments[0].offset, 1))),
        "index-extents": assemble(*both(replace(HELLO_ENTRY, size=30,
                                                extents=((10, 14), (5, 1))))),
        "symlink-escaping": assemble(hello_frames(), [
            (HELLO_ENTRY, 0), (link_entry("up", "../../outside"), 0)]),
    }


def _with_type(blob: bytes, at: int, frame_type: bytes) -> bytes:
    """`blob` with the frame at `at` of another type (its checksum recomputed: the type byte
    is what is wrong, not the checksum)."""
    mutant = bytearray(blob)
    mutant[at:at + 1] = frame_type
    head = len(build_frame_head(FRAME_TABLE, stored(build_table_body(
        Records([HELLO_ENTRY], [0])))))
    mutant[at + head - 4:at + head] = xxh32(bytes(mutant[at:at + head - 4])).to_bytes(4, "little")
    return bytes(mutant)


def example_archive() -> bytes:
    """The archive dumped in spec/FORMAT.md, section "Example": one 3-byte file, `store`,
    blocks of 1 KiB."""
    return write([(Entry("hi.txt", Kind.FILE, 0o644, MTIME, 3), b"hi\n")])


def _coded_fields(blob: bytes, at: int, name: str, block: bool) -> list[tuple[int, str]]:
    """(size, label) of a coded frame's header fields at `at` (codec `store`, no options)."""
    fields = [(1, f'type "{chr(blob[at])}"')]
    if block:
        offset = int.from_bytes(blob[at + 1:at + 9], "little")
        fields.append((8, f"data_offset = {offset}"))
    start = at + sum(size for size, _ in fields)
    raw = int.from_bytes(blob[start + 9:start + 13], "little")
    stored_size = int.from_bytes(blob[start + 13:start + 17], "little")
    fields += [(1, "codec name length = 5"), (5, 'codec "store"'), (2, "codec version = 1"),
               (1, "option count = 0"), (4, f"raw_size = {raw}"),
               (4, f"stored_size = {stored_size}"), (8, f"raw_hash = XXH3-64 of the {name}"),
               (8, "stored_hash = XXH3-64 of the payload")]
    checked = sum(size for size, _ in fields)
    return [*fields, (4, f"XXH32 of bytes {at:#06x}..{at + checked - 1:#06x}")]


def _entry_columns(blob: bytes, at: int, count: int) -> list[tuple[int, str]]:
    """(size, label) of a body's entry columns for `count` entries, which here have a path,
    no target, no extents and no attributes."""
    names = ["kinds", "modes", "mtime_deltas", "sizes", "data_offsets", "uids", "gids",
             "user_refs", "group_refs", "path_prefixes", "path_suffix_lengths",
             "target_lengths", "extent_counts", "xattr_counts"]
    widths = [1, 2, 8, 8, 8, 4, 4, 4, 4, 2, 2, 2, 4, 2]
    fields = [(4, f"entry_count = {count}")]
    position = at + 4
    suffix = 0
    for name, width in zip(names, widths, strict=True):
        value = int.from_bytes(blob[position:position + width], "little")
        shown = {"kinds": f"{value} (file)", "modes": f"{value:#o}",
                 "uids": "NONE32" if value == 0xFFFFFFFF else str(value),
                 "gids": "NONE32" if value == 0xFFFFFFFF else str(value),
                 "user_refs": "NONE32" if value == 0xFFFFFFFF else str(value),
                 "group_refs": "NONE32" if value == 0xFFFFFFFF else str(value)}.get(name, value)
        fields.append((width, f"{name}[0] = {shown}"))
        if name == "path_suffix_lengths":
            suffix = value
        position += width
    fields.append((suffix, f'path_suffixes "{blob[position:position + suffix].decode()}"'))
    return fields


def example_dump() -> str:
    """FORMAT.md's annotated dump of example_archive(), field by field."""
    blob = example_archive()
    parts: list[tuple[str, list[tuple[int, str]]]] = [("Header", [
        (8, 'magic "\\x89PYARC\\r\\n"'), (1, "major = 2"), (1, "minor = 0"),
        (2, "flags = 0"), (4, "block_size = 1024"), (4, "XXH32 of bytes 0x00..0x0f")])]
    at = 20
    table = _coded_fields(blob, at, "body", block=False)
    table_body = [(4, "name_count = 0"), *_entry_columns(blob, at + 38 + 4, 1)]
    parts += [("Table frame", table), ("  table body", table_body)]
    at += 38 + sum(size for size, _ in table_body)
    block = _coded_fields(blob, at, "data", block=True)
    parts += [("Block frame", block), ("  payload", [(3, 'data "hi\\n"')])]
    at += 46 + 3
    index = _coded_fields(blob, at, "body", block=False)
    start = at + 38
    body = [(2, "codec_count = 1"), (1, "codec 0: name length = 5"), (5, 'name "store"'),
            (2, "version = 1"), (2, "group_count = 1"), (1, "group 0: length = 4"),
            (4, 'group "data"'), (4, "name_count = 0")]
    entries_at = start + sum(size for size, _ in body)
    body += _entry_columns(blob, entries_at, 1)
    after = entries_at + sum(size for size, _ in body[8:])
    block_offset = int.from_bytes(blob[after + 4:after + 12], "little")
    segment_offset = int.from_bytes(blob[after + 28:after + 36], "little")
    body += [(4, "block_count = 1"), (8, f"block_offsets[0] = {block_offset:#x}"),
             (4, "block_raw_sizes[0] = 3"), (4, "block_stored_sizes[0] = 3"),
             (2, 'block_codecs[0] = 0 ("store" v1)'), (2, 'block_groups[0] = 0 ("data")'),
             (4, "segment_count = 1"), (8, f"segment_offsets[0] = {segment_offset:#x}"),
             (4, "segment_blocks[0] = 1")]
    parts += [("Index frame", index), ("  index body", body)]
    footer_at = len(blob) - 24
    parts.append(("Footer", [(8, f"index_offset = {at:#x}"),
                             (8, f"index_size = {footer_at - at}"),
                             (4, f"XXH32 of bytes {footer_at:#06x}..{footer_at + 15:#06x}"),
                             (4, 'end magic "PYA\\x1a"')]))
    lines = ["```", "offset bytes                     structure    field"]
    position = 0
    for structure, fields in parts:
        label = structure
        for size, field in fields:
            piece = blob[position:position + size]
            for start in range(0, max(size, 1), 8):
                chunk = piece[start:start + 8]
                text = " ".join(f"{byte:02x}" for byte in chunk)
                lines.append(f"{position + start:04x}  {text:<24} {label:<12} "
                             f"{field if start == 0 else ''}".rstrip())
                label = ""
            position += size
        lines.append("")
    assert position == len(blob), (position, len(blob))
    return "\n".join(lines[:-1] + ["```"])


def write_example_dump(check: bool) -> list[str]:
    """Put (or, with `check`, compare) the dump in FORMAT.md."""
    path = HERE / "FORMAT.md"
    text = path.read_text(encoding="utf-8")
    begin, end = "<!-- example-dump: begin -->\n", "<!-- example-dump: end -->"
    head, rest = text.split(begin)
    _, tail = rest.split(end)
    wanted = head + begin + example_dump() + "\n" + end + tail
    if check:
        return [] if wanted == text else [f"{path}: the example dump is not the generator's"]
    path.write_text(wanted, encoding="utf-8")
    return []


# -- main ---------------------------------------------------------------------------------------


def all_vectors() -> dict[str, bytes]:
    files = {f"good/{name}.pyarc": data for name, data in good_vectors().items()}
    files.update({f"bad/{name}.pyarc": data for name, data in bad_vectors().items()})
    return files


def sync(files: dict[str, bytes], folder: Path, check: bool) -> list[str]:
    """Write `files` under `folder` (with `check`, compare them instead); the problems found,
    a file on disk that the generator does not make among them."""
    problems = []
    for name, data in sorted(files.items()):
        path = folder / name
        if check:
            if not path.exists() or path.read_bytes() != data:
                problems.append(f"{path} differs from what the generator makes")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    on_disk = {str(p.relative_to(folder)) for p in folder.glob("*/*.pyarc")}
    return problems + [f"{folder / name} is not made by the generator"
                       for name in sorted(on_disk - set(files))]


def report(problems: list[str], check: bool, count: int, folder: Path) -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    if not check:
        print(f"wrote {count} vectors to {folder}")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare the vectors on disk instead of writing them")
    parser.add_argument("--dir", type=Path, default=VECTORS, help="default: spec/vectors/2.0")
    args = parser.parse_args(argv)
    files = all_vectors()
    problems = sync(files, args.dir, args.check) + write_example_dump(args.check)
    return report(problems, args.check, len(files), args.dir)


if __name__ == "__main__":
    sys.exit(main())
