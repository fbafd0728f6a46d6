"""The policy of pyarc's own codecs: which ones `--codec auto` tries on each kind of data at each
compression level, and which ones compress the archive's tables and index. The core names no
codec: it asks these hooks (archiver/hookspecs.py), and without this plugin tries every
installed codec and stores the tables.
"""

from __future__ import annotations

from collections.abc import Mapping

from archiver import hookimpl
from archiver.grouping import BINARY, COMPRESSED, EXECUTABLE, TEXT
from archiver.levels import DEFAULT_LEVEL

Candidates = Mapping[str, tuple[str, ...]]

#: The candidates of `auto` per kind group at the default level (each block keeps the
#: smallest; `store` is always the fallback). rep:order=16 was the smallest on the stdlib and
#: repository text (order 12 is 0.3% smaller on the Linux headers, 1% larger elsewhere) and on
#: the bytecode-heavy blocks of a 100 MB tar of a Python installation's library. In binary
#: data, bwt:stage=cm wins on tables and images (Calgary geo, pic), at half rep's time, and
#: lz77:level=8 (optimal parse, LZMA-style tokens) on object code, where PPM loses its context
#: at each field that changes: 16% below rep:order=16 on 4 MiB of the static libpython, 10% off
#: the whole tar (docs/solid.md). Compressed data gets lz77:level=1 only, for the copies
#: between compressed files (pyarc's own frozen test archives: 8% smaller), at 11 MB/s on bytes
#: that do not shrink; the rest is stored.
AUTO_CANDIDATES: Candidates = {
    TEXT: ("rep:order=16",),
    BINARY: ("rep:order=16", "bwt:stage=cm", "lz77:level=8"),
    EXECUTABLE: ("rep:order=16", "bwt:stage=cm", "lz77:level=8"),
    COMPRESSED: ("lz77:level=1",),
}


def _everywhere(*specs: str, compressed: tuple[str, ...] = ("lz77:level=1,coder=huffman",),
                ) -> Candidates:
    """The same candidates for every kind of data but compressed data (`compressed`)."""
    return {TEXT: specs, BINARY: specs, EXECUTABLE: specs, COMPRESSED: compressed}


#: Level -> the candidates per kind group. 1-3 are one LZ77 parse with Huffman-coded tokens
#: (decoding at 0.8x zlib's speed whatever the level): level 1 packs Calgary at 1.6x zlib -6's
#: speed, smaller than zlib -6. 4 and 5 are BWT (bzip2's kind), 6 the default, 7 and 8 add
#: candidates at a few tenths of a percent each.
LEVELS: dict[int, Candidates] = {
    1: _everywhere("lz77:level=1,coder=huffman"),
    2: _everywhere("lz77:level=4,coder=huffman"),
    3: _everywhere("lz77:level=6,coder=huffman"),
    4: {TEXT: ("bwt",), BINARY: ("bwt", "lz77:level=8"), EXECUTABLE: ("lz77:level=8",),
        COMPRESSED: ("lz77:level=1",)},
    5: {TEXT: ("bwt:stage=cm",), BINARY: ("bwt:stage=cm", "lz77:level=8"),
        EXECUTABLE: ("bwt:stage=cm", "lz77:level=8"), COMPRESSED: ("lz77:level=1",)},
    DEFAULT_LEVEL: AUTO_CANDIDATES,
    7: {TEXT: ("rep:order=16", "bwt:stage=cm"),
        BINARY: ("rep:order=16", "bwt:stage=cm", "lz77:level=9"),
        EXECUTABLE: ("rep:order=16", "bwt:stage=cm", "lz77:level=9"),
        COMPRESSED: ("lz77:level=8",)},
    8: {TEXT: ("rep:order=16", "rep:order=12", "ppm", "bwt:stage=cm"),
        BINARY: ("rep:order=16", "rep:order=12", "bwt:stage=cm", "lz77:level=9"),
        EXECUTABLE: ("rep:order=16", "rep:order=12", "bwt:stage=cm", "lz77:level=9"),
        COMPRESSED: ("lz77:level=9",)},
}
#: Level 9 puts cm, context mixing, first: 7% below rep on Calgary, at a fifth of its speed.
LEVELS[9] = {group: ("cm", *specs) if group != COMPRESSED else specs
             for group, specs in LEVELS[8].items()}

#: The codecs of tables and the index: built-in ones (an archive lists without the plugin its
#: data needs) that decode fast, since `pyarc list` decodes the whole index.
METADATA_CODECS = ("lz77", "bwt")


@hookimpl
def auto_candidates(level: int) -> Candidates:
    return LEVELS[level]


@hookimpl
def metadata_codecs() -> tuple[str, ...]:
    return METADATA_CODECS
