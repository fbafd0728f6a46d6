"""The pyarc container format 1.0 (pyarc 0.1.0), as `construct` definitions: frozen.

spec/FORMAT-1.0.md is its normative description. pyarc no longer writes this format, but reads
it forever: every archive a released pyarc wrote stays readable. What both formats share (the
header, the footer, the option and codec fields, the entry rules, the error messages) is in
archiver/format.py.

Layout of an archive:

    Header  (Entry Block*)*  Index  Footer
"""

from __future__ import annotations

import operator
import os
from array import array
from dataclasses import dataclass, field
from itertools import accumulate, compress, pairwise
from typing import Any

import construct as c
from construct import this

from archiver.errors import FormatError
from archiver.format import (
    BAD_COMPONENTS,
    HEADER_SIZE,
    MAX_BLOCK_SIZE,
    MAX_BLOCKS,
    MAX_COMPONENT,
    MAX_ENTRIES,
    MAX_PATH,
    BlockHeader,
    BlockRef,
    CodecRef,
    Column,
    Entry,
    Kind,
    RuleBroken,
    Valid,
    checked,
    coded_fields,
    entry_problem,
    fits,
    frame_name,
    header_of,
    length_prefixed,
    parse_frame_at,
    read_payload,
    split_joined,
)

#: The kinds format 1.0 knows, by their numbers.
KINDS = (Kind.FILE, Kind.DIRECTORY, Kind.SYMLINK)

# Bytes per entry and per block in the index's fixed-width columns, used to check the counts
# against the bytes that remain before any column is read.
INDEX_ENTRY_WIDTH = 1 + 2 + 8 + 8 + 4 + 2 + 2
INDEX_BLOCK_WIDTH = 8 + 4 + 4 + 2
# The smallest block frame before its payload (a one-letter codec name, no options).
MIN_BLOCK_HEADER = 1 + 1 + 1 + 2 + 1 + 4 + 4 + 8 + 8 + 4
# An entry frame without its path and target.
ENTRY_FRAME_FIXED = 1 + 1 + 2 + 8 + 8 + 2 + 2 + 4


def entry_problem_v1(kind: int, mode: int, size: int, path: bytes, target: bytes) -> str | None:
    """The entry rules of format 1.0: those of format.entry_problem over its three kinds."""
    return entry_problem(kind, mode, size, path, target, kinds=KINDS)


def _entry_rules(fields: Any, _: Any) -> bool:
    problem = entry_problem_v1(fields["kind"], fields["mode"], fields["size"], fields["path"],
                            fields["target"])
    if problem:
        raise RuleBroken(problem)
    return True



# -- entries ---------------------------------------------------------------------------------

_EntryFields = Valid(
    c.Struct(
        "kind" / c.Int8ul,
        "mode" / c.Int16ul,
        "mtime_ns" / c.Int64sl,
        "size" / c.Int64ul,
        "path" / length_prefixed(c.Int16ul, range(0, MAX_PATH + 1), "path"),
        "target" / length_prefixed(c.Int16ul, range(0, MAX_PATH + 1), "target"),
    ),
    _entry_rules,
)

# -- blocks ----------------------------------------------------------------------------------

_BlockFields = coded_fields(MAX_BLOCK_SIZE)


# -- index -----------------------------------------------------------------------------------


def _lengths_fit(lengths: array, ctx: Any, field_name: str, before: int = 0) -> bool:
    return max(lengths, default=0) <= MAX_PATH and fits(ctx, field_name, before + sum(lengths))


_IndexFields = c.Struct(
    "codec_count" / c.Rebuild(c.Int16ul, c.len_(this.codecs)),
    "codecs" / c.Array(this.codec_count, CodecRef),
    "entry_count" / c.Rebuild(
        Valid(c.Int32ul, lambda n, ctx: n <= MAX_ENTRIES),
        c.len_(this.kinds),
    ),
    "block_count" / c.Rebuild(
        # Both counts known: the columns they declare must fit in what remains.
        Valid(c.Int32ul, lambda n, ctx: n <= MAX_BLOCKS and fits(
            ctx, "the entry and block columns",
            ctx.entry_count * INDEX_ENTRY_WIDTH + n * INDEX_BLOCK_WIDTH)),
        c.len_(this.offsets),
    ),
    # One column per entry field ...
    "kinds" / Column("B", this.entry_count),
    "modes" / Column("H", this.entry_count),
    "mtimes" / Column("q", this.entry_count),
    "sizes" / Column("Q", this.entry_count),
    "block_counts" / Column("I", this.entry_count),
    "path_lengths" / Valid(
        Column("H", this.entry_count), lambda lengths, ctx: _lengths_fit(lengths, ctx, "paths")
    ),
    "target_lengths" / Valid(
        Column("H", this.entry_count),
        lambda lengths, ctx: _lengths_fit(lengths, ctx, "paths and targets",
                                          before=sum(ctx.path_lengths)),
    ),
    "paths" / c.Bytes(lambda ctx: sum(ctx.path_lengths)),
    "targets" / c.Bytes(lambda ctx: sum(ctx.target_lengths)),
    # ... and one per block field, blocks in the order of their entries.
    "offsets" / Column("Q", this.block_count),
    "raw_sizes" / Column("I", this.block_count),
    "stored_sizes" / Column("I", this.block_count),
    "codec_refs" / Column("H", this.block_count),
)

# -- frames ----------------------------------------------------------------------------------

FRAME_ENTRY, FRAME_BLOCK, FRAME_INDEX = b"E", b"B", b"I"

_FrameFields = c.Struct(
    "type" / Valid(
        c.Bytes(1), lambda v, _: v in (FRAME_ENTRY, FRAME_BLOCK, FRAME_INDEX)
    ),
    "fields" / c.Switch(
        this.type,
        {FRAME_ENTRY: _EntryFields, FRAME_BLOCK: _BlockFields, FRAME_INDEX: _IndexFields},
    ),
)

#: A frame without its payload; a block's payload follows it directly, read only after the
#: header checksum has passed (stored_size is validated above): format.read_payload.
FrameHead = checked(_FrameFields)


# -- the values of format 1.0 --------------------------------------------------------------------


@dataclass
class Index:
    """The archive's table of contents: every entry with the blocks that hold its data."""

    entries: list[Entry] = field(default_factory=list)
    blocks: list[list[BlockRef]] = field(default_factory=list)  # parallel to entries


@dataclass(frozen=True)
class ParsedFrame:
    """A parsed frame: exactly one of entry, block (with payload) or index is set."""

    offset: int
    entry: Entry | None = None
    block: BlockHeader | None = None
    payload: bytes = b""
    index: Index | None = None



def entry_from_fields(fields: Any) -> Entry:
    return Entry(path=os.fsdecode(fields.path), kind=KINDS[fields.kind], mode=fields.mode,
                 mtime_ns=fields.mtime_ns, size=fields.size, target=os.fsdecode(fields.target))


def entry_to_fields(entry: Entry) -> dict[str, Any]:
    return dict(kind=int(entry.kind), mode=entry.mode, mtime_ns=entry.mtime_ns, size=entry.size,
                path=os.fsencode(entry.path), target=os.fsencode(entry.target))


# -- building (pyarc writes format 2; these build what a reader of format 1.0 checks against) ---


def _build_frame_head(frame_type: bytes, fields: dict[str, Any]) -> bytes:
    return FrameHead.build(dict(header=dict(value=dict(type=frame_type, fields=fields))))


def build_entry_frame(entry: Entry) -> bytes:
    return _build_frame_head(FRAME_ENTRY, entry_to_fields(entry))


def entry_frame_size(entry: Entry) -> int:
    """len(build_entry_frame(entry)), without building it."""
    return ENTRY_FRAME_FIXED + len(os.fsencode(entry.path)) + len(os.fsencode(entry.target))


# -- parsing -------------------------------------------------------------------------------------


def parse_frame(stream: Any, offset: int, what: str = "") -> ParsedFrame:
    """Read one frame (entry, block with payload, or index) at the stream's position;
    `offset` is its position in the archive, and `what` how errors name the frame (by default
    "frame at offset N")."""
    parsed = parse_frame_at(FrameHead, stream, offset, what)
    kind, fields = parsed.header.value.type, parsed.header.value.fields
    if kind == FRAME_ENTRY:
        return ParsedFrame(offset, entry=entry_from_fields(fields))
    if kind == FRAME_BLOCK:
        payload = read_payload(stream, fields.stored_size, frame_name(offset, what))
        return ParsedFrame(offset, block=header_of(fields), payload=payload)
    return ParsedFrame(offset, index=_index_from_fields(fields))


def _index_from_fields(fields: Any) -> Index:
    """Rows from the index's columns, each checked by the rules entry frames obey."""
    codecs = [(ref.name, ref.version) for ref in fields.codecs]
    if sum(fields.block_counts) != len(fields.offsets):
        raise FormatError(f"index: the entries claim {sum(fields.block_counts)} blocks but "
                          f"the index lists {len(fields.offsets)}")
    paths = split_joined(fields.paths, fields.path_lengths)
    targets = split_joined(fields.targets, fields.target_lengths)
    if not _columns_pass(fields, paths, len(codecs)):
        _refuse_first_bad_row(fields, paths, targets, len(codecs))
    names, versions = [name for name, _ in codecs], [version for _, version in codecs]
    refs = list(map(BlockRef, fields.offsets, fields.raw_sizes, fields.stored_sizes,
                    map(names.__getitem__, fields.codec_refs),
                    map(versions.__getitem__, fields.codec_refs)))
    entries = list(map(Entry, map(os.fsdecode, paths), map(KINDS.__getitem__, fields.kinds),
                       fields.modes, fields.mtimes, fields.sizes, map(os.fsdecode, targets)))
    # Entry i owns the block_counts[i] rows that follow those of the entries before it.
    blocks = [refs[start:end] for start, end in pairwise(accumulate(fields.block_counts,
                                                                    initial=0))]
    return Index(entries, blocks)


def _refuse_first_bad_row(fields: Any, paths: list[bytes], targets: list[bytes],
                          codec_count: int) -> None:
    """Raise the error of the first row of the index that breaks a rule of its own: the entry
    rules (entry_problem), then only files own blocks, then each of its block rows is valid."""
    block = 0
    for number, count in enumerate(fields.block_counts):
        kind, path = fields.kinds[number], paths[number]
        problem = entry_problem_v1(kind, fields.modes[number], fields.sizes[number], path,
                                targets[number])
        if problem:
            raise FormatError(f"index: {problem}")
        if count and kind != Kind.FILE:
            raise FormatError(f"index: {os.fsdecode(path)!r} is no file but has blocks")
        for row in range(block, block + count):
            raw, stored = fields.raw_sizes[row], fields.stored_sizes[row]
            codec = fields.codec_refs[row]
            if not (1 <= raw <= MAX_BLOCK_SIZE and stored <= raw and codec < codec_count):
                raise FormatError(f"index: block record {row} is invalid (raw size {raw}, "
                                  f"stored size {stored}, codec {codec})")
        block += count


#: Which kinds are symlinks, and which are not, as a translation table for bytes.translate.
_SYMLINK = bytes(kind == Kind.SYMLINK for kind in range(256))
_NOT_SYMLINK = bytes(kind != Kind.SYMLINK for kind in range(256))


def _columns_pass(fields: Any, paths: list[bytes], codec_count: int) -> bool:
    """Whether every row surely passes _refuse_first_bad_row, found a column at a time by
    builtins that run in C: a large index is checked in milliseconds instead of a second.

    This screens, it does not judge: it never passes rows that break a rule, and when it does
    not pass, the rows are checked one by one, which says which row breaks which rule (or finds
    none: the unnamed entry's empty path is left to entry_problem).
    """
    kinds, sizes, target_lengths = fields.kinds, fields.sizes, fields.target_lengths
    links = kinds.tobytes().translate(_SYMLINK)
    others = kinds.tobytes().translate(_NOT_SYMLINK)
    # The components of all the paths at once: joined by "/", the paths have exactly their
    # own components, an empty path among them making an empty one.
    components = b"/".join(paths).split(b"/") if paths else []
    return (
        # The entry rules of entry_problem, in its order (kind 0 is a file) ...
        max(kinds, default=0) < len(KINDS)
        and max(fields.modes, default=0) <= 0o7777
        and not any(compress(sizes, kinds))
        and b"\0" not in fields.paths
        and max(fields.path_lengths, default=0) <= MAX_PATH
        and BAD_COMPONENTS.isdisjoint(components)
        and max(map(len, components), default=0) <= MAX_COMPONENT
        and min(compress(target_lengths, links), default=1) > 0
        and max(target_lengths, default=0) <= MAX_PATH and b"\0" not in fields.targets
        and not any(compress(target_lengths, others))
        # ... then the block rows.
        and not any(compress(fields.block_counts, kinds))
        and min(fields.raw_sizes, default=1) >= 1
        and max(fields.raw_sizes, default=0) <= MAX_BLOCK_SIZE
        and all(map(operator.le, fields.stored_sizes, fields.raw_sizes))
        and max(fields.codec_refs, default=-1) < codec_count
    )


def check_index(index: Index, index_offset: int) -> None:
    """The rules of spec/FORMAT.md section "Index" that span records.

    Blocks lie between the header and the index, in increasing offset order without overlap;
    a file's blocks hold exactly its size; paths are unique; an unnamed entry stands alone.
    """
    seen: set[str] = set()
    previous_end = HEADER_SIZE
    for entry, refs in zip(index.entries, index.blocks, strict=True):
        if not entry.path and len(index.entries) > 1:
            raise FormatError("index: an unnamed entry must be the archive's only entry")
        if entry.path in seen:
            raise FormatError(f"index: duplicate entry {entry.path!r}")
        seen.add(entry.path)
        total = 0
        for ref in refs:
            if ref.offset < previous_end:
                raise FormatError(f"index: block at offset {ref.offset} of {entry.path!r} "
                                  f"overlaps the previous frame")
            previous_end = ref.offset + MIN_BLOCK_HEADER + ref.stored_size
            total += ref.raw_size
        if total != entry.size:
            raise FormatError(f"index: blocks of {entry.path!r} hold {total} bytes, "
                              f"the entry says {entry.size}")
    if previous_end > index_offset:
        raise FormatError("index: a block extends past the start of the index")
