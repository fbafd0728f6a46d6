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
from types import ModuleType
from typing import ClassVar

from archiver import Codec, Option, hookimpl
from pyarc_plugins.coding.kind_byte import ModelledCodec
from pyarc_plugins.ppm import model_kernel

MIB = 1 << 20


class PpmCodec(ModelledCodec):
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

    model_kernel: ClassVar[ModuleType] = model_kernel

    def settings(self, version: int) -> tuple[int, int]:
        return int(self.options["order"]), int(self.options["memory"]) * MIB


@hookimpl
def register_codecs(register: Callable[[type[Codec]], None]) -> None:
    register(PpmCodec)
