"""The policy of pyarc's own codecs: which ones `--codec auto` tries on each kind of data, and
which ones compress the archive's tables and index. The core names no codec: it asks these hooks
(archiver/hookspecs.py), and without this plugin tries every installed codec and stores the
tables.
"""

from __future__ import annotations

from archiver import hookimpl
from archiver.grouping import BINARY, COMPRESSED, EXECUTABLE, TEXT

#: The candidates of `auto` per kind group (each block keeps the smallest; `store` is always the
#: fallback). rep:order=16 was the smallest on the stdlib and repository text (order 12 is
#: 0.3% smaller on the Linux headers, 1% larger elsewhere) and on the bytecode-heavy blocks of
#: a 100 MB tar of a Python installation's library. In binary data, bwt:stage=cm wins on tables
#: and images (Calgary geo, pic), at half rep's time, and lz77:level=8 (optimal parse, LZMA-style
#: tokens) on object code, where PPM loses its context at each field that changes: 16% below
#: rep:order=16 on 4 MiB of the static libpython, 10% off the whole tar (docs/solid.md). Compressed
#: data gets lz77:level=1 only, for the copies between compressed files (pyarc's own frozen
#: test archives: 8% smaller), at 11 MB/s on bytes that do not shrink; the rest is stored.
AUTO_CANDIDATES: dict[str, tuple[str, ...]] = {
    TEXT: ("rep:order=16",),
    BINARY: ("rep:order=16", "bwt:stage=cm", "lz77:level=8"),
    EXECUTABLE: ("rep:order=16", "bwt:stage=cm", "lz77:level=8"),
    COMPRESSED: ("lz77:level=1",),
}

#: The codecs of tables and the index: built-in ones (an archive lists without the plugin its
#: data needs) that decode fast, since `pyarc list` decodes the whole index.
METADATA_CODECS = ("lz77", "bwt")


@hookimpl
def auto_candidates() -> dict[str, tuple[str, ...]]:
    return AUTO_CANDIDATES


@hookimpl
def metadata_codecs() -> tuple[str, ...]:
    return METADATA_CODECS
