"""`bwt`: the Burrows-Wheeler transform, move-to-front and context-modelled range coding.

The block is cut into BWT blocks of `block` KiB (the last may be shorter); each is transformed
(transform_kernel: suffix array by libdivsufsort, then L and the primary index) and replaced by
its move-to-front ranks (coding/mtf_kernel). The ranks of all BWT blocks, in order, are then
coded as one stream by ranks_kernel, whose adaptive models carry over from block to block.

A container block is one BWT block when it is no larger than `block` (the default 16384 KiB is
the most a BWT block can hold): raise the container's block size (`pyarc pack -b 16M`) to give
the transform more context, which compresses better. The decoder knows the BWT block size from
the block's options, so it knows how many BWT blocks there are and how long each is.

Payload, version 1 (an empty block has an empty payload):

    4 bytes      CRC-32 of the block (zlib's), little-endian: proves the primary indices right
    4 bytes      per BWT block, its primary index (1..length of the BWT block), little-endian
    rest         the range coder's stream of all the ranks (ranks_kernel)
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

import pydivsufsort

from archiver import Codec, CodecError, Option, hookimpl
from pyarc_plugins.bwt import ranks_kernel, transform_kernel
from pyarc_plugins.coding import mtf_kernel

KIB = 1024
MAX_BLOCK_KIB = transform_kernel.MAX_BLOCK // KIB


class BwtCodec(Codec):
    name = "bwt"
    version = 1
    description = "Burrows-Wheeler transform, move-to-front, context-modelled range coding"
    option_specs = (
        Option("block", MAX_BLOCK_KIB, "BWT block size in KiB (bigger compresses better)",
               minimum=1, maximum=MAX_BLOCK_KIB),
    )
    kernels = (
        "pyarc_plugins.bwt.transform_kernel",
        "pyarc_plugins.bwt.ranks_kernel",
        "pyarc_plugins.coding.mtf_kernel",
        "pyarc_plugins.coding.dual_rate_kernel",
        "pyarc_plugins.coding.rangecoder_kernel",
    )

    def _block_bytes(self) -> int:
        return int(self.options["block"]) * KIB

    def encode(self, data: bytes) -> bytes:
        if not data:
            return b""
        step = self._block_bytes()
        primaries = []
        ranks = []
        for start in range(0, len(data), step):
            piece = data[start:start + step]
            last, primary = transform_kernel.forward(piece, pydivsufsort.divsufsort(piece))
            primaries.append(primary)
            ranks.append(mtf_kernel.mtf_encode(last))
        header = struct.pack(f"<I{len(primaries)}I", zlib.crc32(data), *primaries)
        return header + ranks_kernel.encode(b"".join(ranks))

    def decode(self, payload: bytes, size: int) -> bytes:
        if size == 0:
            if payload:
                raise CodecError(f"bwt: {len(payload)} bytes of payload for an empty block")
            return b""
        step = self._block_bytes()
        blocks = -(-size // step)
        header = 4 + 4 * blocks
        if len(payload) < header:
            raise CodecError(f"bwt: a payload of {len(payload)} bytes is shorter than its "
                             f"{header}-byte header")
        crc, *primaries = struct.unpack_from(f"<I{blocks}I", payload)
        ranks = ranks_kernel.decode(memoryview(payload)[header:], size)
        pieces = []
        for index, primary in enumerate(primaries):
            last = mtf_kernel.mtf_decode(ranks[index * step:(index + 1) * step])
            pieces.append(transform_kernel.inverse(last, primary))
        data = b"".join(pieces)
        if zlib.crc32(data) != crc:
            raise CodecError("bwt: the decoded block fails its CRC-32")
        return data


@hookimpl
def register_codecs(register: Callable[[type[Codec]], None]) -> None:
    register(BwtCodec)
