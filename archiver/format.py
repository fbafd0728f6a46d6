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
import os
import re
from dataclasses import dataclass, field
from typing import IO, Any

import construct as c
import xxhash
from construct import this

from archiver.codec import CODEC_NAME, MAX_OPTION_VALUE_LEN, OPTION_NAME
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
MAX_OPTIONS = 32  # options per block
MAX_ENTRIES = 1 << 24
MAX_BLOCKS = 1 << 28
MAX_INDEX_SIZE = 256 * MiB

HEADER_SIZE = 20
FOOTER_SIZE = 24
# The smallest possible encodings, used to check counts against the bytes that remain.
MIN_INDEX_ENTRY = 1 + 2 + 8 + 8 + 2 + 1 + 2 + 4
BLOCK_REF_SIZE = 8 + 4 + 4 + 2
MIN_BLOCK_HEADER = 1 + 1 + 1 + 2 + 1 + 4 + 4 + 8 + 8 + 4


class Kind(enum.IntEnum):
    FILE = 0
    DIRECTORY = 1
    SYMLINK = 2


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


def _fits(ctx: Any, length: int, after: int = 0) -> bool:
    """When parsing, true if `length` bytes (plus `after` bytes of fixed fields) remain."""
    if not ctx._parsing:
        return True
    left = _remaining(ctx._io)
    return left is None or length + after <= left


def is_valid_path(path: bytes) -> bool:
    """A stored path: relative, '/'-separated, no empty, '.' or '..' components, no NUL."""
    if not 0 < len(path) <= MAX_PATH or b"\0" in path:
        return False
    return all(
        part not in (b"", b".", b"..") and len(part) <= MAX_COMPONENT for part in path.split(b"/")
    )


def _length_prefixed(length_type: c.Construct, limit: range) -> c.Construct:
    """A byte string preceded by its length; the length is checked against `limit` and against
    the bytes that remain before the string is read."""
    return c.Prefixed(
        c.ExprValidator(length_type, lambda n, ctx: n in limit and _fits(ctx, n)),
        c.GreedyBytes,
    )


def _short_name(pattern: re.Pattern[str], longest: int) -> c.Construct:
    """An ASCII name of 1..`longest` characters, preceded by a one-byte length, matching `pattern`."""
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


def _check_major(version: int, _: Any) -> bool:
    if version > FORMAT_MAJOR:
        raise UnsupportedVersionError(
            f"archive format version {version} is newer than this pyarc reads "
            f"({FORMAT_MAJOR}.x); upgrade pyarc"
        )
    return version == FORMAT_MAJOR


# -- archive header --------------------------------------------------------------------------

Header = _checked(
    c.Struct(
        "magic" / c.Const(MAGIC),
        "major" / c.ExprValidator(c.Int8ul, _check_major),
        "minor" / c.Int8ul,
        "flags" / c.ExprValidator(c.Int16ul, lambda v, _: v == 0),
        "block_size" / c.ExprValidator(c.Int32ul, lambda v, _: 1 <= v <= MAX_BLOCK_SIZE),
    )
)

# -- entries ---------------------------------------------------------------------------------

_EntryFields = c.Struct(
    "kind" / c.ExprValidator(c.Int8ul, lambda v, _: v in (0, 1, 2)),
    "mode" / c.ExprValidator(c.Int16ul, lambda v, _: v <= 0o7777),
    "mtime_ns" / c.Int64sl,
    "size" / c.ExprValidator(c.Int64ul, lambda v, ctx: ctx.kind == Kind.FILE or v == 0),
    # An empty path names the one unnamed entry of a single-stream archive (see check_index).
    "path" / c.ExprValidator(
        _length_prefixed(c.Int16ul, range(0, MAX_PATH + 1)),
        lambda v, ctx: is_valid_path(v) or (v == b"" and ctx.kind == Kind.FILE),
    ),
    "target" / c.ExprValidator(
        _length_prefixed(c.Int16ul, range(0, MAX_PATH + 1)),
        lambda v, ctx: (len(v) > 0 and b"\0" not in v) == (ctx.kind == Kind.SYMLINK),
    ),
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

_BlockFields = c.Struct(
    "codec" / _short_name(CODEC_NAME, 32),
    "version" / c.Int16ul,
    "options" / c.PrefixedArray(
        c.ExprValidator(c.Int8ul, lambda n, _: n <= MAX_OPTIONS), _Option
    ),
    "raw_size" / c.ExprValidator(c.Int32ul, lambda v, _: 1 <= v <= MAX_BLOCK_SIZE),
    # A writer stores a block it cannot shrink with `store`, so stored_size <= raw_size.
    "stored_size" / c.ExprValidator(
        c.Int32ul, lambda v, ctx: v <= ctx.raw_size and _fits(ctx, v, after=8 + 8 + 4)
    ),
    "raw_hash" / c.Int64ul,
    "stored_hash" / c.Int64ul,
)

# -- index -----------------------------------------------------------------------------------

_CodecRef = c.Struct("name" / _short_name(CODEC_NAME, 32), "version" / c.Int16ul)

_BlockRef = c.Struct(
    "offset" / c.Int64ul,
    "raw_size" / c.ExprValidator(c.Int32ul, lambda v, _: 1 <= v <= MAX_BLOCK_SIZE),
    "stored_size" / c.ExprValidator(c.Int32ul, lambda v, ctx: v <= ctx.raw_size),
    "codec" / c.ExprValidator(c.Int16ul, lambda v, ctx: v < ctx._.codec_count),
)

_IndexEntry = c.Struct(
    "entry" / _EntryFields,
    "block_count" / c.ExprValidator(
        c.Int32ul, lambda v, ctx: v == 0 or ctx.entry.kind == Kind.FILE
    ),
)

_IndexFields = c.Struct(
    "codec_count" / c.Rebuild(c.Int16ul, c.len_(this.codecs)),
    "codecs" / c.Array(this.codec_count, _CodecRef),
    "entry_count" / c.Rebuild(
        c.ExprValidator(c.Int32ul, lambda n, ctx: n <= MAX_ENTRIES and _fits(ctx, n * MIN_INDEX_ENTRY)),
        c.len_(this.entries),
    ),
    "entries" / c.Array(this.entry_count, _IndexEntry),
    "block_count" / c.Rebuild(
        c.ExprValidator(c.Int32ul, lambda n, ctx: n <= MAX_BLOCKS and _fits(ctx, n * BLOCK_REF_SIZE)),
        c.len_(this.blocks),
    ),
    "blocks" / c.Array(this.block_count, _BlockRef),
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


# -- the values the rest of pyarc works with ----------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One archived file, directory or symlink. `path` and `target` are file-system strings
    (os.fsdecode of the stored bytes)."""

    path: str
    kind: Kind
    mode: int
    mtime_ns: int
    size: int = 0
    target: str = ""

    def _fields(self) -> dict[str, Any]:
        return dict(
            kind=int(self.kind), mode=self.mode, mtime_ns=self.mtime_ns, size=self.size,
            path=os.fsencode(self.path), target=os.fsencode(self.target),
        )

    @classmethod
    def _from_fields(cls, fields: Any) -> Entry:
        return cls(
            path=os.fsdecode(fields.path), kind=Kind(fields.kind), mode=fields.mode,
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


@dataclass(frozen=True)
class BlockRef:
    """An index record: where a block frame starts and what it holds."""

    offset: int
    raw_size: int
    stored_size: int
    codec: str
    version: int


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
    blocks = []
    for refs in index.blocks:
        for ref in refs:
            number = codecs.setdefault((ref.codec, ref.version), len(codecs))
            blocks.append(dict(offset=ref.offset, raw_size=ref.raw_size,
                               stored_size=ref.stored_size, codec=number))
    fields = dict(
        codecs=[dict(name=name, version=version) for name, version in codecs],
        entries=[dict(entry=entry._fields(), block_count=len(refs))
                 for entry, refs in zip(index.entries, index.blocks, strict=True)],
        blocks=blocks,
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
        data = bytes(self._buffer[offset:end])
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
    if isinstance(error, c.ChecksumError):
        return ChecksumError(f"{what}: checksum mismatch (the archive is corrupt)")
    if isinstance(error, c.ConstError):
        return FormatError(f"{what}: bad magic number (not a pyarc archive, or corrupt)")
    if isinstance(error, c.StreamError):
        return FormatError(f"{what}: truncated (the archive ends too early)")
    if isinstance(error, c.StringError):
        return FormatError(f"{what}: invalid {_field_name(error)} (not ASCII text)")
    if isinstance(error, c.ValidationError):
        value = str(error).split("object failed validation:", 1)[-1].split("\n")[0].strip()
        value = value.split(" (parsing)")[0]
        if len(value) > 40:
            value = value[:37] + "..."
        return FormatError(f"{what}: invalid {_field_name(error)} ({value})")
    return FormatError(f"{what}: unreadable ({error})")


def _parse(struct: c.Construct, stream: Any, what: str) -> Any:
    try:
        return struct.parse_stream(stream)
    except c.ConstructError as error:
        raise _describe(error, what) from None


def parse_header(stream: Any) -> int:
    """Read and check the archive header; return the writer's nominal block size."""
    parsed = _parse(Header, stream, "archive header")
    return int(parsed.header.value.block_size)


def parse_footer(stream: Any, offset: int) -> tuple[int, int]:
    """Read the footer at the stream's position; return (index_offset, index_size)."""
    parsed = _parse(Footer, stream, f"footer at offset {offset}")
    return int(parsed.header.value.index_offset), int(parsed.header.value.index_size)


def parse_frame(stream: Any, offset: int) -> ParsedFrame:
    """Read one frame (entry, block with payload, or index) at the stream's position;
    `offset` is its position in the archive, for messages."""
    start = stream.tell()
    if not stream.read(1):
        raise FormatError(f"frame at offset {offset}: truncated (the archive ends too early)")
    stream.seek(start)
    parsed = _parse(Frame, stream, f"frame at offset {offset}")
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


def _index_from_fields(fields: Any) -> Index:
    codecs = [(ref.name, ref.version) for ref in fields.codecs]
    index = Index()
    position = 0
    for record in fields.entries:
        refs = []
        for block in fields.blocks[position: position + record.block_count]:
            name, version = codecs[block.codec]
            refs.append(BlockRef(block.offset, block.raw_size, block.stored_size, name, version))
        position += record.block_count
        index.entries.append(Entry._from_fields(record.entry))
        index.blocks.append(refs)
    if position != len(fields.blocks):
        raise FormatError(
            f"index: entries claim {position} blocks but the index lists {len(fields.blocks)}"
        )
    return index


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
