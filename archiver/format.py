"""The pyarc container format, version 1, as `construct` definitions.

spec/FORMAT.md is the normative description; this module implements it field by field and is
the only place where archive bytes are parsed or built. Every length is validated against a
hard cap and against the bytes that remain *before* the bytes are read, so a corrupt length can
never make the reader allocate more than the caps below.

Layout of an archive:

    Header  (Entry Block*)*  Index  Footer

All integers are little-endian. Frame headers are protected by XXH32; data by XXH3-64.
"""

from __future__ import annotations

import enum
import io
import operator
import os
import re
import sys
from array import array
from dataclasses import dataclass, field
from itertools import accumulate, compress, pairwise
from typing import IO, Any

import construct as c
import xxhash
from construct import this

from archiver.codec import CODEC_NAME, MAX_OPTION_VALUE_LEN, MAX_OPTIONS, OPTION_NAME
from archiver.errors import ChecksumError, FormatError, UnsupportedVersionError

MAGIC = b"\x89PYARC\r\n"
END_MAGIC = b"PYA\x1a"
FORMAT_MAJOR = 1
FORMAT_MINOR = 0

KiB = 1024
MiB = 1024 * KiB
DEFAULT_BLOCK_SIZE = 1 * MiB
MIN_BLOCK_SIZE = 1 * KiB  # the smallest nominal block size a writer may choose
MAX_BLOCK_SIZE = 64 * MiB  # the largest raw size of any block (caps the reader's memory)
MAX_PATH = 4096  # bytes in an entry path or symlink target
MAX_COMPONENT = 255  # bytes in one path component
MAX_ENTRIES = 1 << 24
MAX_BLOCKS = 1 << 28
MAX_INDEX_SIZE = 256 * MiB

HEADER_SIZE = 20
FOOTER_SIZE = 24
# Bytes per entry and per block in the index's fixed-width columns, used to check the counts
# against the bytes that remain before any column is read.
INDEX_ENTRY_WIDTH = 1 + 2 + 8 + 8 + 4 + 2 + 2
INDEX_BLOCK_WIDTH = 8 + 4 + 4 + 2
# The smallest block frame before its payload (a one-letter codec name, no options).
MIN_BLOCK_HEADER = 1 + 1 + 1 + 2 + 1 + 4 + 4 + 8 + 8 + 4
# An entry frame but its path and target: type, kind, mode, mtime_ns, size, the two lengths, check.
ENTRY_FRAME_FIXED = 1 + 1 + 2 + 8 + 8 + 2 + 2 + 4


class Kind(enum.IntEnum):
    FILE = 0
    DIRECTORY = 1
    SYMLINK = 2
    #: Another name of a file stored earlier: `target` is that entry's path (format 2).
    HARDLINK = 3
    #: A named pipe (format 2).
    FIFO = 4


def xxh32(data: bytes) -> int:
    return xxhash.xxh32_intdigest(data)


def xxh3(data: bytes | memoryview) -> int:
    return xxhash.xxh3_64_intdigest(data)


def _remaining(stream: IO[bytes]) -> int | None:
    """Bytes left in a seekable stream, or None when the stream cannot tell (a pipe)."""
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
        return end - here
    except (OSError, ValueError, AttributeError):
        return None


class _Truncated(c.StreamError):
    """A length that claims more bytes than the archive has left."""


def _fits(ctx: Any, field_name: str, length: int, after: int = 0) -> bool:
    """When parsing, check that the `length` bytes a field declares (plus `after` bytes of fixed
    fields) remain, so that nothing is allocated for a length a damaged archive claims."""
    if ctx._parsing:
        left = _remaining(ctx._io)
        if left is not None and length + after > left:
            raise _Truncated(f"{field_name}: {length} bytes declared but only "
                             f"{max(left - after, 0)} remain")
    return True


_BAD_COMPONENTS = frozenset((b"", b".", b".."))


def is_valid_path(path: bytes) -> bool:
    """A stored path: relative, '/'-separated, no empty, '.' or '..' components, no NUL."""
    if not 0 < len(path) <= MAX_PATH or b"\0" in path:
        return False
    parts = path.split(b"/")
    return _BAD_COMPONENTS.isdisjoint(parts) and max(map(len, parts)) <= MAX_COMPONENT


#: Each kind format 1.0 knows, by its number (Kind(n) is slower, and the index holds a kind
#: per entry).
_KINDS = (Kind.FILE, Kind.DIRECTORY, Kind.SYMLINK)


def entry_problem(kind: int, mode: int, size: int, path: bytes, target: bytes) -> str | None:
    """What is wrong with an entry record, or None. The one statement of the entry rules,
    applied to entry frames and to index records alike."""
    if not 0 <= kind < len(_KINDS):
        return f"entry {_shown(path)}: unknown kind {kind}"
    if mode > 0o7777:
        return f"entry {_shown(path)}: mode {mode:#o} has bits beyond the permission bits"
    if kind != Kind.FILE and size != 0:
        return f"entry {_shown(path)}: a {_KINDS[kind].name.lower()} cannot have a size ({size})"
    # An empty path names the one unnamed entry of a single-stream archive (see check_index).
    if not (is_valid_path(path) or (path == b"" and kind == Kind.FILE)):
        return f"unsafe or malformed path {_shown(path)}"
    if kind == Kind.SYMLINK:
        if not 0 < len(target) <= MAX_PATH or b"\0" in target:
            return f"symlink {_shown(path)}: malformed target"
    elif target:
        return f"entry {_shown(path)}: only a symlink has a target"
    return None


def _shown(path: bytes) -> str:
    return repr(os.fsdecode(path))  # repr: no control characters reach the terminal


class _RuleBroken(c.ConstructError):
    """A rule that spans several fields of a record; its message says which."""


def _entry_rules(fields: Any, _: Any) -> bool:
    problem = entry_problem(fields["kind"], fields["mode"], fields["size"], fields["path"],
                            fields["target"])
    if problem:
        raise _RuleBroken(problem)
    return True


def _length_prefixed(length_type: c.Construct, limit: range, field_name: str) -> c.Construct:
    """A byte string preceded by its length; the length is checked against `limit` and against
    the bytes that remain before the string is read."""
    return c.Prefixed(
        c.ExprValidator(length_type, lambda n, ctx: n in limit and _fits(ctx, field_name, n)),
        c.GreedyBytes,
    )


def _short_name(pattern: re.Pattern[str], longest: int) -> c.Construct:
    """An ASCII name of 1..`longest` characters after a one-byte length, matching `pattern`."""
    return c.ExprValidator(
        c.PascalString(c.ExprValidator(c.Int8ul, lambda n, _: 1 <= n <= longest), "ascii"),
        lambda v, _: pattern.fullmatch(v) is not None,
    )


def _checked(fields: c.Construct, *tail: c.Construct) -> c.Struct:
    """`fields`, then the XXH32 of their encoded bytes, then the `tail` constructs."""
    return c.Struct(
        "header" / c.RawCopy(fields),
        "check" / c.Checksum(c.Int32ul, xxh32, this.header.data),
        *tail,
    )


def _header_rules(ctx: Any) -> bool:
    """Checked after the header checksum (the first 20 bytes keep their layout in every
    format version), so a damaged byte is reported as damage, not as a future version."""
    header = ctx.header.value
    if header.major > FORMAT_MAJOR:
        raise UnsupportedVersionError(
            f"archive format version {header.major} is newer than this pyarc reads "
            f"({FORMAT_MAJOR}.x); upgrade pyarc"
        )
    if header.major != FORMAT_MAJOR:
        raise _RuleBroken(f"unknown format version {header.major}")
    if header.flags != 0:
        raise _RuleBroken(f"unknown flags {header.flags:#06x}")
    if not 1 <= header.block_size <= MAX_BLOCK_SIZE:
        raise _RuleBroken(f"block size {header.block_size} out of range")
    return True


# -- archive header --------------------------------------------------------------------------

Header = _checked(
    c.Struct(
        "magic" / c.Const(MAGIC),
        "major" / c.Int8ul,
        "minor" / c.Int8ul,
        "flags" / c.Int16ul,
        "block_size" / c.Int32ul,
    ),
    c.Check(_header_rules),
)

# -- entries ---------------------------------------------------------------------------------

_EntryFields = c.ExprValidator(
    c.Struct(
        "kind" / c.Int8ul,
        "mode" / c.Int16ul,
        "mtime_ns" / c.Int64sl,
        "size" / c.Int64ul,
        "path" / _length_prefixed(c.Int16ul, range(0, MAX_PATH + 1), "path"),
        "target" / _length_prefixed(c.Int16ul, range(0, MAX_PATH + 1), "target"),
    ),
    _entry_rules,
)

# -- blocks ----------------------------------------------------------------------------------

_Option = c.Struct(
    "key" / _short_name(OPTION_NAME, 32),
    "value" / c.ExprValidator(
        c.PascalString(
            c.ExprValidator(c.Int8ul, lambda n, _: 1 <= n <= MAX_OPTION_VALUE_LEN), "ascii"
        ),
        lambda v, _: v.isprintable(),
    ),
)

def _options_once(options: Any) -> bool:
    keys = [option["key"] for option in options]  # dicts when building, containers parsing
    for key in keys:
        if keys.count(key) > 1:
            raise _RuleBroken(f"block option {key!r} appears twice")
    return True


_BlockFields = c.Struct(
    "codec" / _short_name(CODEC_NAME, 32),
    "version" / c.Int16ul,
    "options" / c.ExprValidator(
        c.PrefixedArray(c.ExprValidator(c.Int8ul, lambda n, _: n <= MAX_OPTIONS), _Option),
        lambda options, _: _options_once(options),
    ),
    "raw_size" / c.ExprValidator(c.Int32ul, lambda v, _: 1 <= v <= MAX_BLOCK_SIZE),
    # A writer stores a block it cannot shrink with `store`, so stored_size <= raw_size.
    "stored_size" / c.ExprValidator(
        c.Int32ul,
        lambda v, ctx: v <= ctx.raw_size and _fits(ctx, "stored_size", v, after=8 + 8 + 4),
    ),
    "raw_hash" / c.Int64ul,
    "stored_hash" / c.Int64ul,
)

# -- index -----------------------------------------------------------------------------------


class _Column(c.Adapter):
    """`count` integers of one width, stored back to back little-endian and read in one piece
    into an `array.array`: the index is stored column by column so that even an index of
    millions of entries parses in a few construct steps."""

    def __init__(self, typecode: str, count: Any) -> None:
        self.typecode = typecode
        super().__init__(c.Bytes(count * array(typecode).itemsize))

    def _decode(self, raw: bytes, context: Any, path: str) -> array:
        column = array(self.typecode)
        column.frombytes(raw)
        if sys.byteorder == "big":
            column.byteswap()
        return column

    def _encode(self, values: Any, context: Any, path: str) -> bytes:
        column = array(self.typecode, values)
        if sys.byteorder == "big":
            column.byteswap()
        return column.tobytes()


assert [array(code).itemsize for code in "BHIQq"] == [1, 2, 4, 8, 8], "unexpected C int sizes"

_CodecRef = c.Struct("name" / _short_name(CODEC_NAME, 32), "version" / c.Int16ul)


def _lengths_fit(lengths: array, ctx: Any, field_name: str, before: int = 0) -> bool:
    return max(lengths, default=0) <= MAX_PATH and _fits(ctx, field_name, before + sum(lengths))


_IndexFields = c.Struct(
    "codec_count" / c.Rebuild(c.Int16ul, c.len_(this.codecs)),
    "codecs" / c.Array(this.codec_count, _CodecRef),
    "entry_count" / c.Rebuild(
        c.ExprValidator(c.Int32ul, lambda n, ctx: n <= MAX_ENTRIES),
        c.len_(this.kinds),
    ),
    "block_count" / c.Rebuild(
        # Both counts known: the columns they declare must fit in what remains.
        c.ExprValidator(c.Int32ul, lambda n, ctx: n <= MAX_BLOCKS and _fits(
            ctx, "the entry and block columns",
            ctx.entry_count * INDEX_ENTRY_WIDTH + n * INDEX_BLOCK_WIDTH)),
        c.len_(this.offsets),
    ),
    # One column per entry field ...
    "kinds" / _Column("B", this.entry_count),
    "modes" / _Column("H", this.entry_count),
    "mtimes" / _Column("q", this.entry_count),
    "sizes" / _Column("Q", this.entry_count),
    "block_counts" / _Column("I", this.entry_count),
    "path_lengths" / c.ExprValidator(
        _Column("H", this.entry_count), lambda lengths, ctx: _lengths_fit(lengths, ctx, "paths")
    ),
    "target_lengths" / c.ExprValidator(
        _Column("H", this.entry_count),
        lambda lengths, ctx: _lengths_fit(lengths, ctx, "paths and targets",
                                          before=sum(ctx.path_lengths)),
    ),
    "paths" / c.Bytes(lambda ctx: sum(ctx.path_lengths)),
    "targets" / c.Bytes(lambda ctx: sum(ctx.target_lengths)),
    # ... and one per block field, blocks in the order of their entries.
    "offsets" / _Column("Q", this.block_count),
    "raw_sizes" / _Column("I", this.block_count),
    "stored_sizes" / _Column("I", this.block_count),
    "codec_refs" / _Column("H", this.block_count),
)

# -- frames ----------------------------------------------------------------------------------

FRAME_ENTRY, FRAME_BLOCK, FRAME_INDEX = b"E", b"B", b"I"

_FrameFields = c.Struct(
    "type" / c.ExprValidator(
        c.Bytes(1), lambda v, _: v in (FRAME_ENTRY, FRAME_BLOCK, FRAME_INDEX)
    ),
    "fields" / c.Switch(
        this.type,
        {FRAME_ENTRY: _EntryFields, FRAME_BLOCK: _BlockFields, FRAME_INDEX: _IndexFields},
    ),
)

#: A frame without its payload; a block's payload follows it directly.
FrameHead = _checked(_FrameFields)

Frame = FrameHead + c.Struct(
    # Read only after the header checksum has passed (stored_size is validated above).
    "payload" / c.If(
        this.header.value.type == FRAME_BLOCK, c.Bytes(this.header.value.fields.stored_size)
    ),
)

Footer = _checked(
    c.Struct(
        "index_offset" / c.Int64ul,
        "index_size" / c.ExprValidator(c.Int64ul, lambda v, _: v <= MAX_INDEX_SIZE),
    ),
    "magic" / c.Const(END_MAGIC),
)

#: The footer's last four bytes, checked before the rest of it: their absence means the
#: archive was cut short or has bytes appended, whatever the other fields then say.
EndMagic = c.Const(END_MAGIC)


# -- the values the rest of pyarc works with ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One archived file, directory, symlink, hard link or FIFO. `path` and `target` are
    file-system strings (os.fsdecode of the stored bytes).

    The fields after `target` exist in format 2 only (an entry read from a format 1.0 archive
    has their defaults): the owner by id (None: not recorded) and name ('' when the id had no
    name), the data extents of a sparse file ((offset, length) pairs in increasing order,
    whose data alone is stored; None for a file stored whole), and extended attributes."""

    path: str
    kind: Kind
    mode: int
    mtime_ns: int
    size: int = 0
    target: str = ""
    uid: int | None = None
    gid: int | None = None
    user: str = ""
    group: str = ""
    extents: tuple[tuple[int, int], ...] | None = None
    xattrs: tuple[tuple[str, bytes], ...] = ()

    @property
    def data_size(self) -> int:
        """The bytes of data stored for this entry: a file's size, or the sum of its extents
        when it is sparse; 0 for every other kind."""
        if self.kind != Kind.FILE:
            return 0
        if self.extents is None:
            return self.size
        return sum(length for _, length in self.extents)

    def _fields(self) -> dict[str, Any]:
        return dict(
            kind=int(self.kind), mode=self.mode, mtime_ns=self.mtime_ns, size=self.size,
            path=os.fsencode(self.path), target=os.fsencode(self.target),
        )

    @classmethod
    def _from_fields(cls, fields: Any) -> Entry:
        return cls(
            path=os.fsdecode(fields.path), kind=_KINDS[fields.kind], mode=fields.mode,
            mtime_ns=fields.mtime_ns, size=fields.size, target=os.fsdecode(fields.target),
        )


@dataclass(frozen=True)
class BlockHeader:
    """The header of one block frame: which codec made the payload and how to check it."""

    codec: str
    version: int
    options: dict[str, str]
    raw_size: int
    stored_size: int
    raw_hash: int
    stored_hash: int


@dataclass(frozen=True, slots=True)
class BlockRef:
    """An index record: where a block frame starts and what it holds."""

    offset: int
    raw_size: int
    stored_size: int
    codec: str
    version: int

    @classmethod
    def at(cls, offset: int, header: BlockHeader) -> BlockRef:
        """The index record of the block frame with this header at this offset."""
        return cls(offset, header.raw_size, header.stored_size, header.codec, header.version)


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


# -- building ------------------------------------------------------------------------------------


def build_header(block_size: int) -> bytes:
    return Header.build(
        dict(header=dict(value=dict(major=FORMAT_MAJOR, minor=FORMAT_MINOR, flags=0,
                                    block_size=block_size)))
    )


def _build_frame_head(frame_type: bytes, fields: dict[str, Any]) -> bytes:
    return FrameHead.build(dict(header=dict(value=dict(type=frame_type, fields=fields))))


def build_entry_frame(entry: Entry) -> bytes:
    return _build_frame_head(FRAME_ENTRY, entry._fields())


def entry_frame_size(entry: Entry) -> int:
    """len(build_entry_frame(entry)), without building it."""
    return ENTRY_FRAME_FIXED + len(os.fsencode(entry.path)) + len(os.fsencode(entry.target))


def build_block_head(header: BlockHeader) -> bytes:
    """A block frame up to its payload; the writer writes the `stored_size` payload bytes next."""
    fields = dict(
        codec=header.codec, version=header.version,
        options=[dict(key=k, value=v) for k, v in header.options.items()],
        raw_size=header.raw_size, stored_size=header.stored_size,
        raw_hash=header.raw_hash, stored_hash=header.stored_hash,
    )
    return _build_frame_head(FRAME_BLOCK, fields)


def build_index_frame(index: Index) -> bytes:
    codecs: dict[tuple[str, int], int] = {}
    refs = [ref for block_list in index.blocks for ref in block_list]
    codec_refs = [codecs.setdefault((ref.codec, ref.version), len(codecs)) for ref in refs]
    records = [entry._fields() for entry in index.entries]
    fields = dict(
        codecs=[dict(name=name, version=version) for name, version in codecs],
        kinds=[record["kind"] for record in records],
        modes=[record["mode"] for record in records],
        mtimes=[record["mtime_ns"] for record in records],
        sizes=[record["size"] for record in records],
        block_counts=[len(block_list) for block_list in index.blocks],
        path_lengths=[len(record["path"]) for record in records],
        target_lengths=[len(record["target"]) for record in records],
        paths=b"".join(record["path"] for record in records),
        targets=b"".join(record["target"] for record in records),
        offsets=[ref.offset for ref in refs],
        raw_sizes=[ref.raw_size for ref in refs],
        stored_sizes=[ref.stored_size for ref in refs],
        codec_refs=codec_refs,
    )
    return _build_frame_head(FRAME_INDEX, fields)


def build_footer(index_offset: int, index_size: int) -> bytes:
    return Footer.build(
        dict(header=dict(value=dict(index_offset=index_offset, index_size=index_size)))
    )


# -- parsing -------------------------------------------------------------------------------------


class ReplayableStream:
    """A forward-only stream (a pipe) made tellable, and seekable backwards within the frame
    being parsed, which is all `construct` needs. Call `release()` after each frame so the
    buffered bytes of finished frames are dropped."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._buffer = bytearray()
        self._start = 0  # absolute position of _buffer[0]
        self._position = 0

    def seekable(self) -> bool:
        return False  # so length checks against "the bytes that remain" are skipped

    def tell(self) -> int:
        return self._position

    def seek(self, position: int, whence: int = io.SEEK_SET) -> int:
        if whence != io.SEEK_SET or not self._start <= position <= self._start + len(self._buffer):
            raise OSError("cannot seek outside the current frame of a stream")
        self._position = position
        return position

    def read(self, count: int = -1) -> bytes:
        offset = self._position - self._start
        while count < 0 or len(self._buffer) - offset < count:
            more = self._raw.read(1 << 16 if count < 0 else count - (len(self._buffer) - offset))
            if not more:
                break
            self._buffer += more
        end = len(self._buffer) if count < 0 else min(len(self._buffer), offset + count)
        data = bytes(memoryview(self._buffer)[offset:end])  # one copy, not two
        self._position = self._start + end
        return data

    def release(self) -> None:
        del self._buffer[: self._position - self._start]
        self._start = self._position


def _field_name(error: c.ConstructError) -> str:
    path = getattr(error, "path", None) or ""
    names = [part.strip() for part in path.split("->")[1:]]
    names = [n for n in names if n not in ("header", "value", "fields", "entry", "subcon")]
    return " ".join(names) or "field"


def _describe(error: c.ConstructError, what: str) -> FormatError:
    """One line saying which field of which frame is wrong. Values from the archive are shown
    through ascii(), so a crafted archive cannot send control characters to the terminal."""
    if isinstance(error, c.ChecksumError):
        return ChecksumError(f"{what}: checksum mismatch (the archive is corrupt)")
    if isinstance(error, c.ConstError):
        return FormatError(f"{what}: bad magic number (not a pyarc archive, or corrupt)")
    if isinstance(error, _Truncated):
        return FormatError(f"{what}: truncated: {error.args[0]}")
    if isinstance(error, c.StreamError):
        return FormatError(f"{what}: truncated (the archive ends too early)")
    if isinstance(error, c.StringError):
        return FormatError(f"{what}: invalid {_field_name(error)} (not ASCII text)")
    if isinstance(error, _RuleBroken):
        return FormatError(f"{what}: {error.args[0]}")
    if isinstance(error, c.ValidationError):
        value = str(error).split("object failed validation:", 1)[-1].split("\n")[0].strip()
        value = ascii(value.split(" (parsing)")[0])[1:-1]
        if len(value) > 40:
            value = value[:37] + "..."
        return FormatError(f"{what}: invalid {_field_name(error)} ({value})")
    return FormatError(f"{what}: unreadable ({ascii(str(error))[1:-1]})")


def _parse(struct: c.Construct, stream: Any, what: str) -> Any:
    try:
        return struct.parse_stream(stream)
    except c.ConstructError as error:
        raise _describe(error, what) from None


def parse_header(stream: Any) -> tuple[int, int]:
    """Read and check the archive header; return (format minor version, nominal block size)."""
    parsed = _parse(Header, stream, "archive header").header.value
    return int(parsed.minor), int(parsed.block_size)


def parse_footer(data: bytes, offset: int) -> tuple[int, int]:
    """Check the last FOOTER_SIZE bytes of an archive; return (index_offset, index_size)."""
    what = f"footer at offset {offset}"
    if len(data) < FOOTER_SIZE:
        raise FormatError(f"{what}: truncated (the archive ends too early)")
    try:
        EndMagic.parse(data[-len(END_MAGIC):])
    except c.ConstError:
        raise FormatError(f"{what}: no end marker (the archive is truncated or has data "
                          f"appended)") from None
    parsed = _parse(Footer, io.BytesIO(data), what).header.value
    return int(parsed.index_offset), int(parsed.index_size)


def parse_frame(stream: Any, offset: int, what: str = "") -> ParsedFrame:
    """Read one frame (entry, block with payload, or index) at the stream's position;
    `offset` is its position in the archive, and `what` how errors name the frame (by default
    "frame at offset N")."""
    what = what or f"frame at offset {offset}"
    start = stream.tell()
    if not stream.read(1):
        raise FormatError(f"{what}: truncated (the archive ends too early)")
    stream.seek(start)
    parsed = _parse(Frame, stream, what)
    kind, fields = parsed.header.value.type, parsed.header.value.fields
    if kind == FRAME_ENTRY:
        return ParsedFrame(offset, entry=Entry._from_fields(fields))
    if kind == FRAME_BLOCK:
        header = BlockHeader(
            codec=fields.codec, version=fields.version,
            options={option.key: option.value for option in fields.options},
            raw_size=fields.raw_size, stored_size=fields.stored_size,
            raw_hash=fields.raw_hash, stored_hash=fields.stored_hash,
        )
        return ParsedFrame(offset, block=header, payload=parsed.payload)
    return ParsedFrame(offset, index=_index_from_fields(fields))


def _split(joined: bytes, lengths: array) -> list[bytes]:
    """The byte strings of the given lengths that `joined` holds back to back."""
    return [joined[start:end] for start, end in pairwise(accumulate(lengths, initial=0))]


def _index_from_fields(fields: Any) -> Index:
    """Rows from the index's columns, each checked by the rules entry frames obey."""
    codecs = [(ref.name, ref.version) for ref in fields.codecs]
    if sum(fields.block_counts) != len(fields.offsets):
        raise FormatError(f"index: the entries claim {sum(fields.block_counts)} blocks but "
                          f"the index lists {len(fields.offsets)}")
    paths = _split(fields.paths, fields.path_lengths)
    targets = _split(fields.targets, fields.target_lengths)
    if not _columns_pass(fields, paths, len(codecs)):
        _refuse_first_bad_row(fields, paths, targets, len(codecs))
    names, versions = [name for name, _ in codecs], [version for _, version in codecs]
    refs = list(map(BlockRef, fields.offsets, fields.raw_sizes, fields.stored_sizes,
                    map(names.__getitem__, fields.codec_refs),
                    map(versions.__getitem__, fields.codec_refs)))
    entries = list(map(Entry, map(os.fsdecode, paths), map(_KINDS.__getitem__, fields.kinds),
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
        problem = entry_problem(kind, fields.modes[number], fields.sizes[number], path,
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
        max(kinds, default=0) < len(_KINDS)
        and max(fields.modes, default=0) <= 0o7777
        and not any(compress(sizes, kinds))
        and b"\0" not in fields.paths
        and max(fields.path_lengths, default=0) <= MAX_PATH
        and _BAD_COMPONENTS.isdisjoint(components)
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
