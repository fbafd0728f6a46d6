"""`ppm`: prediction by partial matching, after Shkarin's PPMII (PPMd var.H/I), with SEE.

Each byte is coded with the statistics of the longest context (up to `order` bytes before it)
that has been seen before; a context that has not seen the byte codes an escape, and the next
shorter context tries, with the bytes already refused excluded. The model is model_kernel.py
(coding a byte), trie_kernel.py (the context trie) and match_kernel.py (the match model);
docs/ppm.md explains escapes, exclusion and SEE with a worked example.

Options (both are recorded in the block header, so the decoder rebuilds the same model):
- `order`: the longest context, 1 to 64 bytes (default 6, the best single setting on the
  Calgary corpus; 16 does better on text with long repeats, at some cost in memory);
- `memory`: the model's memory limit in MiB, 1 to 1024 (default 256). When the trie fills it,
  the model restarts empty and learns again from the next byte (PPMd's "restart" policy); the
  adaptive escape tables are kept. Memory grows by doubling as needed, so small blocks use little.

Payload, version 5: a kind byte (0: the range coder's output follows, starting with the
block size; 1: the data as it is, when modelling would not shrink it), or nothing for an
empty block. The payload and the model both sides compute are specified in
spec/codecs/ppm.md (versions 1 to 4 had other estimates; the layout was the same).
"""

from __future__ import annotations

from collections.abc import Callable

from archiver import Codec, CodecError, Option, hookimpl
from pyarc_plugins.ppm import model_kernel

MODELLED = 0
STORED = 1


def stored_block(name: str, payload: bytes, size: int, modelled: int) -> bytes | None:
    """The block of a payload of kind STORED (its first byte; the block follows), None for one
    of kind `modelled`, CodecError for any other (ppm's and rep's payloads begin so)."""
    if not payload:
        raise CodecError(f"{name}: empty payload for a non-empty block")
    if payload[0] == STORED:
        if len(payload) != size + 1:
            raise CodecError(f"{name}: stored block of {len(payload) - 1} bytes, expected {size}")
        return bytes(payload[1:])
    if payload[0] != modelled:
        raise CodecError(f"{name}: unknown payload kind {payload[0]}")
    return None
MIB = 1 << 20


class PpmCodec(Codec):
    name = "ppm"
    version = 5
    decode_rank = 80
    description = "PPM (PPMII-style context trie, SEE escapes, exclusion), orders up to 64"
    option_specs = (
        Option("order", 6, "longest context in bytes", minimum=1, maximum=64),
        Option("memory", 256, "model memory limit in MiB (the model restarts when full)",
               minimum=1, maximum=1024),
    )
    kernels = ("pyarc_plugins.ppm.model_kernel", "pyarc_plugins.ppm.trie_kernel",
               "pyarc_plugins.ppm.match_kernel")

    def _settings(self) -> tuple[int, int]:
        return int(self.options["order"]), int(self.options["memory"]) * MIB

    def encode(self, data: bytes) -> bytes:
        if not data:
            return b""
        modelled = model_kernel.encode(data, *self._settings())
        if len(modelled) < len(data):
            return bytes([MODELLED]) + modelled
        return bytes([STORED]) + bytes(data)

    def decode(self, payload: bytes, size: int) -> bytes:
        if self.empty_block(payload, size):
            return b""
        stored = stored_block(self.name, payload, size, MODELLED)
        if stored is not None:
            return stored
        return model_kernel.decode(memoryview(payload)[1:], size, *self._settings())


@hookimpl
def register_codecs(register: Callable[[type[Codec]], None]) -> None:
    register(PpmCodec)
