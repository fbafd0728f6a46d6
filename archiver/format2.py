"""The pyarc container format 2.0 (solid blocks), as `construct` definitions.

spec/FORMAT.md is the normative description; this module implements it field by field. What
format 2 shares with format 1.0 (header, footer, the codec fields, the entry rules) is in
archiver/format.py.

Layout of an archive:

    Header  (Table Block*)*  Index  Footer

Tables, blocks and the index are *coded frames*: each holds a payload made by a codec, with the
codec's name, version and options, and the hashes of the payload and of what it decodes to. A
block decodes to a stretch of the data stream D (the data of the files, concatenated in the
writer's order); a table decodes to the records of the files whose data begins in its segment;
the index decodes to every entry and every block. Bodies are columns, as the index of format
1.0 is: each field for all entries in one piece, so that a body of a million entries parses
in a few construct steps, and so that a codec sees like next to like (the modes together, the
times together, the paths front-coded).
"""

from __future__ import annotations

import io
import os
from array import array
from collections.abc import MutableSequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import construct as c
from construct import this

from archiver.codec import CODEC_NAME
from archiver.errors import FormatError
from archiver.format import (
    HEADER_SIZE,
    KINDS,
    MAX_BLOCK_SIZE,
    MAX_BLOCKS,
    MAX_ENTRIES,
    MAX_INDEX_SIZE,
    MAX_PATH,
    MAX_XATTR_VALUE,
    BlockHeader,
    BlockRef,
    CodecRef,
    Column,
    Entry,
    Kind,
    Valid,
    checked,
    coded_fields,
    coded_to_fields,
    entry_problem,
    fits,
    frame_name,
    header_of,
    parse_frame_at,
    parse_with,
    read_payload,
    shown,
    split_joined,
)

FRAME_TABLE, FRAME_BLOCK, FRAME_INDEX = b"T", b"B", b"I"
#: "Not recorded" in the owner columns.
NONE32 = 0xFFFFFFFF
MAX_NAMES = 1 << 16
MAX_EXTENTS = 1 << 24
MAX_XATTRS = 1 << 20
#: The bytes of one row of the entry columns, of the block columns and of the segment columns.
ENTRY_WIDTH = 1 + 2 + 8 + 8 + 8 + 4 + 4 + 4 + 4 + 2 + 2 + 2 + 4 + 2
BLOCK_WIDTH = 8 + 4 + 4 + 2 + 2
SEGMENT_WIDTH = 8 + 4
#: The smallest coded frame before its payload (a one-letter codec name, no options): used to
#: check that frames listed by the index do not overlap.
MIN_CODED_HEADER = 1 + 1 + 1 + 2 + 1 + 4 + 4 + 8 + 8 + 4
MIN_BLOCK_HEADER = MIN_CODED_HEADER + 8

# -- frames ----------------------------------------------------------------------------------

_FrameFields = c.Struct(
    "type" / Valid(
        c.Bytes(1), lambda v, _: v in (FRAME_TABLE, FRAME_BLOCK, FRAME_INDEX)
    ),
    "fields" / c.Switch(
        this.type,
        {
            FRAME_TABLE: coded_fields(MAX_INDEX_SIZE),
            FRAME_BLOCK: c.Struct("data_offset" / c.Int64ul) + coded_fields(MAX_BLOCK_SIZE),
            FRAME_INDEX: coded_fields(MAX_INDEX_SIZE),
        },
    ),
)

#: A frame up to its payload. Its `stored_size` bytes of payload follow; they are read only
#: after the header checksum has passed (and stored_size was checked against the bytes that
#: remain as it was read): format.read_payload.
FrameHead = checked(_FrameFields)


@dataclass(frozen=True)
class CodedFrame:
    """A parsed frame: its type, the header of its payload, the payload (not yet verified:
    blocks.decode_block checks it), and for a block its position in the data stream."""

    offset: int
    type: bytes
    header: BlockHeader
    payload: bytes
    data_offset: int = 0


def build_frame_head(frame_type: bytes, header: BlockHeader, data_offset: int = 0) -> bytes:
    """A coded frame up to its payload; the payload's `stored_size` bytes come next."""
    fields = coded_to_fields(header)
    if frame_type == FRAME_BLOCK:
        fields["data_offset"] = data_offset
    return FrameHead.build(dict(header=dict(value=dict(type=frame_type, fields=fields))))


def parse_frame(stream: Any, offset: int, what: str = "") -> CodedFrame:
    """Read one frame at the stream's position; `offset` is its position in the archive, and
    `what` how errors name it (by default "frame at offset N")."""
    parsed = parse_frame_at(FrameHead, stream, offset, what)
    kind, fields = parsed.header.value.type, parsed.header.value.fields
    payload = read_payload(stream, fields.stored_size, frame_name(offset, what))
    return CodedFrame(offset, kind, header_of(fields), payload,
                      fields.data_offset if kind == FRAME_BLOCK else 0)


# -- bodies: columns -------------------------------------------------------------------------


class _CheckedColumn(Column):
    """A Column that first checks that its bytes remain (a body's size is known: it was
    decoded), so that a count a damaged body claims allocates nothing."""

    def __init__(self, name: str, typecode: str, count: Any) -> None:
        super().__init__(typecode, count)
        self.count, self.label = count, name
        self.width = array(typecode).itemsize

    def _parse(self, stream: Any, context: Any, path: str) -> Any:
        fits(context, self.label, c.evaluate(self.count, context) * self.width)
        return super()._parse(stream, context, path)


class _Joined(c.Construct):
    """The byte strings of a lengths column, back to back; their total is checked against
    the bytes that remain before it is read."""

    def __init__(self, name: str, lengths: str) -> None:
        super().__init__()
        self.label, self.lengths = name, lengths

    def _parse(self, stream: Any, context: Any, path: str) -> bytes:
        total = sum(context[self.lengths])
        fits(context, self.label, total)
        return c.stream_read(stream, total, path)

    def _build(self, obj: bytes, stream: Any, context: Any, path: str) -> bytes:
        c.stream_write(stream, obj, len(obj), path)
        return obj


def _count(name: str, cap: int, width: int) -> c.Construct:
    """A u32 count of rows of `width` bytes, at most `cap`, whose rows must fit."""
    return Valid(c.Int32ul, lambda n, ctx: n <= cap and fits(ctx, name, n * width))


_NameTable = c.Struct(
    "name_count" / _count("the name table", MAX_NAMES, 2),
    "name_lengths" / Valid(
        _CheckedColumn("name_lengths", "H", this.name_count),
        lambda lengths, _: min(lengths, default=1) >= 1 and max(lengths, default=0) <= 255),
    "names" / _Joined("names", "name_lengths"),
)

_EntryColumns = c.Struct(
    "entry_count" / _count("the entry columns", MAX_ENTRIES, ENTRY_WIDTH),
    "kinds" / _CheckedColumn("kinds", "B", this.entry_count),
    "modes" / _CheckedColumn("modes", "H", this.entry_count),
    "mtime_deltas" / _CheckedColumn("mtime_deltas", "Q", this.entry_count),
    "sizes" / _CheckedColumn("sizes", "Q", this.entry_count),
    "data_offsets" / _CheckedColumn("data_offsets", "Q", this.entry_count),
    "uids" / _CheckedColumn("uids", "I", this.entry_count),
    "gids" / _CheckedColumn("gids", "I", this.entry_count),
    "user_refs" / _CheckedColumn("user_refs", "I", this.entry_count),
    "group_refs" / _CheckedColumn("group_refs", "I", this.entry_count),
    "path_prefixes" / _CheckedColumn("path_prefixes", "H", this.entry_count),
    "path_suffix_lengths" / _CheckedColumn("path_suffix_lengths", "H", this.entry_count),
    "target_lengths" / Valid(
        _CheckedColumn("target_lengths", "H", this.entry_count),
        lambda lengths, _: max(lengths, default=0) <= MAX_PATH),
    "extent_counts" / Valid(
        _CheckedColumn("extent_counts", "I", this.entry_count),
        lambda counts, _: sum(counts) <= MAX_EXTENTS),
    "xattr_counts" / Valid(
        _CheckedColumn("xattr_counts", "H", this.entry_count),
        lambda counts, _: sum(counts) <= MAX_XATTRS),
    "path_suffixes" / _Joined("path suffixes", "path_suffix_lengths"),
    "targets" / _Joined("targets", "target_lengths"),
    "extent_offsets" / _CheckedColumn("extent_offsets", "Q", lambda ctx: sum(ctx.extent_counts)),
    "extent_lengths" / _CheckedColumn("extent_lengths", "Q", lambda ctx: sum(ctx.extent_counts)),
    "xattr_name_lengths" / _CheckedColumn("xattr_name_lengths", "B",
                                          lambda ctx: sum(ctx.xattr_counts)),
    "xattr_value_lengths" / Valid(
        _CheckedColumn("xattr_value_lengths", "I", lambda ctx: sum(ctx.xattr_counts)),
        lambda lengths, _: max(lengths, default=0) <= MAX_XATTR_VALUE),
    "xattr_names" / _Joined("xattr names", "xattr_name_lengths"),
    "xattr_values" / _Joined("xattr values", "xattr_value_lengths"),
)

TableBody = _NameTable + _EntryColumns

IndexBody = c.Struct(
    "codec_count" / c.Int16ul,
    "codecs" / c.Array(this.codec_count, CodecRef),
    "group_count" / c.Int16ul,
    "groups" / c.Array(this.group_count, c.PascalString(
        Valid(c.Int8ul, lambda n, _: 1 <= n <= 32), "ascii")),
) + _NameTable + _EntryColumns + c.Struct(
    "block_count" / _count("the block columns", MAX_BLOCKS, BLOCK_WIDTH),
    "block_offsets" / _CheckedColumn("block_offsets", "Q", this.block_count),
    "block_raw_sizes" / _CheckedColumn("block_raw_sizes", "I", this.block_count),
    "block_stored_sizes" / _CheckedColumn("block_stored_sizes", "I", this.block_count),
    "block_codecs" / _CheckedColumn("block_codecs", "H", this.block_count),
    "block_groups" / _CheckedColumn("block_groups", "H", this.block_count),
    "segment_count" / _count("the segment columns", MAX_BLOCKS, SEGMENT_WIDTH),
    "segment_offsets" / _CheckedColumn("segment_offsets", "Q", this.segment_count),
    "segment_blocks" / _CheckedColumn("segment_blocks", "I", this.segment_count),
)


# -- bodies: the values ------------------------------------------------------------------------


@dataclass
class Records:
    """Entries as a body holds them: each entry with the start of its data in D (0 when it has
    none). The entries of a table are in the order of their data; those of the index in archive
    order."""

    entries: list[Entry] = field(default_factory=list)
    #: A list while a writer fills it; read from a body, the parsed column itself (an array:
    #: 8 bytes an entry).
    data_offsets: MutableSequence[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Segment:
    """A table frame and the number of block frames that follow it."""

    offset: int
    blocks: int


@dataclass
class IndexRecords(Records):
    """What the index says: every entry, every block (archive order) and every segment."""

    blocks: list[BlockRef] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)

    @property
    def data_size(self) -> int:
        """The length of the data stream D."""
        return self.blocks[-1].data_end if self.blocks else 0


def _name_table(records: Records) -> tuple[dict[str, Any], dict[str, int]]:
    """The name table of a body, and each name's row."""
    rows: dict[str, int] = {}
    for entry in records.entries:
        for name in (entry.user, entry.group):
            if name:
                rows.setdefault(name, len(rows))
    names = [os.fsencode(name) for name in rows]
    return dict(name_count=len(names), name_lengths=[len(name) for name in names],
                names=b"".join(names)), rows


def _typecodes(struct: c.Struct) -> dict[str, str]:
    """The array typecode of each Column of a body struct, by field name (unwrapping Valid)."""
    codes = {}
    for field_ in struct.subcons:
        inner = field_.subcon
        while not isinstance(inner, Column) and hasattr(inner, "subcon"):
            inner = inner.subcon
        if isinstance(inner, Column):
            codes[field_.name] = inner.typecode
    return codes


_ENTRY_TYPECODES = _typecodes(_EntryColumns)


def _entry_columns(records: Records, rows: dict[str, int]) -> dict[str, Any]:
    """The entry columns of `records` (section 8 of spec/FORMAT.md). Each column is filled
    as a compact array in one pass over the entries: an index of a million entries makes no
    list of a million Python ints per column."""
    columns = {name: array(code) for name, code in _ENTRY_TYPECODES.items()}
    add = {name: column.append for name, column in columns.items()}
    joined = {name: bytearray() for name in ("path_suffixes", "targets", "xattr_names",
                                             "xattr_values")}
    before, mtime_before = b"", 0
    for entry in records.entries:
        path, target = os.fsencode(entry.path), os.fsencode(entry.target)
        prefix = _shared(before, path)
        before = path
        add["kinds"](int(entry.kind))
        add["modes"](entry.mode)
        add["mtime_deltas"]((entry.mtime_ns - mtime_before) % (1 << 64))
        mtime_before = entry.mtime_ns
        add["sizes"](entry.size)
        add["uids"](NONE32 if entry.uid is None else entry.uid)
        add["gids"](NONE32 if entry.gid is None else entry.gid)
        add["user_refs"](rows[entry.user] if entry.user else NONE32)
        add["group_refs"](rows[entry.group] if entry.group else NONE32)
        add["path_prefixes"](prefix)
        add["path_suffix_lengths"](len(path) - prefix)
        joined["path_suffixes"] += path[prefix:]
        add["target_lengths"](len(target))
        joined["targets"] += target
        add["extent_counts"](len(entry.extents or ()))
        for offset, length in entry.extents or ():
            add["extent_offsets"](offset)
            add["extent_lengths"](length)
        add["xattr_counts"](len(entry.xattrs))
        for name, value in entry.xattrs:
            add["xattr_name_lengths"](len(os.fsencode(name)))
            joined["xattr_names"] += os.fsencode(name)
            add["xattr_value_lengths"](len(value))
            joined["xattr_values"] += value
    columns["data_offsets"] = array(_ENTRY_TYPECODES["data_offsets"], records.data_offsets)
    return dict(entry_count=len(records.entries), **columns,
                **{name: bytes(data) for name, data in joined.items()})


def _shared(before: bytes, path: bytes) -> int:
    """The length of the prefix two paths share, at most 65535 (the column's width)."""
    limit = min(len(before), len(path), 0xFFFF)
    shared = 0
    while shared < limit and before[shared] == path[shared]:
        shared += 1
    return shared


def build_table_body(records: Records) -> bytes:
    names, rows = _name_table(records)
    return TableBody.build({**names, **_entry_columns(records, rows)})


def build_index_body(index: IndexRecords) -> bytes:
    names, rows = _name_table(index)
    codecs: dict[tuple[str, int], int] = {}
    groups: dict[str, int] = {}
    for ref in index.blocks:
        codecs.setdefault((ref.codec, ref.version), len(codecs))
        groups.setdefault(ref.group, len(groups))
    return IndexBody.build(dict(
        codec_count=len(codecs),
        codecs=[dict(name=name, version=version) for name, version in codecs],
        group_count=len(groups), groups=list(groups),
        **names, **_entry_columns(index, rows),
        block_count=len(index.blocks),
        block_offsets=[ref.offset for ref in index.blocks],
        block_raw_sizes=[ref.raw_size for ref in index.blocks],
        block_stored_sizes=[ref.stored_size for ref in index.blocks],
        block_codecs=[codecs[ref.codec, ref.version] for ref in index.blocks],
        block_groups=[groups[ref.group] for ref in index.blocks],
        segment_count=len(index.segments),
        segment_offsets=[segment.offset for segment in index.segments],
        segment_blocks=[segment.blocks for segment in index.segments],
    ))


def _parse_body(struct: c.Construct, body: bytes, what: str) -> Any:
    stream = io.BytesIO(body)
    fields = parse_with(struct, stream, what)
    if stream.tell() != len(body):
        raise FormatError(f"{what}: {len(body) - stream.tell()} trailing bytes in the body")
    return fields


def _records(fields: Any, what: str) -> Records:
    """The entries of parsed entry columns, each checked by the entry rules."""
    names = [os.fsdecode(name) for name in split_joined(fields.names, fields.name_lengths)]
    suffixes = split_joined(fields.path_suffixes, fields.path_suffix_lengths)
    targets = split_joined(fields.targets, fields.target_lengths)
    extent_ends = list(accumulate(fields.extent_counts, initial=0))
    xattr_ends = list(accumulate(fields.xattr_counts, initial=0))
    xattr_names = split_joined(fields.xattr_names, fields.xattr_name_lengths)
    xattr_values = split_joined(fields.xattr_values, fields.xattr_value_lengths)
    # The columns, looked up once (a construct Container's attributes are slow to read, and
    # an index may hold millions of entries).
    prefixes, mtime_deltas = fields.path_prefixes, fields.mtime_deltas
    kinds, modes, sizes = fields.kinds, fields.modes, fields.sizes
    uids, gids = fields.uids, fields.gids
    user_refs, group_refs = fields.user_refs, fields.group_refs
    extent_offsets, extent_lengths = fields.extent_offsets, fields.extent_lengths
    xattr_sizes = fields.xattr_value_lengths
    records = Records()
    append = records.entries.append
    path = b""
    mtime = 0
    for number in range(fields.entry_count):
        prefix, suffix = prefixes[number], suffixes[number]
        if prefix > len(path) or prefix + len(suffix) > MAX_PATH:
            raise FormatError(f"{what}: entry {number}: path prefix longer than the path "
                              f"before it")
        path = path[:prefix] + suffix
        mtime = (mtime + mtime_deltas[number]) % (1 << 64)
        kind, size, target = kinds[number], sizes[number], targets[number]
        first, last = extent_ends[number], extent_ends[number + 1]
        extents = (tuple(zip(extent_offsets[first:last], extent_lengths[first:last],
                             strict=True)) if last > first else None)
        first, last = xattr_ends[number], xattr_ends[number + 1]
        attribute_names, attribute_sizes = ((tuple(xattr_names[first:last]),
                                             tuple(xattr_sizes[first:last]))
                                            if last > first else ((), ()))
        problem = entry_problem(kind, modes[number], size, path, target, extents=extents,
                                xattr_names=attribute_names, xattr_sizes=attribute_sizes)
        if problem:
            raise FormatError(f"{what}: {problem}")
        user_ref, group_ref = user_refs[number], group_refs[number]
        for ref in (user_ref, group_ref):
            if ref != NONE32 and ref >= len(names):
                raise FormatError(f"{what}: entry {shown(path)}: owner name ref {ref} out of "
                                  f"range")
        uid, gid = uids[number], gids[number]
        append(Entry(
            os.fsdecode(path), KINDS[kind], modes[number],
            mtime - (1 << 64) if mtime >= 1 << 63 else mtime, size,
            os.fsdecode(target) if target else "",
            None if uid == NONE32 else uid, None if gid == NONE32 else gid,
            "" if user_ref == NONE32 else names[user_ref],
            "" if group_ref == NONE32 else names[group_ref],
            extents,
            tuple(zip(map(os.fsdecode, attribute_names), xattr_values[first:last],
                      strict=True)) if attribute_names else (),
        ))
    records.data_offsets = fields.data_offsets
    return records


def parse_table_body(body: bytes, what: str) -> Records:
    """The records of a table (spec/FORMAT.md section 9), each checked."""
    records = _records(_parse_body(TableBody, body, what), what)
    if not records.entries:
        raise FormatError(f"{what}: a table without entries")
    previous = -1
    for entry, start in zip(records.entries, records.data_offsets, strict=True):
        if not entry.data_size:
            raise FormatError(f"{what}: entry {shown(os.fsencode(entry.path))} has no data "
                              f"and belongs in the index only")
        if start < previous:
            raise FormatError(f"{what}: entries are not in the order of their data")
        previous = start
    return records


def parse_index_body(body: bytes, what: str = "index") -> IndexRecords:
    """The entries, blocks and segments of the index (spec/FORMAT.md section 10); the rules
    of the records themselves are checked, those that span the archive by check_index."""
    fields = _parse_body(IndexBody, body, what)
    for name in (ref.name for ref in fields.codecs):
        if not CODEC_NAME.fullmatch(name):
            raise FormatError(f"{what}: invalid codec name {name!r}")
    records = _records(fields, what)
    index = IndexRecords(records.entries, records.data_offsets)
    codecs = [(ref.name, ref.version) for ref in fields.codecs]
    start = 0
    for number in range(fields.block_count):
        raw, stored = fields.block_raw_sizes[number], fields.block_stored_sizes[number]
        codec, group = fields.block_codecs[number], fields.block_groups[number]
        if not (1 <= raw <= MAX_BLOCK_SIZE and stored <= raw and codec < len(codecs)
                and group < len(fields.groups)):
            raise FormatError(f"{what}: block record {number} is invalid (raw size {raw}, "
                              f"stored size {stored}, codec {codec}, group {group})")
        name, version = codecs[codec]
        index.blocks.append(BlockRef(fields.block_offsets[number], raw, stored, name, version,
                                     start, fields.groups[group]))
        start += raw
    index.segments = list(map(Segment, fields.segment_offsets, fields.segment_blocks))
    return index


def check_index(index: IndexRecords, index_offset: int, what: str = "index") -> None:
    """The rules of spec/FORMAT.md section 10 that span the records of the index."""
    seen: dict[str, Kind] = {}
    for entry in index.entries:
        if not entry.path and len(index.entries) > 1:
            raise FormatError(f"{what}: an unnamed entry must be the archive's only entry")
        if entry.path in seen:
            raise FormatError(f"{what}: duplicate entry {entry.path!r}")
        if entry.kind == Kind.HARDLINK and seen.get(entry.target) != Kind.FILE:
            raise FormatError(f"{what}: hard link {entry.path!r}: target {entry.target!r} is "
                              f"no earlier file of the archive")
        seen[entry.path] = entry.kind
    _check_frames(index, index_offset, what)
    _check_ranges(index, what)


def _check_frames(index: IndexRecords, index_offset: int, what: str) -> None:
    """Segments and blocks lie between the header and the index, in order, apart."""
    if sum(segment.blocks for segment in index.segments) != len(index.blocks):
        raise FormatError(f"{what}: the segments hold "
                          f"{sum(segment.blocks for segment in index.segments)} blocks but the "
                          f"index lists {len(index.blocks)}")
    end = HEADER_SIZE
    blocks = iter(index.blocks)
    for segment in index.segments:
        frames = [(segment.offset, MIN_CODED_HEADER)]
        frames += [(ref.offset, MIN_BLOCK_HEADER + ref.stored_size)
                   for ref in (next(blocks) for _ in range(segment.blocks))]
        for offset, smallest in frames:
            if offset < end:
                raise FormatError(f"{what}: frame at offset {offset} overlaps the frame "
                                  f"before it")
            end = offset + smallest
    if end > index_offset:
        raise FormatError(f"{what}: a frame extends past the start of the index")


def data_ranges(records: Records) -> list[tuple[int, int, int]]:
    """(start, end, entry number) of every entry with data, in order of start."""
    return sorted((start, start + entry.data_size, number)
                  for number, (entry, start) in enumerate(zip(records.entries,
                                                              records.data_offsets,
                                                              strict=True))
                  if entry.data_size)


def _check_ranges(index: IndexRecords, what: str) -> None:
    """Each file's data lies in D; ranges are identical or apart, and cover D."""
    covered = 0
    last: tuple[int, int] | None = None
    last_entry = ""
    for start, end, number in data_ranges(index):
        path = index.entries[number].path
        if end > index.data_size:
            raise FormatError(f"{what}: entry {path!r}: data past the end of the blocks")
        if (start, end) == last:
            continue  # identical contents, stored once
        if start < covered:
            raise FormatError(f"{what}: the data of {path!r} overlaps that of {last_entry!r}")
        if start > covered:
            raise FormatError(f"{what}: bytes {covered}..{start} of the data belong to no "
                              f"entry")
        covered, last, last_entry = end, (start, end), path
    if covered != index.data_size:
        raise FormatError(f"{what}: bytes {covered}..{index.data_size} of the data belong to "
                          f"no entry")


def differing_fields(a: Entry, b: Entry) -> list[str]:
    """The names of the fields in which two entries differ (for messages)."""
    return [name for name in Entry.__dataclass_fields__ if getattr(a, name) != getattr(b, name)]


__all__ = [
    "FRAME_BLOCK", "FRAME_INDEX", "FRAME_TABLE", "CodedFrame", "IndexRecords", "Records",
    "Segment", "build_frame_head", "build_index_body", "build_table_body", "check_index",
    "data_ranges", "differing_fields", "parse_frame", "parse_index_body", "parse_table_body",
]
