"""`rep`: long repeats replaced by references, then PPM on what is left (FreeArc's REP+PPMd).

The long repeats of a block, however far back their earlier copy (repeats_kernel.py finds
them), become references (literal run, length, distance), coded as varints by an order-2 PPM;
PPM with the codec's `order` and `memory` codes only the bytes that no repeat claims, which is
smaller and faster than PPM alone on solid blocks of source trees (docs/solid.md section 2).

The payload is specified in spec/codecs/rep.md.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable

from archiver import Codec, CodecError, Option, hookimpl
from pyarc_plugins.coding.kind_byte import stored_block, with_kind
from pyarc_plugins.ppm import PpmCodec, model_kernel
from pyarc_plugins.rep import repeats_kernel

REPEATS = 0  # a payload is of kind REPEATS or (as ppm's) STORED, its first byte
MIB = 1 << 20
#: The PPM model of the references: short contexts suit numbers that are alike field by field.
REF_ORDER = 2
REF_MEMORY = 16 * MIB
MAX_VARINT_BYTES = 5


def write_varints(values: Iterable[int], out: bytearray) -> None:
    """LEB128: seven bits a byte, low bits first, the top bit set on every byte but the last."""
    for value in values:
        while value >= 0x80:
            out.append(value & 0x7F | 0x80)
            value >>= 7
        out.append(value)


class _Reader:
    """LEB128 values read from bytes, with every read checked against the end."""

    def __init__(self, data: bytes | memoryview) -> None:
        self.data = data
        self.pos = 0

    def varint(self) -> int:
        value = shift = 0
        for _ in range(MAX_VARINT_BYTES):
            if self.pos >= len(self.data):
                raise CodecError("rep: payload ends inside a number")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
        raise CodecError("rep: a number longer than 5 bytes")


class RepCodec(Codec):
    name = "rep"
    version = 1
    decode_rank = 85  # PPM's decoding plus the copies: on a tie, plain ppm is kept
    description = "long repeats as references (REP), then PPM on the rest: for solid blocks"
    option_specs = (
        Option("min", 128, "shortest repeat taken out, in bytes", minimum=16, maximum=65536),
        Option("order", 6, "PPM: longest context in bytes", minimum=1, maximum=64),
        Option("memory", 256, "PPM: model memory limit in MiB", minimum=1, maximum=1024),
    )
    kernels = ("pyarc_plugins.rep.repeats_kernel", *PpmCodec.kernels)

    def _settings(self) -> tuple[int, int, int]:
        return (int(self.options["min"]), int(self.options["order"]),
                int(self.options["memory"]) * MIB)

    def encode(self, data: bytes) -> bytes:
        if not data:
            return b""
        minimum, order, memory = self._settings()
        runs, lengths, distances, literals = repeats_kernel.find(bytes(data), minimum)
        out = bytearray()
        write_varints((len(runs), len(literals)), out)
        if runs:
            references = bytearray()
            write_varints(runs, references)
            write_varints((length - minimum for length in lengths), references)
            write_varints((distance - 1 for distance in distances), references)
            coded = model_kernel.encode(bytes(references), REF_ORDER, REF_MEMORY)
            write_varints((len(references), len(coded)), out)
            out += coded
        if literals:
            out += model_kernel.encode(literals, order, memory)
        return with_kind(REPEATS, out, data)

    def decode(self, payload: bytes, size: int) -> bytes:
        if self.empty_block(payload, size):
            return b""
        stored = stored_block(self.name, payload, size, REPEATS)
        if stored is not None:
            return stored
        minimum, order, memory = self._settings()
        view = memoryview(payload)
        reader = _Reader(view)
        reader.pos = 1
        count, literal_count = reader.varint(), reader.varint()
        # Each repeat yields at least `minimum` bytes: these bounds come before any allocation.
        if count > size // minimum or literal_count > size:
            raise CodecError(f"rep: {count} repeats and {literal_count} literals cannot make "
                             f"{size} bytes")
        runs = lengths = distances = array("I")
        if count:
            raw_size, coded_size = reader.varint(), reader.varint()
            if raw_size > 3 * MAX_VARINT_BYTES * count or coded_size > len(view) - reader.pos:
                raise CodecError("rep: the references do not fit the payload")
            raw = model_kernel.decode(view[reader.pos:reader.pos + coded_size], raw_size,
                                      REF_ORDER, REF_MEMORY)
            reader.pos += coded_size
            numbers = _Reader(raw)
            runs = _references(numbers, count, 0, size)
            lengths = _references(numbers, count, minimum, size)
            distances = _references(numbers, count, 1, size)
            if numbers.pos != len(raw):
                raise CodecError("rep: bytes left over after the references")
        if sum(runs) > literal_count or literal_count + sum(lengths) != size:
            raise CodecError(f"rep: the repeats and literals do not make {size} bytes")
        literals = view[reader.pos:]
        if literal_count:
            literals = memoryview(model_kernel.decode(literals, literal_count, order, memory))
        elif literals:
            raise CodecError("rep: bytes after the references, but no literals")
        return _execute(runs, lengths, distances, literals, size)


def _execute(runs: array, lengths: array, distances: array, literals: memoryview,
             size: int) -> bytes:
    """The data: each run of literals, then its repeat's copy; then the literals left over."""
    out = bytearray()
    taken = 0
    for run, length, distance in zip(runs, lengths, distances, strict=True):
        out += literals[taken:taken + run]
        taken += run
        if distance > len(out):
            raise CodecError(f"rep: a repeat reaches {distance} bytes back, before the start")
        start = len(out) - distance
        while length > 0:  # an overlapping copy repeats its pattern: the piece doubles
            piece = out[start:start + length]
            out += piece
            length -= len(piece)
    out += literals[taken:]
    if len(out) != size:  # checked in decode already; kept as the invariant of this function
        raise CodecError(f"rep: decoded {len(out)} bytes, expected {size}")
    return bytes(out)


def _references(numbers: _Reader, count: int, offset: int, size: int) -> array:
    """`count` varints plus `offset`: runs, lengths or distances, none of which can exceed the
    block (a varint may hold up to 2**35 - 1, which no array of 32-bit numbers takes)."""
    values = [numbers.varint() + offset for _ in range(count)]
    if values and max(values) > size:
        raise CodecError(f"rep: a reference of {max(values)} bytes in a block of {size}")
    return array("I", values)


@hookimpl
def register_codecs(register: Callable[[type[Codec]], None]) -> None:
    register(RepCodec)
