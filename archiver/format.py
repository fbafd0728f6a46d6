"""What every version of the pyarc container format shares, as `construct` definitions.

spec/FORMAT.md (format 2.0, what pyarc writes) and spec/FORMAT-1.0.md (format 1.0, which pyarc
reads forever) are the normative descriptions; this module, archiver/format1.py and
archiver/format2.py implement them field by field and are the only places where archive bytes
are parsed or built. Every length is validated against a hard cap and against the bytes that
remain *before* the bytes are read, so a corrupt length can never make the reader allocate
more than the caps below.

Shared by both versions: the 20-byte header (its layout never changes), the 24-byte footer,
the codec and option fields of block frames, the rules of an entry, and how errors are named.
All integers are little-endian. Frame headers are protected by XXH32; data by XXH3-64.
"""

from __future__ import annotations

import enum
import io
import os
import re
import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate, pairwise
from typing import IO, Any

import construct as c
import xxhash
from construct import this

from archiver.codec import CODEC_NAME, MAX_OPTION_VALUE_LEN, MAX_OPTIONS, OPTION_NAME
from archiver.errors import ChecksumError, FormatError, PyarcError, UnsupportedVersionError

MAGIC = b"\x89PYARC\r\n"
END_MAGIC = b"PYA\x1a"
#: The version pyarc writes. It reads every major version from 1 to ENCRYPTED_MAJOR, the
#: envelope of an encrypted archive (archiver/encryption.py), which holds a format 2 archive.
FORMAT_MAJOR = 2
FORMAT_MINOR = 0
ENCRYPTED_MAJOR = 3

KiB = 1024
MiB = 1024 * KiB
#: pyarc's default largest block, the solid size. 4 MiB: extracting one file decodes at most
#: 4 MiB (under a second with rep, where 8 MiB blocks made one file of the 14 MB stdlib tree
#: cost as much as the whole tree on two cores), at 3% in size on that tree and 1% on the
#: Linux headers and a 100 MB tar against 8 MiB; a block's PPM model stays well within its
#: 256 MiB (docs/solid.md has the figures).
DEFAULT_BLOCK_SIZE = 4 * MiB
#: The block size of `--solid off` (one file per block: random access over size).
DEFAULT_UNSOLID_BLOCK_SIZE = 1 * MiB
MIN_BLOCK_SIZE = 1 * KiB  # the smallest nominal block size a writer may choose
MAX_BLOCK_SIZE = 64 * MiB  # the largest raw size of any block (caps the reader's memory)
MAX_PATH = 4096  # bytes in an entry path or symlink target
MAX_COMPONENT = 255  # bytes in one path component
MAX_ENTRIES = 1 << 24
MAX_BLOCKS = 1 << 28
MAX_INDEX_SIZE = 256 * MiB

HEADER_SIZE = 20
FOOTER_SIZE = 24


class Kind(enum.IntEnum):
    FILE = 0
    DIRECTORY = 1
    SYMLINK = 2
    #: Another name of a file stored earlier: `target` is that entry's path (format 2).
    HARDLINK = 3
    #: A named pipe (format 2).
    FIFO = 4


#: Every kind, by its number (Kind(n) is slower, and bodies hold a kind per entry).
KINDS = tuple(Kind)

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


class Truncated(c.StreamError):
    """A length that claims more bytes than the archive has left."""


def fits(ctx: Any, field_name: str, length: int, after: int = 0) -> bool:
    """When parsing, check that the `length` bytes a field declares (plus `after` bytes of fixed
    fields) remain, so that nothing is allocated for a length a damaged archive claims."""
    if ctx._parsing:
        left = _remaining(ctx._io)
        if left is not None and length + after > left:
            raise Truncated(f"{field_name}: {length} bytes declared but only "
                             f"{max(left - after, 0)} remain")
    return True


BAD_COMPONENTS = frozenset((b"", b".", b".."))


def is_valid_path(path: bytes) -> bool:
    """A stored path: relative, '/'-separated, no empty, '.' or '..' components, no NUL."""
    if not 0 < len(path) <= MAX_PATH or b"\0" in path:
        return False
    parts = path.split(b"/")
    return BAD_COMPONENTS.isdisjoint(parts) and (len(path) <= MAX_COMPONENT
                                                 or max(map(len, parts)) <= MAX_COMPONENT)


def entry_problem(kind: int, mode: int, size: int, path: bytes, target: bytes,
                  kinds: tuple[Kind, ...] = KINDS,
                  extents: tuple[tuple[int, int], ...] | None = None,
                  xattr_names: tuple[bytes, ...] = (), xattr_sizes: tuple[int, ...] = ()
                  ) -> str | None:
    """What is wrong with an entry record, or None: the one statement of the entry rules
    (spec/FORMAT.md section 8; FORMAT-1.0.md section 6 for its three kinds), applied to every
    record wherever it is stored."""
    if not 0 <= kind < len(kinds):
        return f"entry {shown(path)}: unknown kind {kind}"
    if mode > 0o7777:
        return f"entry {shown(path)}: mode {mode:#o} has bits beyond the permission bits"
    if kind != Kind.FILE and size != 0:
        return f"entry {shown(path)}: a {kinds[kind].name.lower()} cannot have a size ({size})"
    # An empty path names the one unnamed entry of a single-stream archive (see check_index).
    if not (is_valid_path(path) or (path == b"" and kind == Kind.FILE)):
        return f"unsafe or malformed path {shown(path)}"
    if kind == Kind.SYMLINK:
        if not 0 < len(target) <= MAX_PATH or b"\0" in target:
            return f"symlink {shown(path)}: malformed target"
    elif kind == Kind.HARDLINK:
        if not is_valid_path(target):
            return f"hard link {shown(path)}: malformed target"
    elif target:
        only = "a symlink" if len(kinds) <= Kind.HARDLINK else "a symlink or a hard link"
        return f"entry {shown(path)}: only {only} has a target"
    if extents is not None and not _valid_extents(kind, size, extents):
        return f"entry {shown(path)}: invalid extents"
    if xattr_names and not _valid_xattrs(xattr_names, xattr_sizes):
        return f"entry {shown(path)}: invalid extended attributes"
    return None


def _valid_extents(kind: int, size: int, extents: tuple[tuple[int, int], ...]) -> bool:
    """Only a file has extents: sorted, apart, each at least a byte, within its size."""
    end = 0
    for offset, length in extents:
        if offset < end or length < 1:
            return False
        end = offset + length
    return kind == Kind.FILE and end <= size


#: The largest value of one extended attribute (Linux's own limit).
MAX_XATTR_VALUE = 65536


def _valid_xattrs(names: tuple[bytes, ...], sizes: tuple[int, ...]) -> bool:
    return (all(0 < len(name) <= 255 and b"\0" not in name for name in names)
            and all(map(bytes.__lt__, names, names[1:]))
            and max(sizes, default=0) <= MAX_XATTR_VALUE)


def shown(path: bytes) -> str:
    return repr(os.fsdecode(path))  # repr: no control characters reach the terminal


class RuleBroken(c.ConstructError):
    """A rule that spans several fields of a record; its message says which."""


class InvalidValue(c.ValidationError):
    """A field whose value breaks its rule. It keeps the value, so that messages are made from
    it rather than from construct's wording."""

    def __init__(self, value: Any, path: str | None) -> None:
        super().__init__(f"invalid value {value!r}", path=path)
        self.value = value


class Valid(c.Validator):
    """A field whose value must satisfy `rule(value, context)`, as construct's ExprValidator,
    raising InvalidValue when it does not (parsing or building)."""

    def __init__(self, subcon: c.Construct, rule: Callable[[Any, Any], Any]) -> None:
        super().__init__(subcon)
        self.rule = rule

    def _validate(self, obj: Any, context: Any, path: str) -> bool:
        return bool(self.rule(obj, context))

    def _decode(self, obj: Any, context: Any, path: str) -> Any:
        if not self._validate(obj, context, path):
            raise InvalidValue(obj, path)
        return obj


def length_prefixed(length_type: c.Construct, limit: range, field_name: str) -> c.Construct:
    """A byte string preceded by its length; the length is checked against `limit` and against
    the bytes that remain before the string is read."""
    return c.Prefixed(
        Valid(length_type, lambda n, ctx: n in limit and fits(ctx, field_name, n)),
        c.GreedyBytes,
    )


def short_name(pattern: re.Pattern[str], longest: int) -> c.Construct:
    """An ASCII name of 1..`longest` characters after a one-byte length, matching `pattern`."""
    return Valid(
        c.PascalString(Valid(c.Int8ul, lambda n, _: 1 <= n <= longest), "ascii"),
        lambda v, _: pattern.fullmatch(v) is not None,
    )


def checked(fields: c.Construct, *tail: c.Construct) -> c.Struct:
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
    if header.major > ENCRYPTED_MAJOR:
        raise UnsupportedVersionError(
            f"archive format version {header.major} is newer than this pyarc reads "
            f"(up to {ENCRYPTED_MAJOR}.x); upgrade pyarc"
        )
    if header.major == 0:
        raise RuleBroken(f"unknown format version {header.major}")
    if header.flags != 0:
        raise RuleBroken(f"unknown flags {header.flags:#06x}")
    if not 1 <= header.block_size <= MAX_BLOCK_SIZE:
        raise RuleBroken(f"block size {header.block_size} out of range")
    return True


# -- archive header --------------------------------------------------------------------------

Header = checked(
    c.Struct(
        "magic" / c.Const(MAGIC),
        "major" / c.Int8ul,
        "minor" / c.Int8ul,
        "flags" / c.Int16ul,
        "block_size" / c.Int32ul,
    ),
    c.Check(_header_rules),
)

# -- blocks ----------------------------------------------------------------------------------

OptionField = c.Struct(
    "key" / short_name(OPTION_NAME, 32),
    "value" / Valid(
        c.PascalString(
            Valid(c.Int8ul, lambda n, _: 1 <= n <= MAX_OPTION_VALUE_LEN), "ascii"
        ),
        lambda v, _: v.isprintable(),
    ),
)

def options_once(options: Any) -> bool:
    keys = [option["key"] for option in options]  # dicts when building, containers parsing
    for key in keys:
        if keys.count(key) > 1:
            raise RuleBroken(f"block option {key!r} appears twice")
    return True


def coded_fields(max_raw: int) -> c.Struct:
    """The fields of a frame whose payload a codec made (a format 1.0 block; a format 2 block,
    table or index), up to the payload: the codec, its version and complete options, the sizes
    and the two hashes. A writer stores a payload it cannot shrink with `store`, so
    stored_size <= raw_size always holds; raw_size is at most `max_raw`."""
    return c.Struct(
        "codec" / short_name(CODEC_NAME, 32),
        "version" / c.Int16ul,
        "options" / Valid(
            c.PrefixedArray(Valid(c.Int8ul, lambda n, _: n <= MAX_OPTIONS), OptionField),
            lambda options, _: options_once(options),
        ),
        "raw_size" / Valid(c.Int32ul, lambda v, _: 1 <= v <= max_raw),
        "stored_size" / Valid(
            c.Int32ul,
            lambda v, ctx: v <= ctx.raw_size and fits(ctx, "stored_size", v, after=8 + 8 + 4),
        ),
        "raw_hash" / c.Int64ul,
        "stored_hash" / c.Int64ul,
    )


def header_of(fields: Any) -> BlockHeader:
    """The BlockHeader of parsed coded fields."""
    return BlockHeader(
        codec=fields.codec, version=fields.version,
        options={option.key: option.value for option in fields.options},
        raw_size=fields.raw_size, stored_size=fields.stored_size,
        raw_hash=fields.raw_hash, stored_hash=fields.stored_hash,
    )


def coded_to_fields(header: BlockHeader) -> dict[str, Any]:
    """The inverse of header_of, for building."""
    return dict(
        codec=header.codec, version=header.version,
        options=[dict(key=k, value=v) for k, v in header.options.items()],
        raw_size=header.raw_size, stored_size=header.stored_size,
        raw_hash=header.raw_hash, stored_hash=header.stored_hash,
    )


class Column(c.Adapter):
    """`count` integers of one width, stored back to back little-endian and read in one piece
    into an `array.array`: the index is stored column by column so that even an index of
    millions of entries parses in a few construct steps."""

    def __init__(self, typecode: str, count: Any) -> None:
        self.typecode = typecode
        width = array(typecode).itemsize
        super().__init__(c.Bytes(lambda ctx: c.evaluate(count, ctx) * width))

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

CodecRef = c.Struct("name" / short_name(CODEC_NAME, 32), "version" / c.Int16ul)


Footer = checked(
    c.Struct(
        "index_offset" / c.Int64ul,
        "index_size" / Valid(c.Int64ul, lambda v, _: v <= MAX_INDEX_SIZE),
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
    """An index record: where a block frame starts, what it holds, and where its data lies in
    the data stream (format 1.0: each file's blocks in turn; format 2: the block's own field).
    `group` is the kind group the writer filled it with ('' in format 1.0)."""

    offset: int
    raw_size: int
    stored_size: int
    codec: str
    version: int
    data_offset: int = 0
    group: str = ""

    @classmethod
    def at(cls, offset: int, header: BlockHeader, data_offset: int = 0,
           group: str = "") -> BlockRef:
        """The index record of the block frame with this header at this offset."""
        return cls(offset, header.raw_size, header.stored_size, header.codec, header.version,
                   data_offset, group)

    @property
    def data_end(self) -> int:
        return self.data_offset + self.raw_size


# -- building ------------------------------------------------------------------------------------


def build_header(block_size: int, major: int = FORMAT_MAJOR) -> bytes:
    return Header.build(
        dict(header=dict(value=dict(major=major, minor=FORMAT_MINOR, flags=0,
                                    block_size=block_size)))
    )


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


def describe(error: c.ConstructError, what: str) -> FormatError:
    """One line saying which field of which frame is wrong. Values from the archive are shown
    through ascii(), so a crafted archive cannot send control characters to the terminal."""
    if isinstance(error, c.ChecksumError):
        return ChecksumError(f"{what}: checksum mismatch (the archive is corrupt)")
    if isinstance(error, c.ConstError):
        return FormatError(f"{what}: bad magic number (not a pyarc archive, or corrupt)")
    if isinstance(error, Truncated):
        return FormatError(f"{what}: truncated: {error.args[0]}")
    if isinstance(error, c.StreamError):
        return FormatError(f"{what}: truncated (the archive ends too early)")
    if isinstance(error, c.StringError):
        return FormatError(f"{what}: invalid {_field_name(error)} (not ASCII text)")
    if isinstance(error, RuleBroken):
        return FormatError(f"{what}: {error.args[0]}")
    if isinstance(error, InvalidValue):
        value = ascii(str(error.value))[1:-1]
        if len(value) > 40:
            value = value[:37] + "..."
        return FormatError(f"{what}: invalid {_field_name(error)} ({value})")
    return FormatError(f"{what}: unreadable ({ascii(str(error))[1:-1]})")


def parse_with(struct: c.Construct, stream: Any, what: str) -> Any:
    try:
        return struct.parse_stream(stream)
    except c.ConstructError as error:
        if isinstance(error.__context__, PyarcError):
            # The stream's own error (a chunk of an encrypted archive that fails to
            # authenticate), which construct reports as a failed read.
            raise error.__context__ from None
        raise describe(error, what) from None


def frame_name(offset: int, what: str = "") -> str:
    """How errors name a frame: `what`, by default "frame at offset N"."""
    return what or f"frame at offset {offset}"


def parse_frame_at(frame: c.Construct, stream: Any, offset: int, what: str) -> Any:
    """One frame of either format from the stream's position (`offset` in the archive), parsed
    by `frame`; errors name it `what`, by default "frame at offset N"."""
    what = frame_name(offset, what)
    start = stream.tell()
    if not stream.read(1):
        raise FormatError(f"{what}: truncated (the archive ends too early)")
    stream.seek(start)
    return parse_with(frame, stream, what)


def read_payload(stream: Any, size: int, what: str) -> bytes:
    """The `size` bytes of payload after a frame header just parsed (its checksum passed, its
    `stored_size` checked against what remains). Read here, not by construct: its parsing
    contexts are reference cycles, and a payload in one would stay in memory until the cycle
    collector ran, so that reading an archive of stored blocks would grow with the archive."""
    payload = stream.read(size)
    if len(payload) < size:
        raise FormatError(f"{what}: truncated (the archive ends too early)")
    return payload


def parse_header(stream: Any) -> tuple[int, int, int]:
    """Read and check the archive header; return (major, minor, nominal block size)."""
    parsed = parse_with(Header, stream, "archive header").header.value
    return int(parsed.major), int(parsed.minor), int(parsed.block_size)


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
    parsed = parse_with(Footer, io.BytesIO(data), what).header.value
    return int(parsed.index_offset), int(parsed.index_size)


def split_joined(joined: bytes, lengths: array) -> list[bytes]:
    """The byte strings of the given lengths that `joined` holds back to back."""
    return [joined[start:end] for start, end in pairwise(accumulate(lengths, initial=0))]
