"""`bwt`: the Burrows-Wheeler transform, then context-modelled range coding of its output.

The block is cut into BWT blocks of `block` KiB (the last may be shorter); each is transformed
(transform_kernel: suffix array by libdivsufsort, then L and the primary index). The outputs of
all BWT blocks, in order, are then coded as one stream by the second stage, whose adaptive
models carry over from one BWT block to the next. Two second stages (option `stage`):

- `runs` (default): run flags ("same as the previous byte?", "the byte before that run?"),
  modelled bits for the other bytes, long runs as one count (runs_kernel). 2.005 bpc on
  Calgary-14, 5% below bzip2 -9.
- `cm`: each byte bit by bit under mixed order-0/order-1 models and an APM
  (context_model_kernel). 2% smaller than `runs`, up to twice as slow.

A container block is one BWT block when it is no larger than `block` (the default, 16384 KiB,
is the most a BWT block can hold): raise the container's block size (`pyarc pack -b 16M`) to
give the transform more context, which compresses better. The decoder knows the BWT block size
from the block's options, so it knows how many BWT blocks there are and how long each is.

Payload version 2: a CRC-32 of the block, four rows per BWT block (the primary index and three
checkpoints for the inverse's walks), then the second stage's range-coded stream. The payload
is specified in spec/codecs/bwt.md.
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

from archiver import Codec, CodecError, Option, hookimpl
from pyarc_plugins.bwt import context_model_kernel, runs_kernel, transform_kernel
from pyarc_plugins.coding import rangecoder_kernel

KIB = 1024
#: The rows stored per BWT block (transform_kernel.CHAINS, a C constant when compiled).
CHAINS = 4
MAX_BLOCK_KIB = transform_kernel.MAX_BLOCK // KIB


class BwtCodec(Codec):
    name = "bwt"
    version = 2
    decode_rank = 50
    description = "Burrows-Wheeler transform and context-modelled range coding (bzip2's kind)"
    option_specs = (
        Option("block", MAX_BLOCK_KIB, "BWT block size in KiB (bigger compresses better)",
               minimum=1, maximum=MAX_BLOCK_KIB),
        Option("stage", "runs", "second stage: runs (fast) or cm (2% smaller, up to 2x slower)",
               choices=("runs", "cm")),
    )
    kernels = (
        "pyarc_plugins.bwt.transform_kernel",
        "pyarc_plugins.bwt.runs_kernel",
        "pyarc_plugins.bwt.context_model_kernel",
        "pyarc_plugins.coding.rangecoder_kernel",
    )

    def _block_bytes(self) -> int:
        return int(self.options["block"]) * KIB

    def _stage(self) -> ModuleType:
        """The kernel of the second stage the options choose."""
        return runs_kernel if self.options["stage"] == "runs" else context_model_kernel

    def encode(self, data: bytes) -> bytes:
        if not data:
            return b""
        step = self._block_bytes()
        rows: list[int] = []
        outputs = []
        for start in range(0, len(data), step):
            piece = data[start:start + step]
            last, piece_rows = transform_kernel.forward(piece, _suffix_array(piece))
            rows += piece_rows
            outputs.append(last)
        header = struct.pack(f"<I{len(rows)}I", zlib.crc32(data), *rows)
        stream = bytearray().join(outputs)  # (the stage writes each byte back as it was)
        encoder = rangecoder_kernel.RangeEncoder(len(stream) // 3 + 64)
        self._stage().code(encoder, stream)
        return header + encoder.finish()

    def decode(self, payload: bytes, size: int) -> bytes:
        if self.empty_block(payload, size):
            return b""
        step = self._block_bytes()
        blocks = -(-size // step)
        header = 4 + 4 * CHAINS * blocks
        if len(payload) < header:
            raise CodecError(f"bwt: a payload of {len(payload)} bytes is shorter than its "
                             f"{header}-byte header")
        crc, *rows = struct.unpack_from(f"<I{CHAINS * blocks}I", payload)
        stream = bytearray(size)
        decoder = rangecoder_kernel.RangeDecoder(memoryview(payload)[header:])
        self._stage().code(decoder, stream)
        decoder.finish()  # CodecError unless the stream ended exactly after the last byte
        outputs = memoryview(stream)
        pieces = []
        for index in range(blocks):
            last = outputs[index * step:(index + 1) * step]
            piece_rows = tuple(rows[index * CHAINS:(index + 1) * CHAINS])
            pieces.append(transform_kernel.inverse(last, piece_rows))
        del stream, outputs, last  # memory: at most the pieces and their join from here on
        data = b"".join(pieces)
        if zlib.crc32(data) != crc:
            raise CodecError("bwt: the decoded block fails its CRC-32")
        return data


@hookimpl
def register_codecs(register: Callable[[type[Codec]], None]) -> None:
    register(BwtCodec)


@functools.cache
def _openmp() -> Any:
    """threadpoolctl's handle on the OpenMP runtime that libdivsufsort is built with (made once,
    after pydivsufsort is loaded, so that it finds that runtime)."""
    import pydivsufsort  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _suffix_array(data: bytes) -> Any:
    """libdivsufsort's suffix array of `data`, sorted on the calling thread alone. Its OpenMP
    threads gain nothing here (pack already compresses one block per core: 185 ms either way
    for 3 MB) and cost 3 to 7 ms per call on a busy 2-core machine, which every call pays,
    however small the block: the index and tables of each archive are tried with bwt."""
    # Imported here: it brings numpy, which decoding (and so `pyarc list`) does not need.
    from pydivsufsort import divsufsort

    with _openmp().limit(limits=1, user_api="openmp"):
        return divsufsort(data)

